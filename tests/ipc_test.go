package tests

// IPC between tasks in different rings and address spaces (package ipc, core/kernel/ipc.go).

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// ipcPolicy grants the test servers and clients their endpoints.
const ipcPolicy = `
module ipcserver
    binary tests/testdata/apps/ipcserver
    ring   2
    serves echo slow
    restart on-failure
end
module ipcserver-2
    binary tests/testdata/apps/ipcserver
    ring   1
    serves drv
    restart never
end
module ipcclient
    binary tests/testdata/apps/ipcclient
    ring   3
    calls  echo slow
    restart never
end
module ipcclient-2
    binary tests/testdata/apps/ipcclient
    ring   3
    calls  drv
    restart never
end
`

func TestIPCCallsBetweenRings(t *testing.T) {
	t.Parallel()
	res := bootAppsWithPolicy(t, ipcPolicy, "", time.Minute, nil,
		"ring=2 ipcserver echo lifetime=4s", "ring=3 ipcclient echo basic 2000",
		"ring=1 ipcserver drv lifetime=4s", "ring=3 ipcclient drv basic 500")
	out := string(res.Output)
	assert.Regexp(t, `\[ipcclient\] ipcclient: 2000 calls ok in \S+, server saw badge=\d+`, out)
	assert.Regexp(t, `\[ipcclient-2\] ipcclient: 500 calls ok in \S+, server saw badge=\d+`, out)
	assert.Equal(t, "app ipcclient exited 0", summary(t, res.Output, "ipcclient"))
	assert.Equal(t, "app ipcclient-2 exited 0", summary(t, res.Output, "ipcclient-2"))
}

func TestIPCPeerDeathThenRestart(t *testing.T) {
	t.Parallel()
	res := bootAppsWithPolicy(t, ipcPolicy, "", time.Minute, nil,
		"ring=2 ipcserver echo lifetime=4s", "ring=3 ipcclient echo peerdeath")
	out := string(res.Output)
	assert.Contains(t, out, "[ipcclient] ipcclient: peer died during the call")
	assert.Regexp(t, `app ipcserver faulted: page fault \(#PF\) at main\.main\.func\d+\+0x[0-9a-f]+ addr=0x0 \[ring 2.*restart in`, out)
	assert.Contains(t, out, "[ipcclient] ipcclient: calls succeed again after the server's restart")
	assert.Equal(t, "app ipcclient exited 0", summary(t, res.Output, "ipcclient"))
}

func TestIPCCallTimesOut(t *testing.T) {
	t.Parallel()
	res := bootAppsWithPolicy(t, ipcPolicy, "", time.Minute, nil, "ring=2 ipcserver slow lifetime=3s", "ipcclient slow timeout")
	assert.Regexp(t, `\[ipcclient\] ipcclient: unanswered call timed out after 2\d0ms`, string(res.Output))
	assert.Equal(t, "app ipcclient exited 0", summary(t, res.Output, "ipcclient"))
}

func TestIPCDeniedByPolicyWithAuditLine(t *testing.T) {
	t.Parallel()
	// ipcclient-2 may call only "drv": its call to "echo" is refused. ipcserver-2 may serve
	// only "drv": registering "echo2" is refused. Unlisted tasks (ipcclient-3) may do neither.
	res := bootAppsWithPolicy(t, ipcPolicy, "", time.Minute, nil,
		"ring=2 ipcserver echo lifetime=3s", "ring=1 ipcserver echo2 lifetime=1s", "ipcclient echo basic 10", "ipcclient echo denied", "ipcclient echo denied")
	out := string(res.Output)
	assert.Regexp(t, `(?m)^audit: deny ipcserver-2 \(pid \d+, ring 1\) register "echo2": not in its policy 'serves' list$`, out)
	assert.Contains(t, out, "[ipcserver-2] ipcserver: register echo2: ipc: denied by policy")
	assert.Regexp(t, `(?m)^audit: deny ipcclient-2 \(pid \d+, ring 3\) call "echo": not in its policy 'calls' list$`, out)
	assert.Regexp(t, `(?m)^audit: deny ipcclient-3 \(pid \d+, ring 3\) call "echo": not in its policy 'calls' list$`, out)
	assert.Contains(t, out, "[ipcclient-2] ipcclient: denied: ipc: denied by policy")
	assert.Equal(t, "app ipcclient exited 0", summary(t, res.Output, "ipcclient"), "the allowed client is unaffected")
	assert.Equal(t, "app ipcclient-2 exited 0", summary(t, res.Output, "ipcclient-2"))
	assert.Equal(t, "app ipcclient-3 exited 0", summary(t, res.Output, "ipcclient-3"))
}

func TestIPCPageGrantRoundTrip(t *testing.T) {
	t.Parallel()
	res := bootAppsWithPolicy(t, ipcPolicy, "", time.Minute, nil, "ring=2 ipcserver echo lifetime=3s", "ipcclient echo grant")
	out := string(res.Output)
	assert.Regexp(t, `\[ipcclient\] ipcclient: server read 3 lent pages at 0x7e[0-9a-f]+ \(mine at 0x[0-9a-f]+\): sum \d+ ok`, out)
	assert.Regexp(t, `app ipcserver faulted: page fault \(#PF\) at main\.main\.func\d+\+0x[0-9a-f]+ addr=0x7e[0-9a-f]+`, out)
	assert.Contains(t, out, "[ipcclient] ipcclient: a server writing into lent pages died; my pages are unchanged")
	assert.Equal(t, "app ipcclient exited 0", summary(t, res.Output, "ipcclient"))
}

package tests

// IPC between tasks in different rings and address spaces (package ipc, core/kernel/ipc.go).

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestIPCCallsBetweenRings(t *testing.T) {
	t.Parallel()
	res := bootApps(t, "", time.Minute, nil,
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
	res := bootApps(t, "restart=on-failure backoff=5", time.Minute, nil,
		"ring=2 ipcserver echo lifetime=4s", "ring=3 ipcclient echo peerdeath")
	out := string(res.Output)
	assert.Contains(t, out, "[ipcclient] ipcclient: peer died during the call")
	assert.Regexp(t, `app ipcserver faulted: page fault \(#PF\) at main\.main\.func\d+\+0x[0-9a-f]+ addr=0x0 \[ring 2.*restart in`, out)
	assert.Contains(t, out, "[ipcclient] ipcclient: calls succeed again after the server's restart")
	assert.Equal(t, "app ipcclient exited 0", summary(t, res.Output, "ipcclient"))
}

func TestIPCCallTimesOut(t *testing.T) {
	t.Parallel()
	res := bootApps(t, "", time.Minute, nil, "ring=2 ipcserver slow lifetime=3s", "ipcclient slow timeout")
	assert.Regexp(t, `\[ipcclient\] ipcclient: unanswered call timed out after 2\d0ms`, string(res.Output))
	assert.Equal(t, "app ipcclient exited 0", summary(t, res.Output, "ipcclient"))
}

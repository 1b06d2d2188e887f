package tests

// Containment against hostile tasks: each test here attacks one interface of the core the way
// a malicious module would, from rings 1, 2 and 3, and checks that the core survives, the
// attacker gets an error or a fault, and bystanders are untouched. Each started as the
// reproduction of a hole (docs/security.md lists them).

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Hole 1: trap entry took "came from the kernel" from bit 63 of the interrupted RSP, which the
// task chooses, and built its trap frame at that address of the core's direct map.
func TestTrapWithAKernelStackPointerIsTheTasks(t *testing.T) {
	t.Parallel()
	var apps []string
	for _, ring := range []int{1, 2, 3} {
		apps = append(apps,
			fmt.Sprintf("ring=%d attack ksp 0xffff800000400000", ring),
			fmt.Sprintf("ring=%d attack kspin 0xffff800000400000", ring),
			fmt.Sprintf("ring=%d attack ksp 0xffffff800000a000", ring), // the top of its own entry stack
		)
	}
	res := bootApps(t, "", 2*time.Minute, nil, append(apps, "hello")...)
	for i := range apps {
		name := "attack"
		if i > 0 {
			name = fmt.Sprintf("attack-%d", i+1)
		}
		assert.Equal(t, "app "+name+" exited 0", summary(t, res.Output, name), apps[i])
	}
	assert.Regexp(t, `\[attack-2\] attack: ring 1: 1 attacks, 1 passed, 0 breaches, 0 mismatches`, string(res.Output))
	assert.Equal(t, "app hello exited 0", summary(t, res.Output, "hello"))
}

// The instruction-level attacks of inject/attack (hostile stacks with every trap, every INT n,
// RFLAGS bits, privileged and I/O instructions, accesses and jumps into the kernel, segment
// loads and far returns), from every ring at once.
func TestInstructionLevelAttacksFromEveryRing(t *testing.T) {
	t.Parallel()
	res := bootApps(t, "", 3*time.Minute, nil, "ring=1 attack insns", "ring=2 attack insns", "ring=3 attack insns", "hello")
	out := string(res.Output)
	for i, ring := range []int{1, 2, 3} {
		name := "attack"
		if i > 0 {
			name = fmt.Sprintf("attack-%d", i+1)
		}
		assert.Regexp(t, fmt.Sprintf(`\[%s\] attack: ring %d: (\d+) attacks, (\d+) passed, 0 breaches, 0 mismatches`, name, ring), out)
		assert.Equal(t, "app "+name+" exited 0", summary(t, res.Output, name))
	}
	assert.NotContains(t, out, "attack: breach")
	assert.Equal(t, "app hello exited 0", summary(t, res.Output, "hello"))
}

// Hole 2: a page grant outlived its call when the caller gave up (timeout, EINTR) or unmapped
// the lent page under it, and the server could map over its grant or make it writable.
func TestPageGrantsEndWithTheirCall(t *testing.T) {
	t.Parallel()
	manifest := `
module attack
    binary tests/testdata/apps/attack
    ring   2
    serves grant-test
    restart never
end
module attack-2
    binary tests/testdata/apps/attack
    ring   3
    calls  grant-test
    restart never
end
`
	res := bootAppsWithPolicy(t, manifest, "", 2*time.Minute, nil, "ring=2 attack grant-serve", "attack grant-call", "hello")
	out := string(res.Output)
	assert.NotContains(t, out, "BREACH")
	for call := 1; call <= 3; call++ {
		assert.Contains(t, out, fmt.Sprintf("[attack] attack: grant-serve: call %d: the grant is gone", call))
	}
	assert.Contains(t, out, "[attack-2] attack: grant-call: call 1: ipc: timed out")
	assert.Contains(t, out, "[attack-2] attack: grant-call: call 2: interrupted system call")
	assert.Contains(t, out, "[attack-2] attack: grant-call: done")
	assert.Equal(t, "app attack exited 0", summary(t, res.Output, "attack"))
	assert.Equal(t, "app attack-2 exited 0", summary(t, res.Output, "attack-2"))
	assert.Equal(t, "app hello exited 0", summary(t, res.Output, "hello"))
}

// Hole 3: the kernel took every present PTE for RAM in its direct map: device memory passed as
// a buffer made it fault (above the direct map's end) or touch the device through a cached
// alias (below it).
func TestDeviceMemoryIsNoBuffer(t *testing.T) {
	t.Parallel()
	manifest := `
module attack
    binary tests/testdata/apps/attack
    ring   1
    memory 0xfed00000-0xfed00fff   # the HPET, above the direct map's end
    restart never
end
module attack-2
    binary tests/testdata/apps/attack
    ring   1
    memory 0xb8000-0xb8fff         # VGA text memory, inside the direct map
    restart never
end
`
	res := bootAppsWithPolicy(t, manifest, "", time.Minute, nil, "ring=1 attack mmio-buf 0xfed00000", "ring=1 attack mmio-buf 0xb8000", "hello")
	out := string(res.Output)
	assert.NotContains(t, out, "BREACH")
	for _, name := range []string{"attack", "attack-2"} {
		assert.Regexp(t, `\[`+name+`\] attack: mmio-buf: 0x[0-9a-f]+ mapped at 0x7d`, out)
		assert.Contains(t, out, "["+name+"] attack: mmio-buf: write: bad address")
		assert.Contains(t, out, "["+name+"] attack: mmio-buf: getrandom into it: bad address")
		assert.Equal(t, "app "+name+" exited 0", summary(t, res.Output, name))
	}
	assert.Equal(t, "app hello exited 0", summary(t, res.Output, "hello"))
}

// A policy that grants RAM as device memory would hand a driver the kernel's own frames: the
// core refuses it at boot, naming the module and the range.
func TestPolicyGrantingRAMAsDeviceMemoryIsRejected(t *testing.T) {
	t.Parallel()
	manifest := `
module attack
    binary tests/testdata/apps/attack
    ring   1
    memory 0x200000-0x200fff       # the core image
    restart never
end
`
	res := bootWith(t, manifest, "", time.Minute, nil, "ring=1 attack mmio-buf 0x200000")
	assert.Equal(t, 3, res.Status)
	assert.Regexp(t, `core: policy rejected, no task started:[\s\S]*module "attack": memory 0x200000-0x200fff is RAM`, string(res.Output))
	assert.NotContains(t, string(res.Output), "mapped at")
}

// Hole 4: writev walked 1024 iovecs of any length byte by byte with interrupts off; five such
// calls stalled the machine for minutes. Every call now does bounded work.
func TestHugeWritevDoesNotStallTheSystem(t *testing.T) {
	t.Parallel()
	res := bootApps(t, "", 2*time.Minute, nil, "attack flood", "ring=2 attack ticker 6000", "hello")
	out := string(res.Output)
	assert.Regexp(t, `attack: flood: wrote \d+ bytes in 5 calls`, out)
	gap := field(t, res.Output, `\[attack-2\] attack: ticker: largest gap (\d+) ms`)
	assert.Less(t, gap[0], 1000, "the ticker was held up while the flood ran")
	assert.Equal(t, "app hello exited 0", summary(t, res.Output, "hello"))
}

// Hole 6: pipe reads and epoll waits kept their descriptor across a blocking wait: after a
// sibling closed it, the waiter used whatever took its slot (another pipe, the core's epoll).
func TestDescriptorsClosedUnderABlockingCall(t *testing.T) {
	t.Parallel()
	res := bootApps(t, "", time.Minute, nil, "attack pipe-reuse", "ring=1 attack epoll-reuse", "ring=2 attack epoll-reuse", "hello")
	out := string(res.Output)
	assert.NotContains(t, out, "BREACH")
	assert.Contains(t, out, "[attack] attack: pipe-reuse: the reader got \"bad file descriptor\"")
	assert.Contains(t, out, "[attack-2] attack: epoll-reuse: epoll_wait after close: 0 events, bad file descriptor")
	assert.Equal(t, "app hello exited 0", summary(t, res.Output, "hello"))
}

// Hole 7: names compared with j < n&31 compared nothing at 32 bytes: a task allowed to call
// one 32-byte endpoint could call every one, and a second 32-byte name could not register.
func TestThirtyTwoByteNamesAreComparedInFull(t *testing.T) {
	t.Parallel()
	a, b := "endpoint-name-of-thirty-two-by-a", "endpoint-name-of-thirty-two-by-b"
	manifest := `
module attack
    binary tests/testdata/apps/attack
    ring   2
    serves ` + a + ` ` + b + `
    restart never
end
module attack-2
    binary tests/testdata/apps/attack
    ring   3
    calls  ` + a + `
    restart never
end
`
	res := bootAppsWithPolicy(t, manifest, "", time.Minute, nil, "ring=2 attack names-serve "+a+" "+b, "attack names-call "+a+" "+b)
	out := string(res.Output)
	assert.Contains(t, out, "[attack] attack: names-serve: serving "+a)
	assert.Contains(t, out, "[attack] attack: names-serve: serving "+b)
	assert.Contains(t, out, "[attack-2] attack: names-call: "+a+": found")
	assert.Contains(t, out, "[attack-2] attack: names-call: "+b+": ipc: denied by policy")
	assert.Regexp(t, `(?m)^audit: deny attack-2 \(pid \d+, ring 3\) call "`+b+`": not in its policy 'calls' list$`, out)
}

// Hole 8: every start of a module with an event filter took one of eight global filter slots
// for good: a crashing module stopped starting after a few restarts.
func TestEventFiltersOfRestartedModulesAreFreed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFilter(t, dir+"/drop13.bpf", denyIfEqual(24, 13))
	manifest := `
module crashloop
    binary tests/testdata/apps/crashloop
    ring   2
    events pipe.created
    filter pipe.created ` + dir + `/drop13.bpf
    restart always
    crashes 100/1s
end
`
	res := bootAppsWithPolicy(t, manifest, "maxstarts=12", 2*time.Minute, nil, "ring=2 crashloop", "heartbeat 150")
	out := string(res.Output)
	assert.NotContains(t, out, "failed to start")
	assert.Equal(t, 12, strings.Count(out, "[crashloop] crashloop: starting"))
}

// Hole 9: event_post had no policy check: any task could publish any event to the security
// modules.
func TestPublishingAnEventNeedsAGrant(t *testing.T) {
	t.Parallel()
	manifest := `
module eventwatch
    binary tests/testdata/apps/eventwatch
    ring   2
    events pipe.created
    restart never
end
`
	res := bootAppsWithPolicy(t, manifest, "", time.Minute, nil, "ring=2 eventwatch pipe.created", "attack post pipe.created", "ring=1 attack post pipe.created")
	out := string(res.Output)
	assert.Contains(t, out, "[attack] attack: post: pipe.created: operation not permitted")
	assert.Contains(t, out, "[attack-2] attack: post: pipe.created: operation not permitted")
	assert.Regexp(t, `(?m)^audit: deny attack \(pid \d+, ring 3\) publish "pipe.created": not in its policy 'publishes' list$`, out)
	assert.Contains(t, out, "[eventwatch] eventwatch: quiet, 0 events")
}

// Hole 5: global tables (threads, pipes, epoll instances, eventfds) that tasks can empty: five
// tasks taking all they can must leave the core and a bystander able to work.
func TestExhaustedTablesLeaveOthersWorking(t *testing.T) {
	t.Parallel()
	res := bootApps(t, "", 2*time.Minute, nil, "attack exhaust", "ring=2 attack exhaust", "ring=1 attack exhaust", "attack exhaust", "ring=2 attack exhaust",
		"attack after-exhaust", "hello")
	out := string(res.Output)
	assert.NotContains(t, out, "BREACH")
	assert.Contains(t, out, "attack: after-exhaust: done")
	assert.Equal(t, "app attack-6 exited 0", summary(t, res.Output, "attack-6"))
	assert.Equal(t, "app hello exited 0", summary(t, res.Output, "hello"))
}

// Hole 5: memory quotas overcommitted RAM: four hogs with the default quota took the frames
// the core and everyone else needed.
func TestMemoryHogsCannotStarveTheCoreOrOthers(t *testing.T) {
	t.Parallel()
	res := bootApps(t, "", 2*time.Minute, nil, "memhog", "ring=2 memhog", "ring=1 memhog", "memhog", "attack alloc 4000 1", "hello")
	out := string(res.Output)
	for _, name := range []string{"memhog", "memhog-2", "memhog-3", "memhog-4"} {
		assert.Regexp(t, `^app `+name+` (killed: memory quota exceeded|killed: out of memory .*|failed to start: .*memory.*)$`, summary(t, res.Output, name))
	}
	assert.Contains(t, out, "[attack] attack: alloc: 1 MiB allocated and touched", "a bystander within its reservation")
	assert.Equal(t, "app attack exited 0", summary(t, res.Output, "attack"))
	assert.Equal(t, "app hello exited 0", summary(t, res.Output, "hello"))
}

// Hole 5 again, with the hogs holding what they took: four of them keep 60 MiB each (within
// their quota; 240 MiB in all, more than the machine has) while a bystander allocates. Without
// reservations the last hogs and the bystander found no frames left.
func TestMemoryHeldByHogsLeavesReservationsIntact(t *testing.T) {
	t.Parallel()
	hog := "memhog limit=60 hold=6000"
	res := bootApps(t, "", 2*time.Minute, nil, hog, "ring=2 "+hog, "ring=1 "+hog, hog, "attack alloc 3000 2", "hello")
	out := string(res.Output)
	require.NotContains(t, out, "CORE CRASH")
	for _, name := range []string{"memhog", "memhog-2", "memhog-3", "memhog-4"} {
		assert.Regexp(t, `^app `+name+` (exited 0|killed: memory quota exceeded|killed: out of memory .*|failed to start: .*memory.*)$`, summary(t, res.Output, name))
	}
	assert.Contains(t, out, "[attack] attack: alloc: 2 MiB allocated and touched", "a bystander within its reservation")
	assert.Equal(t, "app attack exited 0", summary(t, res.Output, "attack"))
	assert.Equal(t, "app hello exited 0", summary(t, res.Output, "hello"))
}

// Hole 10: the host applied every "disk: write" line anywhere in the transcript, including
// lines a task printed: any task could rewrite the persisted channel file. Content now lives
// on the disk image, written by the core through the file system, and the host reads no
// transcript line to change it; here a ring-3 task prints the old forged line, and a ring-1
// task with the serial port writes it to the UART itself: the line is inert.
func TestTasksCannotForgeDiskWrites(t *testing.T) {
	t.Parallel()
	manifest := `
module attack-2
    binary tests/testdata/apps/attack
    ring   1
    ports  0x3f8-0x3ff
    restart never
end
`
	res := bootAppsWithPolicy(t, manifest, "", time.Minute, nil, "attack forge-disk", "ring=1 attack forge-disk uart")
	assert.Contains(t, string(res.Output), "[attack-2] attack: forge-disk: printed")
	assert.Contains(t, string(res.Output), "\ndisk: write sensor.chan 4 base64 RVZJTA==\n", "the forged line reached the console")
	assert.NotContains(t, string(res.Protocol), "disk: write", "nothing writes content through the protocol channel")
}

// Hole 11: getrandom was one xorshift generator for every task, its state its last output.
func TestGetrandomIsNotPredictable(t *testing.T) {
	t.Parallel()
	res := bootApps(t, "", time.Minute, nil, "attack random", "ring=2 attack random")
	assert.NotContains(t, string(res.Output), "BREACH")
	assert.Equal(t, "app attack exited 0", summary(t, res.Output, "attack"))
}

// Found while fuzzing: every denial wrote an audit line, so a task denied in a loop filled the
// console everyone shares with lines about itself (the fuzzers' campaigns were mostly audit
// lines). Now each task has a burst of 20 lines and 10 a second; the core says how many it
// left out.
func TestAuditLinesAreRateLimited(t *testing.T) {
	t.Parallel()
	res := bootApps(t, "", time.Minute, nil, "attack deny-flood 2000")
	out := string(res.Output)
	lines := regexp.MustCompile(`(?m)^audit: deny attack \(pid \d+, ring 3\) call "not-granted": not in its policy 'calls' list$`).FindAllString(out, -1)
	assert.GreaterOrEqual(t, len(lines), 20, "the first denials are all shown")
	assert.Less(t, len(lines), 60, "2,001 denials made %d audit lines", len(lines))
	assert.Regexp(t, `(?m)^audit: \d+ more denials of attack \(pid \d+\) not shown$`, out)
	assert.Contains(t, out, "[attack] attack: deny-flood: 2001 denied lookups, the last: ipc: denied by policy")
}

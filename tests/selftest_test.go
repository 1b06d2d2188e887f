package tests

import (
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBootWithoutSelftest(t *testing.T) {
	t.Parallel()
	res := bootKernel(t, "", time.Minute)
	require.Equal(t, 0, res.Status)
	require.False(t, res.Crashed)
	require.Regexp(t, `SimpleOS core: \d+ MiB usable, \d+ frames in use`, string(res.Output))
	require.Regexp(t, `core: Go runtime main [\d.]+ ms after kernel entry`, string(res.Output))
	// TCG offers no PCIDs; a KVM host's CPU usually does.
	require.Regexp(t, `, PCIDs (on|off \(the CPU has none\))\r?\n`, string(res.Output))

	res = bootKernel(t, "pcid=off", time.Minute)
	require.Equal(t, 0, res.Status)
	require.Contains(t, string(res.Output), ", PCIDs off (pcid=off)")
}

func TestSelftestPrimes(t *testing.T) {
	t.Parallel()
	cases := map[int]int{100: 25, 1_000_000: 78498, 10_000_000: 664579}
	for n, want := range cases {
		res := bootKernel(t, "selftest=primes:"+strconv.Itoa(n), 3*time.Minute)
		require.Equal(t, 0, res.Status)
		got := field(t, res.Output, `selftest primes N=(\d+) count=(\d+)`)
		assert.Equal(t, []int{n, want}, got)
	}
}

func TestSelftestGC(t *testing.T) {
	t.Parallel()
	res := bootKernel(t, "selftest=gc:256", 3*time.Minute)
	require.Equal(t, 0, res.Status)
	v := field(t, res.Output, `selftest gc MB=(\d+) cycles=(\d+) heap=(\d+)`)
	assert.Equal(t, 256, v[0])
	assert.Greater(t, v[1], 0, "GC cycles")
	assert.Less(t, v[2], 64<<20, "live heap must stay bounded while 256 MiB were allocated")
}

func TestSelftestSleep(t *testing.T) {
	t.Parallel()
	res := bootKernel(t, "selftest=sleep:500", time.Minute)
	require.Equal(t, 0, res.Status)
	v := field(t, res.Output, `selftest sleep MS=(\d+) elapsed=(\d+)`)
	assert.Equal(t, 500, v[0])
	assert.GreaterOrEqual(t, v[1], 500, "slept less than asked")
	assert.Less(t, v[1], 5000, "slept far longer than asked")
}

func TestSelftestPreempt(t *testing.T) {
	t.Parallel()
	res := bootKernel(t, "selftest=preempt", 2*time.Minute)
	require.Equal(t, 0, res.Status)
	v := field(t, res.Output, `selftest preempt spinner=(\d+) ticks=(\d+) gc=(\d+)`)
	assert.Greater(t, v[0], 0, "spinner iterations")
	assert.GreaterOrEqual(t, v[1], 20, "ticks while a goroutine spun")
	assert.GreaterOrEqual(t, v[2], 1, "GC cycles during the spin (needs async preemption)")
}

func TestSelftestFaults(t *testing.T) {
	t.Parallel()
	cases := []struct{ kind, exception, function string }{
		{"ud", `invalid opcode \(#UD\)`, `main\.invalidOpcode`},
		{"gp", `general protection fault \(#GP\)`, `main\.testFault`},
		{"pf", `page fault \(#PF\)`, `main\.testFault`},
		{"div0", `divide error \(#DE\)`, `main\.divideByZero`},
		{"panic", `Go panic`, `main\.testFault`},
	}
	for _, c := range cases {
		res := bootKernel(t, "selftest=fault:"+c.kind, time.Minute)
		assert.Equal(t, 100, res.Status, c.kind)
		assert.True(t, res.Crashed, c.kind)
		line := regexp.MustCompile(`(?m)^CORE CRASH: .*$`).Find(res.Output)
		require.NotNil(t, line, "%s: no CORE CRASH line", c.kind)
		assert.Regexp(t, `^CORE CRASH: `+c.exception+` in `+c.function, string(line), c.kind)
		assert.Regexp(t, `rip=[0-9a-f]{16}`, string(res.Output), c.kind)
		assert.Contains(t, string(res.Output), "stack trace:", c.kind)
	}
}

func TestUnknownSelftest(t *testing.T) {
	t.Parallel()
	res := bootKernel(t, "selftest=bogus", time.Minute)
	assert.Equal(t, 2, res.Status)
	assert.False(t, res.Crashed)
	assert.Contains(t, string(res.Output), `selftest: unknown test "bogus"`)
}

func TestBadSelftestArgument(t *testing.T) {
	t.Parallel()
	res := bootKernel(t, "selftest=primes:lots", time.Minute)
	assert.Equal(t, 1, res.Status)
	assert.Contains(t, string(res.Output), `argument "lots"`)
}

func TestSelftestCustomInterruptHandler(t *testing.T) {
	t.Parallel()
	res := bootKernel(t, "selftest=irq:1000", time.Minute)
	require.Equal(t, 0, res.Status)
	v := field(t, res.Output, `selftest irq vector=(\d+) raised=(\d+) handled=(\d+)`)
	assert.Equal(t, []int{200, 1000, 1000}, v)
}

func TestTimeoutKillsQEMU(t *testing.T) {
	t.Parallel()
	res := bootKernel(t, "halt=no", 3*time.Second)
	assert.Equal(t, 124, res.Status)
	assert.True(t, res.TimedOut)
	assert.Contains(t, string(res.Output), "core: idle (halt=no)")
}

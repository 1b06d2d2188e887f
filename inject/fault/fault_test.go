package fault

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClasses(t *testing.T) {
	cs := Classes()
	require.Len(t, cs, 19)
	assert.Equal(t, NullDeref, cs[0])
	assert.Equal(t, Kill, cs[18])
	seen := map[string]bool{}
	external := 0
	for _, c := range cs {
		assert.False(t, seen[c], "duplicate %s", c)
		seen[c] = true
		assert.True(t, Known(c), c)
		if IsExternal(c) {
			external++
		}
	}
	assert.Equal(t, 3, external)
	assert.True(t, IsExternal(BitflipCode) && IsExternal(BitflipData) && IsExternal(Kill))
	for _, c := range []string{"", "nosuch", "Panic", "panic "} {
		assert.False(t, Known(c), c)
		assert.False(t, IsExternal(c), c)
	}
	cs[0] = "changed"
	assert.Equal(t, NullDeref, Classes()[0], "Classes returns a copy")
}

func TestInjectInProcess(t *testing.T) {
	o, err := Inject(NullDerefRecovered, Targets{}, 1)
	require.NoError(t, err)
	assert.Equal(t, Handled, o)

	// On Linux the IPC system calls do not exist: every call fails with ENOSYS.
	o, err = Inject(BadIPC, Targets{}, 1)
	require.NoError(t, err)
	assert.Equal(t, Handled, o)

	for _, c := range []string{BitflipCode, BitflipData, Kill} {
		o, err = Inject(c, Targets{}, 1)
		require.NoError(t, err)
		assert.Equal(t, External, o, c)
	}

	_, err = Inject("nosuch", Targets{}, 1)
	assert.ErrorContains(t, err, `unknown class "nosuch"`)
}

func TestBadIPCCalls(t *testing.T) {
	tally := badIPC(7)
	assert.GreaterOrEqual(t, tally.calls, 200)
	assert.LessOrEqual(t, tally.calls, 260)
	assert.Zero(t, tally.accepted, "on Linux every IPC call fails with ENOSYS")
}

func TestStormNumbers(t *testing.T) {
	rng := newXorshift(3)
	for range 100000 {
		nr := uint64(stormNr(rng))
		_, skipped := StormSkips[nr]
		assert.False(t, skipped, nr)
		if lo := uint32(nr) &^ 0x4000_0000; lo >= 0x400 && lo < 0x500 {
			t.Fatalf("%#x reaches SimpleOS's own calls", nr)
		}
		if nr >= maxNr && uint32(nr)&^0x4000_0000 < maxNr {
			t.Fatalf("%#x is a Linux call in its low 32 bits", nr)
		}
	}
	for _, nr := range []uint64{60, 231, 62, 11, 10, 56, 15} {
		assert.Contains(t, StormSkips, nr)
	}
	assert.NotEqual(t, newXorshift(0).next(), 0)
	assert.Equal(t, newXorshift(9).next(), newXorshift(9).next())
}

// childEnv selects, in a re-executed test binary, the class TestChild injects ("arm": call
// Arm with the arguments after "--" instead).
const childEnv = "SIMPLEOS_FAULT_CHILD"

// seedEnv is the seed the child passes Inject (default 1), for running a storm by hand.
const seedEnv = "SIMPLEOS_FAULT_SEED"

// TestChild is not a test: it is the child process of the behaviour tests.
func TestChild(t *testing.T) {
	class := os.Getenv(childEnv)
	if class == "" {
		t.Skip("helper process for the behaviour tests")
	}
	if class == "arm" {
		Arm()
		fmt.Printf("child: args %q\n", os.Args[1:])
		time.Sleep(500 * time.Millisecond)
		os.Exit(0)
	}
	switch class {
	case MemExhaust:
		// Bound the address space so the runtime stops the task (on SimpleOS: the quota).
		statm, err := os.ReadFile("/proc/self/statm")
		require.NoError(t, err)
		pages, err := strconv.ParseUint(strings.Fields(string(statm))[0], 10, 64)
		require.NoError(t, err)
		limit := pages*uint64(os.Getpagesize()) + 256<<20
		require.NoError(t, syscall.Setrlimit(syscall.RLIMIT_AS, &syscall.Rlimit{Cur: limit, Max: limit}))
	case ThreadBomb:
		// Likewise for threads (on SimpleOS the core's cap).
		debug.SetMaxThreads(64)
	}
	seed := uint64(1)
	if v := os.Getenv(seedEnv); v != "" {
		var err error
		seed, err = strconv.ParseUint(v, 10, 64)
		require.NoError(t, err)
	}
	fmt.Println("child: injecting")
	o, err := Inject(class, Targets{}, seed)
	fmt.Printf("child: inject returned %v %v\n", o, err)
	os.Exit(0)
}

type childResult struct {
	stdout, stderr string
	code           int
	signal         syscall.Signal // the signal that ended it, if one did
}

// child runs TestChild with class in a fresh process and waits for it. If dir is not empty,
// the child runs in it, with a file there as stdin, so it holds no descriptor to a shared
// file (with stdin on /dev/null, a storm run as root can chmod /dev/null).
func child(t *testing.T, class, dir string, timeout time.Duration, args ...string) childResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], append([]string{"-test.run=^TestChild$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), childEnv+"="+class)
	if dir != "" {
		stdin, err := os.Create(filepath.Join(dir, "stdin"))
		require.NoError(t, err)
		defer stdin.Close()
		cmd.Dir, cmd.Stdin = dir, stdin
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	require.NoError(t, ctx.Err(), "child %s timed out; stderr:\n%s", class, stderr.String())
	r := childResult{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		r.code = ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			r.signal = ws.Signal()
		}
	} else {
		require.NoError(t, err)
	}
	return r
}

// The stack overflow runs past a guard page on a stack without stack checks, as a C thread
// would: the kernel cannot push a signal frame there, and kills the process with SIGSEGV.
func TestStackOverflowHitsTheGuardPage(t *testing.T) {
	r := child(t, StackOverflow, "", 30*time.Second)
	assert.Contains(t, r.stdout, "child: injecting")
	assert.NotContains(t, r.stdout, "inject returned")
	assert.Equal(t, syscall.SIGSEGV, r.signal, "exit %d, stderr:\n%s", r.code, r.stderr)
}

// TestFaultsKillTheProcess checks the classes that end the task on Linux: each child dies
// with the Go runtime's exit status 2, Inject never returned, and stderr shows why.
func TestFaultsKillTheProcess(t *testing.T) {
	for class, want := range map[string][]string{
		NullDeref:     {"SIGSEGV", "nil pointer dereference"},
		OOBRead:       {"SIGSEGV", "0xdead0000"},
		WildWriteCore: {"SIGSEGV", "0x200000"},
		WildWriteTask: {"SIGSEGV"},
		DivZero:       {"integer divide by zero", "SIGFPE"}, // a real #DE, which Go makes a panic
		InvalidOpcode: {"SIGILL"},
		Privileged:    {"SIGSEGV"}, // #GP: Linux sends SIGSEGV
		PortIO:        {"SIGSEGV"},
		Panic:         {"panic: fault injected"},
		MemExhaust:    {"out of memory"},
		ThreadBomb:    {"program exceeds 64-thread limit"},
	} {
		t.Run(class, func(t *testing.T) {
			t.Parallel()
			r := child(t, class, "", 30*time.Second)
			assert.Contains(t, r.stdout, "child: injecting")
			assert.NotContains(t, r.stdout, "inject returned")
			assert.Equal(t, 2, r.code, "stderr:\n%s", r.stderr)
			for _, w := range want {
				assert.Contains(t, r.stderr, w)
			}
		})
	}
}

// TestSyscallStorm runs the storm in a child: random calls might do odd things to the
// process. The child works in a temporary directory (the storm's paths are single names
// relative to it) with a file there as stdin and pipes as stdout and stderr, so nothing it can
// name is shared with the host.
func TestSyscallStorm(t *testing.T) {
	dir := t.TempDir()
	r := child(t, SyscallStorm, dir, 2*time.Minute)
	assert.Contains(t, r.stdout, "child: inject returned handled <nil>", "stderr:\n%s", r.stderr)
	assert.Equal(t, 0, r.code)
}

// TestEndlessLoop checks only that the loop starts and keeps the process running.
func TestEndlessLoop(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestChild$")
	cmd.Env = append(os.Environ(), childEnv+"="+EndlessLoop)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	started := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ok := false
		for sc.Scan() {
			if sc.Text() == "child: injecting" {
				ok = true
				break
			}
		}
		started <- ok
		for sc.Scan() {
		}
		exited <- cmd.Wait()
	}()
	select {
	case ok := <-started:
		require.True(t, ok, "the child did not start the loop")
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("the child did not start")
	}
	select {
	case err := <-exited:
		t.Fatalf("the child ended: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	require.NoError(t, cmd.Process.Kill())
	<-exited
}

func TestArm(t *testing.T) {
	r := child(t, "arm", "", 30*time.Second, "first", "-inject=panic,20,3", "last")
	assert.Contains(t, r.stdout, `child: args ["-test.run=^TestChild$" "--" "first" "last"]`)
	assert.Contains(t, r.stderr, "fault: panic armed: delay 20ms, seed 3")
	assert.Contains(t, r.stderr, "panic: fault injected")
	assert.Equal(t, 2, r.code)

	r = child(t, "arm", "", 30*time.Second, "-inject=nosuch,1", "-inject=null-deref-recovered,0", "-inject=panic,0")
	assert.Contains(t, r.stdout, `child: args ["-test.run=^TestChild$" "--"]`)
	assert.Contains(t, r.stderr, `unknown class "nosuch"`)
	assert.Contains(t, r.stderr, `fault: "-inject=panic,0": one fault per task (ignored)`)
	assert.Contains(t, r.stderr, "fault: null-deref-recovered: handled")
	assert.Equal(t, 0, r.code, "stderr:\n%s", r.stderr)

	r = child(t, "arm", "", 30*time.Second, "-inject=kill,0")
	assert.Contains(t, r.stderr, "fault: kill: external")
	assert.Equal(t, 0, r.code)

	r = child(t, "arm", "", 30*time.Second, "plain")
	assert.Contains(t, r.stdout, `child: args ["-test.run=^TestChild$" "--" "plain"]`)
	assert.Empty(t, r.stderr)
	assert.Equal(t, 0, r.code)
}

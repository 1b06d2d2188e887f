package fuzz

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/abi"
)

// On Linux — a kernel that gets these calls right — the fuzzer must survive its own programs
// and report nothing: every finding here would be the fuzzer's own false alarm. The fuzzing
// runs in a child process, in a directory of its own, with stdin from a file: no call it makes
// can reach anything outside the child (on Linux it leaves out the calls that could: signals
// to other processes, forks, SimpleOS's own numbers).

const childEnv = "SIMPLEOS_FUZZ_CHILD"

// TestChild is the child's body (run only by the tests below).
func TestChild(t *testing.T) {
	mode := os.Getenv(childEnv)
	if mode == "" {
		t.Skip("run by the other tests")
	}
	seed, _ := strconv.ParseUint(os.Getenv(childEnv+"_SEED"), 10, 64)
	batches, _ := strconv.ParseUint(os.Getenv(childEnv+"_BATCHES"), 10, 64)
	first, _ := strconv.ParseUint(os.Getenv(childEnv+"_FIRST"), 10, 64)
	cfg := Config{Seed: seed, Batches: batches, First: first, Out: os.Stdout}
	if mode == "trace" {
		cfg.Trace = os.Stdout
	}
	if mode == "program" {
		steps, err := ParseProgram("program", os.Getenv(childEnv+"_PROGRAM"))
		require.NoError(t, err)
		cfg.Program = steps
	}
	f, err := New(cfg)
	require.NoError(t, err)
	f.Run()
	fmt.Printf("child: pid=%#x tid=%#x\n", os.Getpid(), f.e.tid)
	f.Summary(os.Stdout, "child:")
}

type childResult struct {
	out  string
	code int
}

func runChild(t *testing.T, mode string, seed, first, batches uint64, env ...string) childResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestChild$", "-test.v")
	cmd.Dir = t.TempDir()
	stdin, err := os.Create(cmd.Dir + "/stdin")
	require.NoError(t, err)
	defer stdin.Close()
	cmd.Stdin = stdin
	cmd.Env = append(os.Environ(), childEnv+"="+mode, fmt.Sprintf("%s_SEED=%d", childEnv, seed),
		fmt.Sprintf("%s_BATCHES=%d", childEnv, batches), fmt.Sprintf("%s_FIRST=%d", childEnv, first))
	cmd.Env = append(cmd.Env, env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(3 * time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatalf("the fuzzer hung on Linux; its output:\n%s", out.String())
	}
	return childResult{out.String(), cmd.ProcessState.ExitCode()}
}

var statLine = regexp.MustCompile(`(?m)^child: call (\S+) n=(\d+) ok=(\d+) errnos=(\S+)$`)

func TestFuzzerOnLinuxFindsNothing(t *testing.T) {
	r := runChild(t, "run", 1, 0, 300)
	require.Equal(t, 0, r.code, r.out)
	assert.NotContains(t, r.out, "FINDING")
	m := regexp.MustCompile(`(?m)^child: calls=(\d+) batches=300 findings=0$`).FindStringSubmatch(r.out)
	require.NotNil(t, m, r.out)
	calls, _ := strconv.Atoi(m[1])
	assert.GreaterOrEqual(t, calls, 20000)

	// The programs get past the first EINVAL: the calls that make resources succeed, and the
	// ones that use them see the resources (and every kind of error) too.
	ok := map[string]int{}
	for _, s := range statLine.FindAllStringSubmatch(r.out, -1) {
		ok[s[1]], _ = strconv.Atoi(s[3])
	}
	for _, name := range []string{"pipe2", "eventfd2", "epoll_create1", "epoll_ctl", "read", "write", "mmap", "munmap", "mprotect", "close", "futex", "rt_sigaction", "rt_sigprocmask", "getrandom",
		"openat", "mkdir", "dup", "dup2", "getcwd", "umask"} {
		assert.Positive(t, ok[name], "no %s succeeded", name)
	}
}

// A batch is its seed: the same seed and batch number give the same program.
func TestBatchesReproduce(t *testing.T) {
	prog := func() string {
		r := runChild(t, "trace", 7, 11, 1)
		require.Equal(t, 0, r.code, r.out)
		var steps []string
		ids := regexp.MustCompile(`child: pid=(\S+) tid=(\S+)`).FindStringSubmatch(r.out)
		require.NotNil(t, ids, r.out)
		for _, l := range strings.Split(r.out, "\n") {
			if strings.HasPrefix(l, "fuzz: step ") { // the same but for the child's own ids
				l = strings.ReplaceAll(strings.ReplaceAll(l, ids[1]+" ", "ID "), ids[2]+" ", "ID ")
				steps = append(steps, l)
			}
		}
		require.NotEmpty(t, steps, r.out)
		return strings.Join(steps, "\n")
	}
	a, b := prog(), prog()
	assert.Equal(t, a, b)

	// And the program, as text, runs again as it is.
	var text []string
	for _, l := range strings.Split(a, "\n") {
		_, after, _ := strings.Cut(strings.TrimPrefix(l, "fuzz: step "), " ")
		text = append(text, strings.ReplaceAll(after, "ID ", "0x1 "))
	}
	r := runChild(t, "program", 7, 11, 1, childEnv+"_PROGRAM="+strings.Join(text, "\n"))
	require.Equal(t, 0, r.code, r.out)
	assert.Contains(t, r.out, "child: calls=")
}

func TestProgramTextRoundTrips(t *testing.T) {
	steps := []Step{
		{Call: callIndex["read"], Args: [9]uintptr{3, 0x5e00_0000_1000, 4096}, Labels: []string{"fd3", "arena+0x1000", "0x1000", "0", "0", "0"}},
		{Call: rawCall, Extra: [3]uintptr{cloneParentTID, 0xffff_8000_0000_0000, 0}, Raw: []rawStep{{0, 3, 4, 5, 0, 0, 0}, {3, 3, 0, 0, 0, 0, 0}}, Labels: []string{"read(fd3);_close(fd3)"}},
		{Call: callIndex["ipc_call"], Args: [9]uintptr{0x10003, 0x5e00_0000_2000, 1000}, Labels: []string{"handle0x10003", `"con sole"`, "!directmap"}},
		{Call: callIndex["ipc_call_regs"], Args: [9]uintptr{0x10003, 2, 3, 4, 5, 6, 1000, 0x5e00_0000_2000, 1 | 1<<63}, Labels: []string{"handle0x10003", "2", "3", "4", "5", "6", "0x3e8", "grant0x5e0000002000", "0x8000000000000001"}},
	}
	var text []string
	for _, s := range steps {
		text = append(text, s.Text())
	}
	back, err := ParseProgram("p", strings.Join(text, "\n"))
	require.NoError(t, err)
	require.Len(t, back, len(steps))
	for i := range steps {
		assert.Equal(t, text[i], back[i].Text())
		assert.Equal(t, steps[i].Args, back[i].Args)
		assert.Equal(t, steps[i].Raw, back[i].Raw)
	}
	_, err = ParseProgram("bad.prog", "read 1 2 3\n")
	assert.EqualError(t, err, "bad.prog: line 1: read: want 6 arguments, have 3")
	_, err = ParseProgram("bad.prog", "\n\nfrobnicate 1 2 3 4 5 6")
	assert.EqualError(t, err, `bad.prog: line 3: no call named "frobnicate"`)
}

// Every call SimpleOS serves has a description (abi.Calls lists them), but those that end
// the caller's context.
func TestEveryCallDescribed(t *testing.T) {
	have := map[uintptr]string{}
	for _, c := range Calls {
		have[c.Nr] = c.Name
	}
	for _, c := range abi.Calls {
		switch c.Name {
		case "exit", "exit_group", "rt_sigreturn":
			continue
		}
		assert.Equal(t, c.Name, have[c.Nr], "no description of %s (%#x)", c.Name, c.Nr)
	}
}

package bench

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/cilium/ebpf/asm"

	"github.com/simpleos/simpleos/bench/result"
	"github.com/simpleos/simpleos/boot"
)

// MicroPolicy is the policy of the micro-benchmark boots (bench/policy/micro.policy).
//
//go:embed policy/micro.policy
var MicroPolicy []byte

// FilterFile is the eBPF filter the micro policy attaches to "guarded", written next to it.
const FilterFile = "deny-label-7.bpf"

// microTask is one task of a micro-benchmark boot: a module of the micro policy.
type microTask struct {
	module string   // policy module, task name and file name of its copy of the program
	ring   int      // its ring (as in the policy)
	args   []string // the mode and its arguments
}

// A micro-benchmark boot's tasks take turns in this order (the turn endpoints of the policy).
func (s *suite) microChain(fast bool) []microTask {
	z := s.cfg.Sizes
	ipc := microTask{"ipc-client", 3, []string{"call", strconv.Itoa(z.IPCCalls),
		"ipc/r3-r2=echo-r2", "ipc/r3-r2-4w=echo-r2:4w", "ipc/r3-r2-1k=echo-r2:1k", "ipc/r3-r2-1kbuf=echo-r2:1kbuf",
		"ipc/r3-r2-x4=echo-r2:x4",
		"ipc/r3-r2-locked=echo-r2-locked", "ipc/r3-r2-raw=echo-r2-locked:locked",
		"ipc/r3-r1=echo-r1", "ipc/r3-r2-filtered=guarded"}}
	// A ring-2 client of the ring-1 server, before ipc-client, which ends the servers.
	ipcR2 := microTask{"ipc-client-r2", 2, []string{"call", strconv.Itoa(z.IPCCalls), "ipc/r2-r1=echo-r1:keep"}}
	if !fast {
		return []microTask{ipcR2, ipc}
	}
	return []microTask{
		{"syscall-r1", 1, []string{"syscall", "syscall/getppid/r1", strconv.Itoa(z.SyscallOps)}},
		{"syscall-r2", 2, []string{"syscall", "syscall/getppid/r2", strconv.Itoa(z.SyscallOps)}},
		{"syscall-r3", 3, []string{"syscall", "syscall/getppid/r3", strconv.Itoa(z.SyscallOps)}},
		{"switch", 3, []string{"switch", "thread/switch", strconv.Itoa(z.SwitchTrips)}},
		{"pagefault", 3, []string{"pagefault", "pagefault/first-touch", strconv.Itoa(z.FaultPages)}},
		ipcR2,
		ipc,
	}
}

// microServers answer ipc-client; they are not in the chain.
var microServers = []microTask{
	{"ipc-server-r2", 2, []string{"serve", "echo-r2", "guarded", "echo-r2-locked"}},
	{"ipc-server-r1", 1, []string{"serve", "echo-r1"}},
}

// microFigure maps what bench/progs/micro prints to figure names and says how each was
// measured; path is "fast" or "slow" for the IPC figures.
func microFigure(name, path string) (figure, source string, ok bool) {
	switch name {
	case "syscall/getppid/r1", "syscall/getppid/r2", "syscall/getppid/r3":
		ring := name[len(name)-1:]
		return "Syscall/getppid/r" + ring, "getppid in a loop, ring-" + ring + " task", true
	case "thread/switch":
		return "ThreadSwitch/futex", "two locked threads of a ring-3 task hand a futex word back and forth; per switch (round trip ÷ 2)", true
	case "pagefault/first-touch":
		return "PageFault/first-touch", "first write to each page of a fresh anonymous mmap, ring 3", true
	case "ipc/r3-r2":
		return "IPCCallReply/r3-r2/" + path, "Endpoint.Call from a ring-3 task to a ring-2 server, " + path + " path", true
	case "ipc/r3-r1":
		return "IPCCallReply/r3-r1/" + path, "Endpoint.Call from a ring-3 task to a ring-1 server, " + path + " path", true
	case "ipc/r3-r2-4w":
		return "IPCCallReply/r3-r2-4w/" + path, "as r3-r2, four words each way", true
	case "ipc/r3-r2-1k":
		return "IPCCallReply/r3-r2-1k/" + path, "as r3-r2, 1 KiB lent with each call (a one-page grant) and read by the server", true
	case "ipc/r3-r2-1kbuf":
		return "IPCCallReply/r3-r2-1kbuf/" + path, "as r3-r2, 1 KiB in the client thread's IPC buffer (Endpoint.CallBuffer), copied by the core into the server's and read there", true
	case "ipc/r3-r2-x4":
		return "IPCCallReply/r3-r2-x4/" + path, "four ring-3 client threads calling one ring-2 server thread at once: time per call (throughput)", true
	case "ipc/r2-r1":
		return "IPCCallReply/r2-r1/" + path, "Endpoint.Call from a ring-2 task to the ring-1 server, " + path + " path", true
	case "ipc/r3-r2-locked":
		return "IPCCallReply/r3-r2-locked/" + path, "as r3-r2, the server in ipc's ServeLocked: no runtime bookkeeping on its side", true
	case "ipc/r3-r2-raw":
		return "IPCCallReply/r3-r2-raw/" + path, "as r3-r2-locked, the client in ipc's CallLocked too: no runtime bookkeeping on either side", true
	case "ipc/r3-r2-filtered":
		return "IPCCallReply/r3-r2-filtered/" + path, "as r3-r2, to an endpoint with a 5-instruction eBPF filter", true
	}
	return "", "", false
}

// runMicro boots the micro-benchmark tasks: all of them with the IPC fast path (fast), or
// the IPC client and servers alone with ipcfast=off.
func (s *suite) runMicro(ctx context.Context, e Env, fast bool) {
	path, part, cmdline := "fast", "micro", ""
	if !fast {
		path, part, cmdline = "slow", "slowipc", "ipcfast=off"
	}
	name := e.Name + "-" + part
	s.progress.boot(fmt.Sprintf("%s: micro-benchmarks, IPC %s path", e.Name, path))
	if s.micro == "" {
		s.errorf("%s: bench/progs/micro was not built", name)
		return
	}
	policyFile, err := s.writeMicroPolicy()
	if err != nil {
		s.errorf("%s: %v", name, err)
		return
	}
	chain := s.microChain(fast)
	specs, err := s.microSpecs(chain)
	if err != nil {
		s.errorf("%s: %v", name, err)
		return
	}
	res, err := s.bootSystem(ctx, name, e, boot.SystemSpec{Apps: specs, NoModules: true, Policy: policyFile, Append: cmdline}, 10*time.Minute, nil)
	if err != nil {
		s.errorf("%s: %v", name, err)
		return
	}
	rs, problems := guestResults(res.Output)
	want := map[string]bool{}
	for _, t := range chain {
		switch t.args[0] {
		case "call":
			for _, pair := range t.args[2:] {
				n, _, _ := strings.Cut(pair, "=")
				want[n] = true
			}
		default:
			want[t.args[1]] = true
		}
	}
	got := map[string]Figure{}
	for _, r := range rs {
		fig, source, ok := microFigure(r.Name, path)
		if !ok || !want[r.Name] {
			problems = append(problems, "unexpected result "+r.Name)
			continue
		}
		delete(want, r.Name)
		f := figureOf(r, fig, e, SimpleOS, source)
		got[fig] = f
		s.add(f)
	}
	for n := range want {
		problems = append(problems, "no result for "+n)
	}
	if why := bootEnded(res); why != "" {
		problems = append(problems, "the boot "+why)
	}
	if len(problems) > 0 {
		s.errorf("%s: %s (transcript: %s)", name, strings.Join(problems, "; "), s.logPath(name))
	}
	// The filter's cost: the same call with and without it.
	plain, ok1 := got["IPCCallReply/r3-r2/"+path]
	filtered, ok2 := got["IPCCallReply/r3-r2-filtered/"+path]
	if ok1 && ok2 {
		note := ""
		if !e.Instructions() {
			note = "the difference of two figures that each vary by more than the filter costs under TCG: read the -icount row"
		}
		s.add(Figure{
			Name: "EBPFFilter/r3-r2/" + path, Env: e.Name, System: SimpleOS, Iters: filtered.Iters,
			NsPerOp:     filtered.NsPerOp - plain.NsPerOp,
			CyclesPerOp: filtered.CyclesPerOp - plain.CyclesPerOp,
			Source:      "IPCCallReply r3-r2-filtered minus r3-r2 (5-instruction filter, run in the kernel on every call)",
			Note:        note,
		})
	}
}

// writeMicroPolicy writes the micro policy and its filter into the output folder.
func (s *suite) writeMicroPolicy() (string, error) {
	dir := filepath.Join(s.cfg.Out, "policy")
	var raw bytes.Buffer
	if err := denyLabel7().Marshal(&raw, binary.LittleEndian); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, FilterFile), raw.Bytes(), 0o644); err != nil {
		return "", err
	}
	file := filepath.Join(dir, "micro.policy")
	return file, os.WriteFile(file, MicroPolicy, 0o644)
}

// denyLabel7 is the filter of docs/ipc.md's figure: R0 = 1 (deny) when the label (context
// offset 16) is 7. The benchmark's calls never use label 7: every call runs all of it.
func denyLabel7() asm.Instructions {
	return asm.Instructions{
		asm.LoadMem(asm.R2, asm.R1, 16, asm.DWord),
		asm.Mov.Imm(asm.R0, 0),
		asm.JNE.Imm(asm.R2, 7, "out"),
		asm.Mov.Imm(asm.R0, 1),
		asm.Return().WithSymbol("out"),
	}
}

// microSpecs copies the program once per task (tasks are named after their file) and returns
// the chain's and the servers' app specs, with their turn arguments.
func (s *suite) microSpecs(chain []microTask) ([]boot.AppSpec, error) {
	var specs []boot.AppSpec
	var awaited []string
	for i, t := range chain {
		if i > 0 {
			awaited = append(awaited, "turn-"+t.module)
		}
	}
	for _, t := range microServers {
		// A server registers its endpoints in order, then serves them: its last one
		// registered says it has started. (A policy module lists at most 8 names a list.)
		awaited = append(awaited, t.args[len(t.args)-1])
	}
	batches := []string{"-batches", strconv.Itoa(s.cfg.Sizes.Batches)}
	for i, t := range chain {
		args := append([]string(nil), batches...)
		if i == 0 {
			args = append(args, "-await", strings.Join(awaited, ","))
		} else {
			args = append(args, "-wait", "turn-"+t.module)
		}
		if i < len(chain)-1 {
			args = append(args, "-pass", "turn-"+chain[i+1].module)
		}
		spec, err := s.microSpec(t, append(args, t.args...))
		if err != nil {
			return nil, err
		}
		specs = append(specs, spec)
	}
	for _, t := range microServers {
		spec, err := s.microSpec(t, t.args)
		if err != nil {
			return nil, err
		}
		specs = append(specs, spec)
	}
	return specs, nil
}

func (s *suite) microSpec(t microTask, args []string) (boot.AppSpec, error) {
	path := filepath.Join(filepath.Dir(s.micro), t.module)
	if err := copyFile(s.micro, path); err != nil {
		return boot.AppSpec{}, err
	}
	return boot.AppSpec{Ring: t.ring, Path: path, Args: args}, nil
}

func copyFile(from, to string) error {
	if st1, err := os.Stat(from); err == nil {
		if st2, err := os.Stat(to); err == nil && st2.Size() == st1.Size() && !st2.ModTime().Before(st1.ModTime()) {
			return nil
		}
	}
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	tmp := to + ".tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, to)
}

// runGuest runs the Linux baseline's program bench/guest as a ring-3 task.
func (s *suite) runGuest(ctx context.Context, e Env) {
	name := e.Name + "-guest"
	s.progress.boot(e.Name + ": bench/guest as a SimpleOS task")
	if s.guest == "" {
		s.errorf("%s: %s was not built", name, GuestPackage)
		return
	}
	args := s.guestArgs()
	res, err := s.bootSystem(ctx, name, e, boot.SystemSpec{
		Apps:      []boot.AppSpec{{Ring: 3, Path: s.guest, Args: args}},
		NoModules: true,
		// Its page-fault benchmark maps 64 MiB at once (6.4 MiB with -quick): more than the
		// default quota of a task (64 MiB) with the Go runtime's own memory.
		Append: "taskmem=160",
	}, 15*time.Minute, nil)
	if err != nil {
		s.errorf("%s: %v", name, err)
		return
	}
	rs, problems := guestResults(res.Output)
	for _, r := range rs {
		s.add(figureOf(r, "Guest/"+r.Name+"/simpleos", e, SimpleOS, "bench/guest "+strings.Join(args, " ")+" as a ring-3 task"))
	}
	if !bytes.Contains(res.Output, []byte("bench done")) {
		problems = append(problems, "no \"bench done\" line")
	}
	if why := bootEnded(res); why != "" {
		problems = append(problems, "the boot "+why)
	}
	if len(problems) > 0 {
		s.errorf("%s: %s (transcript: %s)", name, strings.Join(problems, "; "), s.logPath(name))
	}
	for _, m := range skipRE.FindAllStringSubmatch(string(res.Output), -1) {
		if strings.HasPrefix(m[1], "disk/") || strings.HasPrefix(m[1], "files/") {
			continue // measured by the disk and files boots, with the driver and the server (disk.go, files.go)
		}
		s.report.Notes = appendOnce(s.report.Notes, fmt.Sprintf("bench/guest on SimpleOS skips %s: %s.", m[1], strings.TrimSpace(m[2])))
	}
}

func (s *suite) guestArgs() []string {
	var args []string
	if s.cfg.Sizes.GuestQuick {
		args = append(args, "-quick")
	}
	if len(s.cfg.Sizes.GuestOnly) > 0 {
		args = append(args, "-only", strings.Join(s.cfg.Sizes.GuestOnly, ","))
	}
	return args
}

var (
	skipRE  = regexp.MustCompile(`bench skip name=(\S+) reason=([^\r\n]*)`)
	errorRE = regexp.MustCompile(`bench error name=(\S+) err=([^\r\n]*)`)
)

// guestResults parses the result lines of a transcript and returns the problems it shows:
// malformed result lines and "bench error" lines.
func guestResults(out []byte) ([]result.Result, []string) {
	var problems []string
	rs, err := result.Parse(out)
	if err != nil {
		problems = append(problems, err.Error())
	}
	for _, m := range errorRE.FindAllStringSubmatch(string(out), -1) {
		problems = append(problems, fmt.Sprintf("%s failed: %s", m[1], strings.TrimSpace(m[2])))
	}
	return rs, problems
}

// figureOf turns a guest's result into a figure.
func figureOf(r result.Result, name string, e Env, system, source string) Figure {
	return Figure{
		Name: name, Env: e.Name, System: system, Iters: r.Iters,
		NsPerOp: r.NsPerOp, CyclesPerOp: r.CyclesPerOp, Samples: r.Samples, Source: source,
	}
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

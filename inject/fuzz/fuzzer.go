package fuzz

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/simpleos/simpleos/abi"
)

// Config is one fuzzer's run: its seed, its budget, and what its policy grants it (so that
// calls get past the policy checks to the code behind them, and so that a success the policy
// should have refused is seen as a breach).
type Config struct {
	Seed     uint64
	MaxCalls uint64 // stop after this many calls (0: no limit)
	Batch    int    // calls per batch (default 100)
	First    uint64 // number of the first batch (a repro starts at the batch it reproduces)
	Batches  uint64 // stop after this many batches (0: no limit)

	Ring                                    int
	Serves, Calls, Events, Publish, Content []string
	MMIO                                    [][2]uint64 // granted physical ranges [lo, hi)
	Targets                                 []uintptr   // more addresses no call may touch (the core's canaries)

	Program []Step    // run these steps instead of generating batches (a repro)
	Trace   io.Writer // if set, every step is written here before it is made
	Out     io.Writer // findings and the summary (default: discarded)
	// Report is called after every batch with the batch number, the calls made so far and the
	// findings so far (the fuzzer task passes them to the core: fuzz_report).
	Report func(batch, calls, findings uint64)

	// FalseBreach names a call whose every success is reported as a breach: a finding on
	// demand, to test the reporting, reproduction and minimisation of findings end to end.
	FalseBreach string

	unknownPolicy bool     // the grants are not known: do not judge them (a storm in a module)
	skip          []string // calls never generated
}

// Step is one call of a program: which call, its arguments, and (for the text) what they are.
type Step struct {
	Call   int        // index into Calls; rawCall for a raw thread
	Args   [9]uintptr // six, or nine for a call with regs
	Labels []string

	// A raw thread: its job and extra clone flags (with the ptid and tls they use).
	Raw   []rawStep
	Extra [3]uintptr
}

const rawCall = -1

// Finding is something no correct kernel does, with what reproduces it.
type Finding struct {
	Kind    string // "breach" or "stuck"
	Batch   uint64
	Seed    uint64 // the fuzzer's seed (BatchSeed(Seed, Batch) is the batch's)
	Step    int
	What    string
	Program []string // the batch's steps up to the finding, as Program text
}

// Stat counts one call's results.
type Stat struct {
	Calls, OK uint64
	Errnos    uint64 // bit e set: errno e (below 64) was returned
}

// Fuzzer runs batches of generated calls.
type Fuzzer struct {
	cfg      Config
	e        *env
	stats    []Stat
	raw      Stat
	calls    uint64
	batch    uint64
	findings []Finding
	prog     []Step

	serverFindings chan string // from the IPC server's goroutines
	stuck          bool        // a raw thread did not return: the run ends
}

// New prepares a fuzzer: its arena, its raw threads' region, its IPC endpoints.
func New(cfg Config) (*Fuzzer, error) {
	if cfg.Batch <= 0 {
		cfg.Batch = 100
	}
	if cfg.Out == nil {
		cfg.Out = io.Discard
	}
	// The Go runtime opens its own descriptors lazily (netpoll, at the first timer): make it
	// open them now, so that the fuzzer knows them and never closes or reads them.
	time.Sleep(time.Millisecond)
	e, err := newEnv(cfg)
	if err != nil {
		return nil, err
	}
	for _, t := range cfg.Targets {
		hostileAddrs = append(hostileAddrs, struct {
			a     uintptr
			label string
		}{t, fmt.Sprintf("target%#x", t)})
	}
	f := &Fuzzer{cfg: cfg, e: e, stats: make([]Stat, len(Calls)), serverFindings: make(chan string, 16)}
	if e.simpleos && len(cfg.Serves) > 0 {
		if err := f.serve(); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// Run makes the configured calls, batch after batch, on a thread of its own.
func (f *Fuzzer) Run() {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread() // per-thread state (signal mask) is the fuzzer's alone
		debug.SetPanicOnFault(true)
		f.e.tid = syscall.Gettid() // the thread the calls are made on
		if f.cfg.Program != nil {
			f.runProgram(f.cfg.Program)
			return
		}
		for b := f.cfg.First; ; b++ {
			f.runBatch(b)
			if f.stuck {
				return // a raw thread is still in the kernel: it could unmap the arena at any time
			}
			if f.cfg.Batches != 0 && b+1-f.cfg.First >= f.cfg.Batches || f.cfg.MaxCalls != 0 && f.calls >= f.cfg.MaxCalls {
				return
			}
		}
	}()
	<-done
}

// Calls returns the calls made; Findings what was found; Stats the results per call.
func (f *Fuzzer) CallsMade() uint64   { return f.calls }
func (f *Fuzzer) Findings() []Finding { return f.findings }
func (f *Fuzzer) Stats() []Stat       { return f.stats }

// runBatch generates and runs batch b, then undoes what it made.
func (f *Fuzzer) runBatch(b uint64) {
	f.batch = b
	g := &gen{r: newRNG(BatchSeed(f.cfg.Seed, b)), e: f.e}
	f.prog = f.prog[:0]
	for i := 0; i < f.cfg.Batch; i++ {
		s, ok := f.generate(g)
		if !ok {
			continue
		}
		f.step(s)
	}
	f.endBatch()
}

// runProgram runs steps as they are, in one batch.
func (f *Fuzzer) runProgram(steps []Step) {
	f.batch = f.cfg.First
	f.prog = f.prog[:0]
	for _, s := range steps {
		f.step(s)
	}
	f.endBatch()
}

// endBatch undoes the batch (descriptors, mappings, waits) and waits for its raw threads: one
// that is still in the kernel after every resource it waited on is gone is a finding.
func (f *Fuzzer) endBatch() {
	f.e.closeAll()
	f.e.wakeFutexes()
	if stuck := f.e.joinRaw(5 * time.Second); len(stuck) > 0 {
		f.find("stuck", len(f.prog), "raw threads still in the kernel 5 s after the batch ended: "+strings.Join(stuck, ", "))
		f.stuck = true
	}
	f.e.restore()
	f.e.arenaTouched = false
	for more := true; more; {
		select {
		case why := <-f.serverFindings:
			f.find("breach", len(f.prog), "the fuzzer's IPC server: "+why)
		default:
			more = false
		}
	}
	if f.cfg.Report != nil {
		f.cfg.Report(f.batch, f.calls, uint64(len(f.findings)))
	}
}

// safely runs fn, which reads the arena: a raw thread may have unmapped the part it reads,
// and the fault then only repairs the arena.
func (f *Fuzzer) safely(fn func()) {
	defer func() {
		if p := recover(); p != nil {
			f.e.repair()
		}
	}()
	fn()
}

// generate picks a call and its arguments. A fault while writing arguments into the arena (a
// raw thread unmapped part of it) repairs the arena and gives up this step.
func (f *Fuzzer) generate(g *gen) (s Step, ok bool) {
	defer func() {
		if p := recover(); p != nil {
			f.e.repair()
			ok = false
		}
	}()
	if g.r.chance(20) && f.e.simpleos {
		steps, label := g.rawJob()
		s = Step{Call: rawCall, Raw: steps, Labels: []string{label}}
		if g.r.chance(3) {
			s.Extra = [3]uintptr{cloneParentTID, g.ptr(4, true).v, 0}
			if g.r.chance(2) {
				s.Extra[0] |= cloneSetTL
				s.Extra[2] = g.e.arena + uintptr(g.r.intn(arenaSize)) // a base the child never uses
			}
		}
		return s, true
	}
	i := g.r.intn(len(Calls) + len(favoured))
	if i >= len(Calls) {
		i = callIndex[favoured[i-len(Calls)]]
	}
	c := &Calls[i]
	if !f.e.simpleos && (c.simpleOSOnly() || c.hostWide) || contains(f.cfg.skip, c.Name) {
		return s, false
	}
	a := c.gen(g)
	s = Step{Call: i, Labels: make([]string, len(a))}
	for j, v := range a {
		s.Args[j] = v.v
		s.Labels[j] = v.label
		if v.hostile {
			s.Labels[j] = "!" + v.label
		}
	}
	return s, true
}

// favoured are calls that make the resources the others use: generated more often.
var favoured = []string{"pipe2", "pipe2", "eventfd2", "epoll_create1", "epoll_ctl", "ipc_call", "mmap", "close", "openat"}

var callIndex = func() map[string]int {
	m := map[string]int{}
	for i, c := range Calls {
		m[c.Name] = i
	}
	return m
}()

// step makes one call and judges it.
func (f *Fuzzer) step(s Step) {
	f.prog = append(f.prog, s)
	f.e.batch, f.e.calls, f.e.found = f.batch, f.calls, uint64(len(f.findings))
	if f.cfg.Trace != nil {
		fmt.Fprintf(f.cfg.Trace, "fuzz: step %d %s\n", len(f.prog)-1, s.Text())
	}
	if s.Call == rawCall {
		r, ok := f.e.startRaw(s.Raw, s.Extra[0], s.Extra[1], s.Extra[2], s.Labels[0])
		if ok {
			f.raw.Calls++
			f.calls++
			if r > 0 {
				f.raw.OK++
			} else if -r < 64 {
				f.raw.Errnos |= 1 << -r
			}
		}
		return
	}
	c := &Calls[s.Call]
	a := make([]val, 9)
	for j := range a {
		a[j].v = s.Args[j]
		if j < len(s.Labels) {
			a[j].label = s.Labels[j]
			a[j].hostile = strings.HasPrefix(s.Labels[j], "!")
		}
	}
	var name string
	if c.names != nil {
		name = f.e.readName(a[0].v, a[1].v)
	}
	var undo func()
	if c.guard != nil {
		undo = c.guard(f.e, a)
	}
	var r uintptr
	var errno syscall.Errno
	if c.regs {
		var e uintptr
		r, e = rawSyscallRegs(c.Nr, a[0].v, a[1].v, a[2].v, a[3].v, a[4].v, a[5].v, a[6].v, a[7].v, a[8].v)
		errno = syscall.Errno(e)
	} else {
		r, _, errno = syscall.RawSyscall6(c.Nr, a[0].v, a[1].v, a[2].v, a[3].v, a[4].v, a[5].v)
	}
	if undo != nil {
		undo()
	}
	f.calls++
	if f.cfg.Trace != nil {
		fmt.Fprintf(f.cfg.Trace, "fuzz: = %s\n", result(r, errno))
	}
	st := &f.stats[s.Call]
	st.Calls++
	if errno == 0 {
		st.OK++
	} else if errno < 64 {
		st.Errnos |= 1 << errno
	}
	if why := f.judge(c, a, r, errno, name); why != "" {
		f.find("breach", len(f.prog)-1, fmt.Sprintf("%s = %s: %s", s.Text(), result(r, errno), why))
	}
	if errno == 0 && c.after != nil {
		f.safely(func() { c.after(f.e, a, r) })
	}
	if c.arena && errno == 0 || f.e.arenaTouched {
		f.e.repair()
	}
}

func result(r uintptr, errno syscall.Errno) string {
	if errno != 0 {
		return fmt.Sprintf("-1 (%s)", errnoName(errno))
	}
	return fmt.Sprintf("%#x", r)
}

// judge returns why a call's result is one no correct kernel gives ("" if none): a buffer no
// task can own read or written, a grant the policy does not give, a call's own check.
func (f *Fuzzer) judge(c *Call, a []val, r uintptr, errno syscall.Errno, name string) string {
	for _, b := range c.bufs {
		p := a[b.arg]
		if !p.hostile || b.optional && p.v == 0 {
			continue
		}
		n := b.fixed
		if n == 0 {
			n = a[b.lenArg].v
		}
		touched := errno == 0
		if b.countResult {
			touched = errno == 0 && r > 0
		}
		if n > 0 && touched {
			return fmt.Sprintf("the kernel accessed %s (argument %d)", p.label, b.arg)
		}
	}
	if c.names != nil && errno == 0 && f.e.simpleos && !f.cfg.unknownPolicy && !contains(c.names(&f.e.cfg), name) {
		return fmt.Sprintf("succeeded for %q, which the policy does not grant", name)
	}
	if errno == 0 && c.Name == f.cfg.FalseBreach {
		return "a false breach, on demand (-false-breach)"
	}
	if c.check != nil && errno == 0 && !(f.cfg.unknownPolicy && c.Name == "mmio_map") {
		return c.check(f.e, a, r)
	}
	return ""
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// readName reads the name argument of a call before it is made (what the call will see, if
// the arena holds it).
func (e *env) readName(p, n uintptr) string {
	if !inArena(e, p) || n > abi.NameMax || p+n > e.arena+arenaSize {
		return "\x00(not in the arena)"
	}
	defer func() { recover() }()
	return string(unsafeBytes(p, int(n)))
}

// find records a finding and writes it out with the batch's program.
func (f *Fuzzer) find(kind string, step int, what string) {
	fd := Finding{Kind: kind, Batch: f.batch, Seed: f.cfg.Seed, Step: step, What: what}
	for _, s := range f.prog {
		fd.Program = append(fd.Program, s.Text())
	}
	f.findings = append(f.findings, fd)
	fmt.Fprintf(f.cfg.Out, "\nfuzz: FINDING %s ring=%d seed=%d batch=%d step=%d: %s\n", kind, f.cfg.Ring, fd.Seed, fd.Batch, step, what)
	for i, t := range fd.Program {
		fmt.Fprintf(f.cfg.Out, "\nfuzz: program %d: %s\n", i, t)
	}
}

// Summary writes the calls made and the results per call.
func (f *Fuzzer) Summary(w io.Writer, prefix string) {
	fmt.Fprintf(w, "\n%s calls=%d batches=%d findings=%d\n", prefix, f.calls, f.batch+1-f.cfg.First, len(f.findings))
	line := func(name string, s Stat) {
		fmt.Fprintf(w, "\n%s call %s n=%d ok=%d errnos=%s\n", prefix, name, s.Calls, s.OK, errnoList(s.Errnos))
	}
	for i, c := range Calls {
		line(c.Name, f.stats[i])
	}
	line("thread", f.raw)
}

func errnoList(bits uint64) string {
	var out []string
	for e := 1; e < 64; e++ {
		if bits&(1<<e) != 0 {
			out = append(out, errnoName(syscall.Errno(e)))
		}
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, ",")
}

var errnoNames = map[syscall.Errno]string{
	syscall.EPERM: "EPERM", syscall.ENOENT: "ENOENT", syscall.ESRCH: "ESRCH", syscall.EINTR: "EINTR",
	syscall.EBADF: "EBADF", syscall.EAGAIN: "EAGAIN", syscall.ENOMEM: "ENOMEM", syscall.EFAULT: "EFAULT",
	syscall.EEXIST: "EEXIST", syscall.EINVAL: "EINVAL", syscall.EMFILE: "EMFILE", syscall.ENOTTY: "ENOTTY",
	syscall.EPIPE: "EPIPE", syscall.ENOSYS: "ENOSYS", syscall.ENODEV: "ENODEV", syscall.ETIMEDOUT: "ETIMEDOUT",
	syscall.ECONNRESET: "ECONNRESET", syscall.ELOOP: "ELOOP", syscall.E2BIG: "E2BIG", syscall.ENOTDIR: "ENOTDIR",
	syscall.EKEYREJECTED: "EKEYREJECTED", syscall.ERANGE: "ERANGE", syscall.ENOSPC: "ENOSPC", syscall.EACCES: "EACCES",
	syscall.EIO: "EIO", syscall.EBUSY: "EBUSY", syscall.EXDEV: "EXDEV", syscall.EISDIR: "EISDIR", syscall.ENFILE: "ENFILE",
	syscall.EFBIG: "EFBIG", syscall.ESPIPE: "ESPIPE", syscall.EROFS: "EROFS", syscall.ENAMETOOLONG: "ENAMETOOLONG",
	syscall.ENOTEMPTY: "ENOTEMPTY", syscall.EOVERFLOW: "EOVERFLOW", syscall.EOPNOTSUPP: "EOPNOTSUPP", syscall.ENXIO: "ENXIO",
}

func errnoName(e syscall.Errno) string {
	if n, ok := errnoNames[e]; ok {
		return n
	}
	return fmt.Sprintf("E%d", int(e))
}

// rawSyscallRegs makes system call nr with a0-a5 in the argument registers and rbx, r12, r13
// in RBX, R12 and R13 (raw_amd64.s): the IPC register path. It returns the result, or -1 and
// the errno.
//
//go:noescape
func rawSyscallRegs(nr, a0, a1, a2, a3, a4, a5, rbx, r12, r13 uintptr) (r, errno uintptr)

// Package gotest runs Go packages' tests inside SimpleOS: `simpleos test`, like `go test`,
// but each package's test binary runs as a task of the system under test.
//
// For each package it builds the test binary with the stock toolchain (static:
// CGO_ENABLED=0 GOOS=linux GOARCH=amd64 go test -c), copies the package's directory (its .go
// files and testdata/, recursively) onto a FAT32 disk image under /pkg/IMPORTPATH, and writes a
// policy manifest: the disk driver and the file-system server as in policy/system.policy, and
// one module per test binary whose only files are its package directory (read-only) and /tmp
// (read-write), with the package directory as its working directory, as go test runs a test
// binary in its package's directory. One boot runs a batch of packages (every package at
// once, up to a batch size): under TCG a boot costs seconds before the first task runs, and
// the tasks of one boot share the CPU as separate QEMUs would share the host's. Each
// package's result comes from the supervisor's line for its task: "app NAME exited 0 [ring
// 3, pid 7, cpu 1.1s, ran 1.2s; ...]", the time measured by the core's clock from the task's
// start to its end.
package gotest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/simpleos/simpleos/boot"
	"github.com/simpleos/simpleos/core/appspec"
)

// Defaults of Options' zero fields.
const (
	DefaultMemMB   = 1024
	DefaultTimeout = 10 * time.Minute // go test's own default per package
	DefaultBatch   = 16
	// DefaultMaxFile is the largest file copied onto the image: a package's testdata may hold
	// big generated inputs that no quick test reads, and every byte costs time to write.
	DefaultMaxFile = 16 << 20
	// DefaultMaxPackage bounds what one package directory puts on the image.
	DefaultMaxPackage = 256 << 20
	minQuota          = 64 << 20
	maxQuota          = 1 << 30 // the policy's largest quota
)

// Options is one `simpleos test` run.
type Options struct {
	Paths   boot.Paths
	Pkgs    []string      // import paths or ./dir patterns, as go test takes them
	Dir     string        // where go list and go test -c run (the user's working directory)
	Ring    int           // 1, 2 or 3 (default 3)
	Run     string        // -test.run
	Skip    string        // -test.skip
	Args    []string      // further test binary flags, e.g. -test.short
	Timeout time.Duration // per test binary (-test.timeout); a boot gets it plus BootSlack
	MemMB   int           // guest memory
	Quota   int64         // each test task's memory quota; default a quarter of MemMB, at least 64 MiB
	Disk    string        // the image to make (default build/gotest/disk.img); replaced each run
	OutDir  string        // test binaries (default build/gotest)
	Batch   int           // packages per boot
	MaxFile int64         // larger files are left off the image (and listed)
	Accel   string        // auto, kvm or tcg
	SMP     int           // guest CPUs
	Console io.Writer     // the serial console of every boot as it arrives (nil: not shown)
	Log     io.Writer     // progress and notes (nil: discarded)
	Out     io.Writer     // go test's lines: ok, FAIL, ?, and the output of failed packages
	Context context.Context
}

// BootSlack is what a boot gets beyond the test timeout: the core, the driver and the file
// server start and the disk is mounted before the first test binary runs.
const BootSlack = 2 * time.Minute

// Result is one package's outcome.
type Result struct {
	Pkg     string        // import path
	Name    string        // its task and module name
	Binary  string        // the test binary on the host
	Status  string        // "ok", "FAIL" or "?" (no test files)
	Time    time.Duration // the core's: from the task's start to its end
	CPU     time.Duration
	Reason  string   // why it failed: the supervisor's line, a build error, a timeout
	Output  []string // the task's console lines, without the "[NAME] " prefix
	Skipped []string // files left off the image, with why
	// Testdata lists the guest paths of testdata/ folders in the package's parent
	// directories, copied too: tests read ../testdata (image/png reads image/testdata).
	Testdata []string
}

// Package is what go list says of a package.
type Package struct {
	ImportPath   string
	Dir          string
	TestGoFiles  []string
	XTestGoFiles []string
	Error        *struct{ Err string }
}

func (o *Options) defaults() {
	if o.Ring == 0 {
		o.Ring = boot.DefaultAppRing
	}
	if o.Timeout == 0 {
		o.Timeout = DefaultTimeout
	}
	if o.MemMB == 0 {
		o.MemMB = DefaultMemMB
	}
	if o.Quota == 0 {
		o.Quota = DefaultQuota(o.MemMB)
	}
	if o.OutDir == "" {
		o.OutDir = filepath.Join(o.Paths.BuildDir, "gotest")
	}
	if o.Disk == "" {
		o.Disk = filepath.Join(o.OutDir, "disk.img")
	}
	if o.Batch == 0 {
		o.Batch = DefaultBatch
	}
	if o.MaxFile == 0 {
		o.MaxFile = DefaultMaxFile
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	if o.Context == nil {
		o.Context = context.Background()
	}
}

// DefaultQuota is a test task's memory quota in a guest of memMB MiB: a quarter of it, at
// least 64 MiB (the core's default for a task), at most the policy's 1 GiB. The core's default
// stays 64 MiB, which the fault-injection campaigns' memory budgets assume; a test binary gets
// its quota from its policy module instead (bytes' and encoding/json's tests need more).
func DefaultQuota(memMB int) int64 {
	return min(max(int64(memMB)<<20/4, minQuota), maxQuota)
}

// Check validates the options a user gives.
func (o *Options) Check() error {
	switch {
	case o.Ring < 0 || o.Ring > 3:
		return fmt.Errorf("--ring must be 1, 2 or 3, got %d", o.Ring)
	case o.MemMB < 0:
		return fmt.Errorf("--mem must be a positive number of MiB, got %d", o.MemMB)
	case o.Timeout < 0:
		return fmt.Errorf("--timeout must not be negative, got %v", o.Timeout)
	case o.Quota != 0 && (o.Quota < 1<<20 || o.Quota > maxQuota):
		return fmt.Errorf("--quota must be between 1 and 1024 MiB, got %d MiB", o.Quota>>20)
	case len(o.Pkgs) == 0:
		return errors.New("no packages given")
	}
	for _, re := range []struct{ flag, re string }{{"-run", o.Run}, {"-skip", o.Skip}} {
		if _, err := regexp.Compile(re.re); err != nil {
			return fmt.Errorf("%s: %v", re.flag, err)
		}
	}
	return nil
}

// Run tests the packages and returns one result per package, in the order go list gives them.
// An error means nothing could be tested (go list failed, the core did not build, QEMU
// could not start); failed tests are results.
func Run(o Options) ([]Result, error) {
	o.defaults()
	if err := o.Check(); err != nil {
		return nil, err
	}
	if rel, err := filepath.Rel(o.Paths.Root, o.OutDir); err != nil || rel == ".." || strings.HasPrefix(rel, "../") || filepath.IsAbs(rel) {
		// The policy names a module's binary by a path inside the repository (rule
		// binary-path): the test binaries must be built there.
		return nil, fmt.Errorf("the test binaries' folder %s must lie inside the repository %s", o.OutDir, o.Paths.Root)
	}
	pkgs, err := List(o.Dir, o.Pkgs)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return nil, err
	}
	results := make([]*Result, len(pkgs))
	used := map[string]bool{"blk": true, "fs": true}
	var todo []*Result
	for i, p := range pkgs {
		r := &Result{Pkg: p.ImportPath}
		results[i] = r
		switch {
		case p.Error != nil:
			r.Status, r.Reason = "FAIL", "setup failed: "+p.Error.Err
		case len(p.TestGoFiles)+len(p.XTestGoFiles) == 0:
			r.Status = "?"
		default:
			r.Name = TaskName(p.ImportPath, used)
			r.Binary = filepath.Join(o.OutDir, r.Name+".test")
			todo = append(todo, r)
		}
	}
	build(o, todo)
	var runnable []*Result
	dirs := map[string]string{}
	for i, r := range results {
		dirs[r.Pkg] = pkgs[i].Dir
		if r.Status == "" {
			runnable = append(runnable, r)
		}
	}
	if len(runnable) > 0 {
		if err := prepareSystem(o); err != nil {
			return nil, err
		}
	}
	for len(runnable) > 0 {
		n := min(o.Batch, len(runnable))
		if err := runBatch(o, runnable[:n], dirs); err != nil {
			return nil, err
		}
		runnable = runnable[n:]
	}
	out := make([]Result, len(results))
	for i, r := range results {
		out[i] = *r
	}
	return out, nil
}

// List runs go list for the patterns (for linux/amd64, as the binaries are built).
func List(dir string, patterns []string) ([]Package, error) {
	cmd := exec.Command("go", append([]string{"list", "-e", "-json=ImportPath,Dir,TestGoFiles,XTestGoFiles,Error"}, patterns...)...)
	cmd.Dir = dir
	cmd.Env = goEnv()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("go list: %v\n%s", err, stderr.Bytes())
	}
	var pkgs []Package
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p Package
		if err := dec.Decode(&p); err != nil {
			return nil, fmt.Errorf("go list: %v", err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, nil
}

func goEnv() []string {
	return append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
}

// TaskName is the module and task name of a package's test binary: its import path in
// [a-z0-9_-] with "-test" after it (module names are at most 32 bytes of a-z, 0-9, '_' and
// '-': no dots, so not go test's "gzip.test"), keeping the path's end when it is too long, and
// made unique among used.
func TaskName(importPath string, used map[string]bool) string {
	var b strings.Builder
	for _, c := range strings.ToLower(importPath) {
		switch {
		case 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '_':
			b.WriteRune(c)
		default:
			b.WriteByte('-')
		}
	}
	base := strings.Trim(b.String(), "-")
	if base == "" {
		base = "pkg"
	}
	name := fit(base, "-test")
	for k := 2; used[name]; k++ {
		name = fit(base, "-"+strconv.Itoa(k)+"-test")
	}
	used[name] = true
	return name
}

// fit appends suffix to base, dropping base's start so that the name stays within a task
// name's 32 bytes (a path's end tells packages apart better than its start).
func fit(base, suffix string) string {
	if n := appspec.MaxNameLen - len(suffix); len(base) > n {
		cut := base[len(base)-n:]
		if base[len(base)-n-1] != '-' { // cut mid-element: start at the next whole one
			if i := strings.IndexByte(cut, '-'); i >= 0 && i < len(cut)-1 {
				cut = cut[i+1:]
			}
		}
		base = strings.TrimLeft(cut, "-_")
	}
	return base + suffix
}

// build compiles the test binaries, two at a time (the machine's two cores), marking a
// package whose build fails.
func build(o Options, rs []*Result) {
	var wg sync.WaitGroup
	sem := make(chan struct{}, 2)
	for _, r := range rs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			os.Remove(r.Binary) // a stale binary must not be tested if the build fails
			cmd := exec.CommandContext(o.Context, "go", "test", "-c", "-o", r.Binary, r.Pkg)
			cmd.Dir = o.Dir
			cmd.Env = goEnv()
			out, err := cmd.CombinedOutput()
			if err != nil {
				r.Status, r.Reason = "FAIL", "build failed: "+err.Error()
				r.Output = strings.Split(strings.TrimRight(string(out), "\n"), "\n")
				return
			}
			if _, err := os.Stat(r.Binary); err != nil {
				// go test -c writes nothing for a package whose test files hold no tests.
				r.Status = "?"
				return
			}
			if err := boot.CheckAppBinary(r.Binary); err != nil {
				r.Status, r.Reason = "FAIL", err.Error()
			}
		}()
	}
	wg.Wait()
}

// prepareSystem builds the core, the disk driver and the file-system server.
func prepareSystem(o Options) error {
	if err := boot.EnsureBuilt(o.Paths, o.Log); err != nil {
		return err
	}
	return boot.BuildModules(o.Paths, systemModules(o.Paths), o.Log)
}

// systemModules are the programs every test boot runs besides the tests.
func systemModules(p boot.Paths) []boot.Bundled {
	return []boot.Bundled{
		{Pkg: "./tier1/blk", Ring: 1, Out: filepath.Join(p.BuildDir, "modules", "tier1", "blk")},
		{Pkg: "./ring3/fs", Ring: 3, Out: filepath.Join(p.BuildDir, "modules", "ring3", "fs")},
	}
}

// runBatch makes the image for a batch of packages, boots once and reads each result.
func runBatch(o Options, rs []*Result, dirs map[string]string) error {
	var size int64
	for _, r := range rs {
		n, err := dirSize(dirs[r.Pkg], o.MaxFile)
		if err != nil {
			return err
		}
		size += min(n, DefaultMaxPackage)
	}
	if err := makeImage(o, rs, dirs, size); err != nil {
		return err
	}
	manifest := filepath.Join(o.OutDir, "test.policy")
	if err := os.WriteFile(manifest, []byte(Manifest(o, rs)), 0o644); err != nil {
		return err
	}
	specs := []boot.AppSpec{}
	for _, m := range systemModules(o.Paths) {
		specs = append(specs, boot.AppSpec{Ring: m.Ring, Path: m.Out, Name: filepath.Base(m.Out)})
	}
	for _, r := range rs {
		specs = append(specs, boot.AppSpec{Ring: o.Ring, Path: r.Binary, Name: r.Name})
	}
	apps, err := boot.AppModules(specs)
	if err != nil {
		return err
	}
	pol, err := boot.PolicyModules(manifest)
	if err != nil {
		return err
	}
	accel, note, err := boot.ResolveAccel(o.Accel)
	if err != nil {
		return err
	}
	if note != "" {
		fmt.Fprintln(o.Log, note)
	}
	names := make([]string, len(rs))
	for i, r := range rs {
		names[i] = r.Pkg
	}
	fmt.Fprintf(o.Log, "simpleos test: booting %d test binaries (%s) in ring %d, %d MiB, quota %d MiB each\n",
		len(rs), strings.Join(names, " "), o.Ring, o.MemMB, o.Quota>>20)
	res, err := boot.Run(o.Context, boot.Options{
		Image:   o.Paths.Image,
		Modules: append(append([]string{o.Paths.ELF}, apps...), pol...),
		Timeout: o.Timeout + BootSlack,
		MemMB:   o.MemMB,
		SMP:     o.SMP,
		Accel:   accel,
		Disk:    o.Disk,
		Stdout:  o.Console,
	})
	if err != nil {
		return err
	}
	for _, r := range rs {
		Parse(r, res)
	}
	return nil
}

// Manifest is the policy of a test boot: the disk driver and the file-system server as in
// policy/system.policy, and one module per test binary.
func Manifest(o Options, rs []*Result) string {
	var b strings.Builder
	// /tmp is the server's memory: an eighth of the guest (at least the server's default 32
	// MiB) for the tests' temporary files, and the server's quota grows with it.
	tmp := max(o.MemMB/8, 32)
	fmt.Fprintf(&b, `# Generated by simpleos test: the disk driver, the file-system server and the test binaries.

module blk
    binary   tier1/blk
    ring     1
    device   1af4:1042
    dma      1MiB
    serves   blk
    restart  always
    crashes  5/30s
    cpu      900ms/1s
end

module fs
    binary   ring3/fs
    ring     3
    serves   fs
    calls    blk
    quota    %dMiB
    args     --tmp-size=%dMiB
    restart  always
    crashes  5/30s
end
`, tmp+64, tmp)
	args := []string{"-test.v=false", "-test.paniconexit0", "-test.timeout=" + o.Timeout.String()}
	if o.Run != "" {
		args = append(args, "-test.run="+o.Run)
	}
	if o.Skip != "" {
		args = append(args, "-test.skip="+o.Skip)
	}
	args = append(args, o.Args...)
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = strconv.Quote(a) // the manifest's words: a regexp may hold '#' or spaces
	}
	for _, r := range rs {
		bin := r.Binary
		if rel, err := filepath.Rel(o.Paths.Root, r.Binary); err == nil {
			bin = filepath.ToSlash(rel) // the policy names binaries relative to the repository
		}
		dir := PkgDir(r.Pkg)
		grants := ""
		for _, td := range r.Testdata {
			grants += "\n    files    " + td + " ro"
		}
		fmt.Fprintf(&b, `
# %s's tests: its directory read-only (and the testdata/ folders above it), /tmp for
# t.TempDir, nothing else.
module %s
    binary   %s
    ring     %d
    files    %s ro%s
    files    /tmp rw
    cwd      %s
    quota    %dMiB
    restart  never
    args     %s
end
`, r.Pkg, r.Name, bin, o.Ring, dir, grants, dir, o.Quota>>20, strings.Join(quoted, " "))
	}
	return b.String()
}

// PkgDir is where a package's directory lies in the guest.
func PkgDir(importPath string) string { return "/pkg/" + importPath }

var endLine = regexp.MustCompile(`^app (\S+) (.*) \[ring \d+, pid \d+, cpu (\S+), ran (\S+); (.*)\]$`)

// Parse reads a package's result from a boot's console: its task's lines and the supervisor's
// line for its end.
func Parse(r *Result, res boot.Result) {
	prefix := "[" + r.Name + "] "
	var end []string
	quota := ""
	sc := bufio.NewScanner(bytes.NewReader(res.Output))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if s, ok := strings.CutPrefix(line, prefix); ok {
			r.Output = append(r.Output, s)
			continue
		}
		if m := endLine.FindStringSubmatch(line); m != nil && m[1] == r.Name {
			end = m
		}
		if strings.HasPrefix(line, "supervisor: "+r.Name+" reached its memory quota") {
			quota = "its memory quota exceeded (raise it with simpleos test --quota MiB, or --mem)"
			if f := strings.Fields(line); len(f) > 7 {
				quota = fmt.Sprintf("its memory quota of %s MiB exceeded (raise it with simpleos test --quota MiB, or --mem)", f[7])
			}
		}
	}
	if end == nil {
		r.Status = "FAIL"
		switch {
		case res.TimedOut:
			r.Reason = fmt.Sprintf("no end: the boot timed out after %v", res.Duration.Round(time.Second))
		case res.Crashed:
			r.Reason = "no end: the core crashed"
		default:
			r.Reason = fmt.Sprintf("no end reported (the machine stopped with status %d)", res.Status)
		}
		return
	}
	r.CPU, _ = time.ParseDuration(end[3])
	r.Time, _ = time.ParseDuration(end[4])
	if end[2] == "exited 0" {
		r.Status = "ok"
		return
	}
	r.Status = "FAIL"
	r.Reason = "app " + r.Name + " " + end[2]
	if quota != "" {
		r.Reason += ": " + quota
	}
}

// Print writes go test's lines for the results: "ok  \tPKG\t1.234s", "FAIL\tPKG\t1.234s" after
// the failed binary's output and the reason, "?   \tPKG\t[no test files]". It returns 1 if
// any package failed, as go test exits.
func Print(w io.Writer, rs []Result) int {
	status := 0
	for _, r := range rs {
		switch r.Status {
		case "?":
			fmt.Fprintf(w, "?   \t%s\t[no test files]\n", r.Pkg)
		case "ok":
			fmt.Fprintf(w, "ok  \t%s\t%.3fs\n", r.Pkg, r.Time.Seconds())
		default:
			status = 1
			for _, l := range r.Output {
				fmt.Fprintln(w, l)
			}
			if r.Reason != "" {
				fmt.Fprintf(w, "simpleos: %s\n", r.Reason)
			}
			if r.Time > 0 {
				fmt.Fprintf(w, "FAIL\t%s\t%.3fs\n", r.Pkg, r.Time.Seconds())
			} else {
				fmt.Fprintf(w, "FAIL\t%s\n", r.Pkg)
			}
		}
	}
	return status
}

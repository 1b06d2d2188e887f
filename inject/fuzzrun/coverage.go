package fuzzrun

import (
	"bufio"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
)

// FileCoverage is the share of one file's statements the fuzzers reached.
type FileCoverage struct {
	File           string // relative to the module, e.g. core/kernel/sys/mem.go
	Covered, Total int
	Baseline       int  // statements a boot covers without fuzzing
	SyscallLayer   bool // one of the files that serve system calls
}

// Percent is the share covered.
func (f FileCoverage) Percent() float64 {
	if f.Total == 0 {
		return 0
	}
	return 100 * float64(f.Covered) / float64(f.Total)
}

// syscallLayer names the files of core/kernel that serve system calls: the table and its
// Linux families (package sys), the services' calls, user-memory access and the loans.
func syscallLayer(file string) bool {
	rel, ok := strings.CutPrefix(file, "core/kernel/")
	if !ok {
		return false
	}
	pkg, base := filepath.Dir(rel), filepath.Base(rel)
	switch pkg {
	case "sys", "files", "signal", "ipc", "event", "notify", "console", "content", "mmio", "filter", "rng":
		return true
	case "mm":
		return base == "uaccess.go" || base == "loan.go"
	case "task":
		return base == "call.go" || base == "grants.go" || base == "end.go"
	}
	return false
}

// coverageOf merges the boots' counters with `go tool covdata` and counts statements per file.
func coverageOf(out, name string, dirs []string) ([]FileCoverage, error) {
	text := filepath.Join(out, name)
	cmd := exec.Command("go", "tool", "covdata", "textfmt", "-i="+strings.Join(dirs, ","), "-o="+text)
	if b, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("fuzzrun: go tool covdata: %v\n%s", err, b)
	}
	f, err := os.Open(text)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	// Lines: "FILE:L.C,L.C STATEMENTS COUNT", a block once per boot's profile: a block is
	// covered if any count is positive.
	type block struct {
		file  string
		stmts int
	}
	hit := map[string]bool{}
	blocks := map[string]block{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var pos string
		var stmts, count int
		if _, err := fmt.Sscanf(sc.Text(), "%s %d %d", &pos, &stmts, &count); err != nil {
			continue
		}
		file, _, _ := strings.Cut(pos, ":")
		blocks[pos] = block{file, stmts}
		if count > 0 {
			hit[pos] = true
		}
	}
	per := map[string]*FileCoverage{}
	for pos, b := range blocks {
		rel := strings.TrimPrefix(b.file, "github.com/simpleos/simpleos/")
		fc := per[rel]
		if fc == nil {
			fc = &FileCoverage{File: rel, SyscallLayer: syscallLayer(rel)}
			per[rel] = fc
		}
		fc.Total += b.stmts
		if hit[pos] {
			fc.Covered += b.stmts
		}
	}
	var res []FileCoverage
	for _, fc := range per {
		if strings.HasPrefix(fc.File, "core/kernel/") { // the main package is built with counters only to register them
			res = append(res, *fc)
		}
	}
	sort.Slice(res, func(i, j int) bool { return res[i].File < res[j].File })
	return res, sc.Err()
}

// Totals sums coverage over the files for which keep is true.
func Totals(files []FileCoverage, keep func(FileCoverage) bool) (covered, total int) {
	for _, f := range files {
		if keep(f) {
			covered += f.Covered
			total += f.Total
		}
	}
	return covered, total
}

// KeyPaths are the functions of core/kernel a campaign must reach to prove anything, by file
// (relative to core/kernel): the IPC slow and fast paths and the loans behind page grants,
// the waiting paths of pipes, epoll and futexes, the memory calls, device memory, events and
// content.
var KeyPaths = map[string][]string{
	"ipc/ipc.go":         {"SysCall", "takeCall", "recvOn", "prepareReply", "abandon", "lend", "endLoan", "checkCall"},
	"ipc/fast.go":        {"replyRecvFast"},
	"mm/loan.go":         {"Lend", "revokeLoans", "endLoan"},
	"files/pipe.go":      {"pipeRead", "pipeWrite", "closePipeEnd"},
	"files/epoll.go":     {"EpollCtl", "EpollWait", "eventfdRead", "eventfdWrite"},
	"files/file.go":      {"Write", "Writev", "Read", "Close", "Fcntl", "lookupFor"},
	"sys/futex.go":       {"futex", "FutexWake"},
	"sys/mem.go":         {"mmap", "munmap", "mprotect", "madvise"},
	"sys/thread.go":      {"clone", "exitThread"},
	"sys/misc.go":        {"getrandom"},
	"mmio/mmio.go":       {"SysMap"},
	"signal/sys.go":      {"SysAction", "SysProcmask", "SysAltstack", "SysTgkill"},
	"event/event.go":     {"SysSubscribe", "SysPost", "SysRecv"},
	"content/store.go":   {"SysRead", "SysWrite"},
	"notify/notify.go":   {"SysWait"},
	"task/grants.go":     {"ReadName"},
	"console/console.go": {"SysAttach", "SysFetch"},
}

// Reached returns, for each function of KeyPaths, whether a covered block of the profile
// (coverage.txt, as go tool covdata textfmt writes it) lies inside it.
func Reached(root, profile string) (map[string]bool, error) {
	b, err := os.ReadFile(profile)
	if err != nil {
		return nil, err
	}
	type span struct{ from, to int }
	covered := map[string][]span{} // file, relative to core/kernel -> covered blocks' lines
	for _, l := range strings.Split(string(b), "\n") {
		var pos string
		var stmts, count, l0, c0, l1, c1 int
		if _, err := fmt.Sscanf(l, "%s %d %d", &pos, &stmts, &count); err != nil || count == 0 {
			continue
		}
		file, rng, _ := strings.Cut(pos, ":")
		_, rel, ok := strings.Cut(file, "/core/kernel/")
		if !ok {
			continue
		}
		if _, err := fmt.Sscanf(rng, "%d.%d,%d.%d", &l0, &c0, &l1, &c1); err == nil {
			covered[rel] = append(covered[rel], span{l0, l1})
		}
	}
	out := map[string]bool{}
	fset := token.NewFileSet()
	for file, funcs := range KeyPaths {
		if len(funcs) == 0 {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(root, "core", "kernel", file), nil, 0)
		if err != nil {
			return nil, err
		}
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Recv != nil || !slices.Contains(funcs, fd.Name.Name) {
				continue
			}
			from, to := fset.Position(fd.Pos()).Line, fset.Position(fd.End()).Line
			key := file + ":" + fd.Name.Name
			out[key] = false
			for _, s := range covered[file] {
				if s.from >= from && s.to <= to {
					out[key] = true
					break
				}
			}
		}
		for _, fn := range funcs {
			if _, ok := out[file+":"+fn]; !ok {
				return nil, fmt.Errorf("fuzzrun: core/kernel/%s has no function %s (KeyPaths is out of date)", file, fn)
			}
		}
	}
	return out, nil
}

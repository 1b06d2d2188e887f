package vfs

// Paths: reading them from a task, resolving them against its root and working directory,
// and checking them against its grants.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes (Setup aside).

import (
	"unsafe"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/console"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/kernel/task"
)

// Path is an absolute, clean path: "/" or "/a/b", at most abi.FSPathMax bytes, NUL after.
type Path struct {
	n int
	b [abi.FSPathMax + 1]byte
}

//go:nosplit
func (p *Path) setRoot() { p.n, p.b[0], p.b[1] = 1, '/', 0 }

//go:nosplit
func (p *Path) addr() uintptr { return arch.Addr(&p.b[0]) }

// String returns the path (goroutine context: it allocates).
func (p *Path) String() string { return string(p.b[:p.n]) }

// Set makes p the clean form of s (goroutine context), which must be absolute.
func (p *Path) Set(s string) bool {
	p.setRoot()
	if len(s) == 0 || s[0] != '/' || len(s) > abi.FSPathMax {
		return false
	}
	var tmp [abi.FSPathMax + 1]byte
	copy(tmp[:], s)
	return p.walk(&tmp, len(s)) == 0
}

// walk applies the relative or absolute path src[:n] to p, component by component: "." and
// empty components are skipped, ".." goes up (never above "/"). It returns an errno.
//
//go:nosplit
func (p *Path) walk(src *[abi.FSPathMax + 1]byte, n int) int {
	i := 0
	if n > 0 && src[0] == '/' {
		p.setRoot()
	}
	for i < n {
		for i < n && src[i] == '/' {
			i++
		}
		j := i
		for j < n && src[j] != '/' {
			j++
		}
		switch {
		case j == i:
		case j-i == 1 && src[i] == '.':
		case j-i == 2 && src[i] == '.' && src[i+1] == '.':
			p.up()
		case j-i > 255:
			return abi.ENAMETOOLONG
		default:
			if !p.push(src[i:j]) {
				return abi.ENAMETOOLONG
			}
		}
		i = j
	}
	return 0
}

// up drops p's last component.
//
//go:nosplit
func (p *Path) up() {
	k := p.n - 1
	for k > 0 && p.b[k] != '/' {
		k--
	}
	if k == 0 {
		k = 1
	}
	p.n = k
	p.b[k] = 0
}

// push appends a component.
//
//go:nosplit
func (p *Path) push(c []byte) bool {
	need := len(c)
	if p.n > 1 {
		need++
	}
	if p.n+need > abi.FSPathMax {
		return false
	}
	if p.n > 1 {
		p.b[p.n] = '/'
		p.n++
	}
	for _, x := range c {
		p.b[p.n] = x
		p.n++
	}
	p.b[p.n] = 0
	return true
}

// join makes p root followed by the task-view path v (both clean).
//
//go:nosplit
func (p *Path) join(root, v *Path) bool {
	*p = *root
	if v.n <= 1 {
		return true
	}
	if root.n <= 1 {
		*p = *v
		return true
	}
	if root.n+v.n > abi.FSPathMax {
		return false
	}
	for i := 0; i < v.n; i++ {
		p.b[p.n+i] = v.b[i]
	}
	p.n += v.n
	p.b[p.n] = 0
	return true
}

// under reports whether p is prefix or lies beneath it.
//
//go:nosplit
func (p *Path) under(prefix *Path) bool {
	if prefix.n <= 1 {
		return true
	}
	if p.n < prefix.n {
		return false
	}
	for i := 0; i < prefix.n; i++ {
		if p.b[i] != prefix.b[i] {
			return false
		}
	}
	return p.n == prefix.n || p.b[prefix.n] == '/'
}

// readUser copies the NUL-terminated path at va from as into raw; it returns its length or
// -errno (EFAULT, ENAMETOOLONG, ENOENT for an empty path).
//
//go:nosplit
//go:noinline
func readUser(as *mm.AddressSpace, va uintptr, raw *[abi.FSPathMax + 1]byte) int {
	n := 0
	for n <= abi.FSPathMax {
		k, ok := as.UserPage(va+uintptr(n), false)
		if !ok {
			return -abi.EFAULT
		}
		chunk := int(mm.PageSize - (va+uintptr(n))&(mm.PageSize-1))
		for i := 0; i < chunk && n <= abi.FSPathMax; i++ {
			c := arch.Load8(k + uintptr(i))
			if c == 0 {
				if n == 0 {
					return -abi.ENOENT
				}
				return n
			}
			raw[n] = c
			n++
		}
	}
	return -abi.ENAMETOOLONG
}

// Grant is one path a task may reach: the path and everything beneath it.
type Grant struct {
	Write bool
	Path  Path
}

// MaxGrants bounds a task's path grants.
const MaxGrants = 8

// view is a task's file-system view: its root (a path of the server's tree that the task sees
// as "/"), its working directory (in the task's view), and its grants (server paths).
type view struct {
	root, cwd Path
	grants    [MaxGrants]Grant
	n         int
	all       bool // the core: every path
}

var views task.Attached[view]

// Setup sets task t's view from its policy (goroutine context, at its start): root and cwd
// ("" = "/"), and its grants as "PATH" read-only or "PATH:rw". ok=false if one is not an
// absolute path of at most abi.FSPathMax bytes.
func Setup(t *task.Task, root, cwd string, grants []string) bool {
	v := views.Of(t)
	*v = view{}
	v.root.setRoot()
	v.cwd.setRoot()
	if t.IsCore() {
		v.all = true
		return true
	}
	if root != "" && !v.root.Set(root) || cwd != "" && !v.cwd.Set(cwd) {
		return false
	}
	for _, g := range grants {
		if v.n == MaxGrants {
			return false
		}
		w := false
		if len(g) > 3 && g[len(g)-3:] == ":rw" {
			g, w = g[:len(g)-3], true
		} else if len(g) > 3 && g[len(g)-3:] == ":ro" {
			g = g[:len(g)-3]
		}
		if !v.grants[v.n].Path.Set(g) {
			return false
		}
		v.grants[v.n].Write = w
		v.n++
	}
	return true
}

// allowed checks server path p against t's grants, for writing or not; a refusal writes an
// audit line.
//
//go:nosplit
func allowed(t *task.Task, what string, p *Path, write bool) bool {
	v := views.Of(t)
	if v.all || t.IsCore() {
		return true
	}
	for i := 0; i < v.n && i < MaxGrants; i++ {
		g := &v.grants[i]
		if p.under(&g.Path) && (g.Write || !write) {
			return true
		}
	}
	if console.AuditHead(t) {
		console.Puts(what)
		console.Puts(" \"")
		console.Puts(unsafe.String(&p.b[0], p.n))
		if write {
			console.Puts("\" for writing: not in its policy's files grants\n")
		} else {
			console.Puts("\": not in its policy's files grants\n")
		}
	}
	return false
}

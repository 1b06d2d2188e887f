package policy

import (
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/supervisor"
)

// Validate checks a manifest against every rule in the package documentation, whether it came
// from Parse or was built in Go (errors then name the module's line, or none). The error, if
// any, is an Errors. Validate never panics.
func Validate(m *Manifest) error {
	if m == nil {
		l := errorList{file: "<nil>"}
		l.add(0, "syntax", "no manifest")
		return l.result()
	}
	v := &validator{m: m, errorList: errorList{file: m.File}}
	if len(m.Modules) > MaxModules {
		v.add(m.Modules[MaxModules].Line, "module-count", "%d modules: the core runs at most %d", len(m.Modules), MaxModules)
	}
	names := map[string]*Module{}
	for i := range m.Modules {
		mod := &m.Modules[i]
		if prev, dup := names[mod.Name]; dup {
			v.add(mod.Line, "module-name", "module %q is already defined on line %d", mod.Name, prev.Line)
		} else {
			names[mod.Name] = mod
		}
		v.module(mod)
	}
	v.overlaps()
	v.endpoints()
	v.contentFiles()
	return v.result()
}

type validator struct {
	errorList
	m *Manifest
}

// validName reports whether s is 1 to max bytes of [a-z0-9_-], with dots allowed (between
// such words) when dots is set. Every such name is an abi.Name: the kernel keeps it whole.
func validName(s string, max int, dots bool) bool {
	if s == "" || len(s) > max || abi.CheckName(s) != nil {
		return false
	}
	for _, word := range strings.Split(s, ".") {
		if word == "" || (!dots && word != s) {
			return false
		}
		for i := 0; i < len(word); i++ {
			c := word[i]
			if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '-') {
				return false
			}
		}
	}
	return true
}

// maxEndpointLen bounds endpoint and event names: the kernel's name limit.
const maxEndpointLen = abi.NameMax

func (v *validator) module(m *Module) {
	if !validName(m.Name, MaxNameLen, false) {
		v.add(m.Line, "module-name", "module name %q: want 1 to %d characters of a-z, 0-9, _ and -", m.Name, MaxNameLen)
	}
	switch {
	case m.Binary == "":
		v.add(m.Line, "binary-missing", "module %q names no binary", m.Name)
	case !validBinary(m.Binary):
		v.add(m.LineOf("binary", ""), "binary-path", "module %q: binary %q must be a clean relative path inside the repository (like tier1/console)", m.Name, m.Binary)
	}
	_, saidRing := m.lines["ring"]
	switch {
	case m.Ring == 0 && !saidRing:
		v.add(m.Line, "ring-range", "module %q has no ring (want ring 1, 2 or 3)", m.Name)
	case m.Ring < 1 || m.Ring > 3:
		v.add(m.LineOf("ring", ""), "ring-range", "module %q: ring %d: want 1, 2 or 3", m.Name, m.Ring)
	default:
		dir, _, _ := strings.Cut(m.Binary, "/")
		for _, t := range TierDirs {
			if dir == t.Dir && m.Ring != t.Ring {
				v.add(m.LineOf("ring", ""), "binary-tier", "module %q runs in ring %d but its binary %s is in %s/, whose programs run in ring %d", m.Name, m.Ring, m.Binary, t.Dir, t.Ring)
			}
		}
	}
	v.hardware(m)
	v.paths(m)
	for _, list := range []struct {
		kw    string
		items []string
		rule  string
		what  string
		dots  bool
	}{
		{"serves", m.Serves, "endpoint-name", "endpoint", false},
		{"calls", m.Calls, "endpoint-name", "endpoint", false},
		{"events", m.Events, "event-name", "event", true},
		{"publishes", m.Publishes, "event-name", "event", true},
	} {
		if len(list.items) > abi.MaxPolicyNames {
			v.add(m.LineOf(list.kw, ""), "names-max", "module %q: %d %s names; the core holds at most %d per module", m.Name, len(list.items), list.kw, abi.MaxPolicyNames)
		}
		for _, s := range list.items {
			if !validName(s, maxEndpointLen, list.dots) {
				want := "a-z, 0-9, _ and -"
				if list.dots {
					want += ", in words separated by dots (like pipe.created)"
				}
				v.add(m.LineOf(list.kw, s), list.rule, "module %q: %s name %q: want 1 to %d characters of %s", m.Name, list.what, s, maxEndpointLen, want)
			}
		}
	}
	if len(m.Events) > 0 && m.Ring != 2 {
		v.add(m.LineOf("events", ""), "events-ring", "module %q runs in ring %d and may not subscribe to events (only ring-2 security modules observe system events)", m.Name, m.Ring)
	}
	if m.Quota != 0 && (m.Quota < MinQuota || m.Quota > MaxQuota) {
		v.add(m.LineOf("quota", ""), "quota-range", "module %q: quota %s is outside 1MiB..1GiB", m.Name, formatSize(m.Quota))
	}
	switch {
	case m.Reserve != 0 && (m.Reserve < MinQuota || m.Reserve > MaxQuota):
		v.add(m.LineOf("reserve", ""), "quota-range", "module %q: reserve %s is outside 1MiB..1GiB", m.Name, formatSize(m.Reserve))
	case m.Reserve != 0 && m.Quota != 0 && m.Reserve > m.Quota:
		v.add(m.LineOf("reserve", ""), "quota-range", "module %q: reserve %s is above its quota %s", m.Name, formatSize(m.Reserve), formatSize(m.Quota))
	}
	c := m.CPU
	switch {
	case c.Total < 0 || c.PerPeriod < 0 || c.Period < 0:
		v.add(m.LineOf("cpu", ""), "cpu-budget", "module %q: cpu %s: budgets and periods must be positive", m.Name, c)
	case (c.PerPeriod > 0) != (c.Period > 0):
		v.add(m.LineOf("cpu", ""), "cpu-budget", "module %q: cpu %s: a per-period budget needs both the budget and the period", m.Name, c)
	}
	switch {
	case m.CrashBudget < 0 || m.CrashWindow < 0:
		v.add(m.LineOf("crashes", ""), "crash-budget", "module %q: crashes %d/%v: need at least 1 crash within a positive time", m.Name, m.CrashBudget, m.CrashWindow)
	case (m.CrashBudget > 0) != (m.CrashWindow > 0):
		v.add(m.LineOf("crashes", ""), "crash-budget", "module %q: crashes %d/%v: need at least 1 crash within a positive time", m.Name, m.CrashBudget, m.CrashWindow)
	}
	if m.Watchdog < 0 {
		v.add(m.LineOf("watchdog", ""), "watchdog-range", "module %q: watchdog %v: the heartbeat deadline must be positive", m.Name, m.Watchdog)
	}
	if m.Spin < 0 {
		v.add(m.LineOf("spin", ""), "spin-range", "module %q: spin %v: the spinning limit must be positive", m.Name, m.Spin)
	}
	if m.Restart < supervisor.Never || m.Restart > supervisor.Always {
		v.add(m.LineOf("restart", ""), "syntax", "module %q: unknown restart rule %d", m.Name, int(m.Restart))
	}
	for _, f := range m.Filters {
		if !contains(m.Serves, f.Endpoint) && !contains(m.Events, f.Endpoint) {
			v.add(m.LineOf("filter", f.Endpoint), "filter-endpoint", "module %q: filter on %q, neither an endpoint it serves nor an event it subscribes to", m.Name, f.Endpoint)
		}
		if f.Program == "" || strings.ContainsAny(f.Program, " ,") {
			v.add(m.LineOf("filter", f.Endpoint), "syntax", "module %q: filter program path %q", m.Name, f.Program)
		}
	}
	if len(m.Content) > abi.MaxPolicyNames {
		v.add(m.LineOf("content", m.Content[0].Path), "names-max", "module %q: %d content files; the core holds at most %d per module", m.Name, len(m.Content), abi.MaxPolicyNames)
	}
	for _, cf := range m.Content {
		line := m.LineOf("content", cf.Path)
		switch {
		case cf.Path == "":
			v.add(line, "syntax", "module %q: content file with an empty path", m.Name)
		case abi.CheckName(cf.Path) != nil || abi.CheckName(cf.Rollback) != nil && cf.Rollback != "":
			v.add(line, "content-name", "module %q: content %s rollback %s: file names are 1 to %d characters of a-z, 0-9, _, - and . (the core's content store keeps them whole)", m.Name, cf.Path, cf.Rollback, abi.NameMax)
		case cf.Rollback == "":
			v.add(line, "content-rollback", "module %q: content %s names no rollback file (content PATH rollback PATH)", m.Name, cf.Path)
		case cf.Rollback == cf.Path:
			v.add(line, "content-rollback", "module %q: content %s is its own rollback file", m.Name, cf.Path)
		}
	}
}

func validBinary(b string) bool {
	if strings.HasPrefix(b, "/") || path.Clean(b) != b || b == "." || b == ".." || strings.HasPrefix(b, "../") {
		return false
	}
	for i := 0; i < len(b); i++ {
		if c := b[i]; c <= ' ' || c == 0x7f || c == '\\' {
			return false
		}
	}
	return true
}

// hardware checks ports, IRQs and memory ranges of one module.
func (v *validator) hardware(m *Module) {
	for _, kind := range []struct {
		kw, what string
		n        int
	}{{"ports", "I/O ports", len(m.Ports)}, {"irqs", "IRQs", len(m.IRQs)}, {"memory", "memory ranges", len(m.Memory)}, {"device", "a PCI device", btoi(m.Device != nil)}, {"dma", "DMA memory", btoi(m.DMA != 0)}} {
		if kind.n == 0 {
			continue
		}
		switch m.Ring {
		case 2:
			v.add(m.LineOf(kind.kw, ""), "ring2-hardware", "module %q runs in ring 2 and may not be granted %s (security modules observe and judge system events; no hardware)", m.Name, kind.what)
		case 3:
			v.add(m.LineOf(kind.kw, ""), "ring3-ports", "module %q runs in ring 3 and may not be granted %s", m.Name, kind.what)
		}
	}
	switch {
	case m.DMA != 0 && m.Device == nil:
		v.add(m.LineOf("dma", ""), "dma-quota", "module %q has a dma quota but names no device to do DMA with", m.Name)
	case m.DMA != 0 && (m.DMA%PageSize != 0 || m.DMA > MaxDMA):
		v.add(m.LineOf("dma", ""), "dma-quota", "module %q: dma %s: want whole %d-byte pages, at most %s", m.Name, formatSize(m.DMA), PageSize, formatSize(MaxDMA))
	}
	for _, r := range m.Ports {
		line := m.LineOf("ports", r.String())
		if r.Lo > r.Hi {
			v.add(line, "syntax", "module %q: port range %#x-%#x is backwards", m.Name, r.Lo, r.Hi)
			continue
		}
		for _, res := range ReservedPorts {
			if r.Lo <= res.Hi && res.Lo <= r.Hi {
				v.add(line, "reserved-ports", "module %q: ports %s include %s, which the core keeps: %s", m.Name, r, res.PortRange, res.Why)
			}
		}
	}
	for _, irq := range m.IRQs {
		line := m.LineOf("irqs", strconv.Itoa(irq))
		if irq < 0 || irq > MaxIRQ {
			v.add(line, "irq-range", "module %q: irq %d: want 0 to %d (I/O APIC inputs)", m.Name, irq, MaxIRQ)
			continue
		}
		for _, res := range ReservedIRQs {
			if irq == res.IRQ {
				v.add(line, "reserved-irqs", "module %q: irq %d is the core's: %s", m.Name, irq, res.Why)
			}
		}
	}
	for _, r := range m.Memory {
		line := m.LineOf("memory", r.String())
		switch {
		case r.Lo > r.Hi:
			v.add(line, "syntax", "module %q: memory range %#x-%#x is backwards", m.Name, r.Lo, r.Hi)
			continue
		case r.Lo%PageSize != 0 || r.Hi%PageSize != PageSize-1:
			v.add(line, "memory-align", "module %q: memory %s must cover whole %d-byte pages (start at a multiple of %#x, end just before one)", m.Name, r, PageSize, PageSize)
		}
		for _, res := range ReservedMemoryRanges {
			if r.Lo <= res.Hi && res.Lo <= r.Hi {
				v.add(line, "reserved-memory", "module %q: memory %s includes %s, which the core keeps: %s", m.Name, r, res.Range, res.Why)
			}
		}
	}
}

// span is one granted range and who holds it, for overlap checks.
type span struct {
	lo, hi uint64
	mod    *Module
	text   string
	line   int
}

// overlaps reports port and memory ranges held twice and IRQs listed twice, across modules or
// within one, at the later line.
func (v *validator) overlaps() {
	var ports, mem []span
	irqs := map[int]span{}
	for i := range v.m.Modules {
		mod := &v.m.Modules[i]
		for _, r := range mod.Ports {
			if r.Lo <= r.Hi {
				ports = append(ports, span{uint64(r.Lo), uint64(r.Hi), mod, "ports " + r.String(), mod.LineOf("ports", r.String())})
			}
		}
		for _, r := range mod.Memory {
			if r.Lo <= r.Hi {
				mem = append(mem, span{r.Lo, r.Hi, mod, "memory " + r.String(), mod.LineOf("memory", r.String())})
			}
		}
		for _, irq := range mod.IRQs {
			s := span{mod: mod, text: "irq " + strconv.Itoa(irq), line: mod.LineOf("irqs", strconv.Itoa(irq))}
			if prev, dup := irqs[irq]; dup {
				v.add(s.line, "irq-shared", "module %q %s is already granted to module %q (line %d)", mod.Name, s.text, prev.mod.Name, prev.line)
				continue
			}
			irqs[irq] = s
		}
	}
	v.sweep(ports, "port-overlap")
	v.sweep(mem, "memory-overlap")
	devices := map[DeviceRef]*Module{}
	for i := range v.m.Modules {
		mod := &v.m.Modules[i]
		if mod.Device == nil {
			continue
		}
		if prev, dup := devices[*mod.Device]; dup {
			v.add(mod.LineOf("device", ""), "device-shared", "module %q device %s is already driven by module %q (line %d): one driver per device", mod.Name, mod.Device, prev.Name, prev.LineOf("device", ""))
			continue
		}
		devices[*mod.Device] = mod
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CheckDevices resolves every device statement against the machine the manifest runs on:
// resolve returns the slot (bus<<8 | dev<<3 | fn) a reference names, or false when the machine
// has no such device (rule device-missing); two modules whose devices resolve to one slot
// break rule device-shared. The core runs it at boot, after enumerating PCI; it returns the
// slot of each module that names a device.
func (m *Manifest) CheckDevices(resolve func(DeviceRef) (uint16, bool)) (map[string]uint16, error) {
	l := errorList{file: m.File}
	slots := map[string]uint16{}
	owner := map[uint16]*Module{}
	for i := range m.Modules {
		mod := &m.Modules[i]
		if mod.Device == nil {
			continue
		}
		line := mod.LineOf("device", "")
		slot, ok := resolve(*mod.Device)
		if !ok {
			l.add(line, "device-missing", "module %q: device %s: no such PCI device on this machine", mod.Name, mod.Device)
			continue
		}
		if prev, dup := owner[slot]; dup {
			l.add(line, "device-shared", "module %q device %s is the device module %q drives (line %d): one driver per device", mod.Name, mod.Device, prev.Name, prev.LineOf("device", ""))
			continue
		}
		owner[slot] = mod
		slots[mod.Name] = slot
	}
	return slots, l.result()
}

// sweep reports ranges that overlap an earlier one in address order: O(n log n).
func (v *validator) sweep(spans []span, rule string) {
	sort.SliceStable(spans, func(i, j int) bool { return spans[i].lo < spans[j].lo })
	var widest *span // the range reaching highest so far
	for i := range spans {
		s := &spans[i]
		if widest != nil && s.lo <= widest.hi {
			a, b := widest, s // report at the later line, naming the other
			if a.line > b.line {
				a, b = b, a
			}
			v.add(b.line, rule, "module %q %s (line %d) overlaps module %q %s (line %d)", b.mod.Name, b.text, b.line, a.mod.Name, a.text, a.line)
		}
		if widest == nil || s.hi > widest.hi {
			widest = s
		}
	}
}

// endpoints checks that each endpoint has exactly one server and every call has one.
func (v *validator) endpoints() {
	servers := map[string]*Module{}
	for i := range v.m.Modules {
		mod := &v.m.Modules[i]
		for _, e := range mod.Serves {
			line := mod.LineOf("serves", e)
			switch prev, dup := servers[e]; {
			case IsCoreEndpoint(e):
				v.add(line, "endpoint-duplicate", "module %q serves %q, which the core serves", mod.Name, e)
			case dup:
				v.add(line, "endpoint-duplicate", "module %q serves %q, already served by module %q (line %d)", mod.Name, e, prev.Name, prev.LineOf("serves", e))
			default:
				servers[e] = mod
			}
		}
	}
	for i := range v.m.Modules {
		mod := &v.m.Modules[i]
		for _, e := range mod.Calls {
			srv, ok := servers[e]
			switch {
			case !ok && !IsCoreEndpoint(e):
				v.add(mod.LineOf("calls", e), "endpoint-unserved", "module %q calls %q, which no module serves (core endpoints: %s)", mod.Name, e, strings.Join(CoreEndpoints, ", "))
			case ok && srv.ThirdParty && !mod.ThirdParty:
				// Safe mode starts the caller but not the server: the system's own modules
				// must not depend on third-party ones.
				v.add(mod.LineOf("calls", e), "vendor-calls", "module %q calls %q, served by third-party module %q (line %d): a safe-mode boot starts the caller without it (mark the caller vendor third-party, or serve %q from a system module)", mod.Name, e, srv.Name, srv.Line, e)
			}
		}
	}
}

// contentFiles checks that every content and rollback path is named once in the manifest.
func (v *validator) contentFiles() {
	type owner struct {
		mod  *Module
		line int
	}
	seen := map[string]owner{}
	for i := range v.m.Modules {
		mod := &v.m.Modules[i]
		for _, cf := range mod.Content {
			line := mod.LineOf("content", cf.Path)
			for _, p := range []string{cf.Path, cf.Rollback} {
				if p == "" || (p == cf.Rollback && p == cf.Path) {
					continue
				}
				if prev, dup := seen[p]; dup {
					v.add(line, "content-duplicate", "module %q: content file %s is already named by module %q (line %d)", mod.Name, p, prev.mod.Name, prev.line)
					continue
				}
				seen[p] = owner{mod, line}
			}
		}
	}
}

// formatSize writes n with the largest unit dividing it.
func formatSize(n uint64) string {
	for _, u := range []struct {
		suffix string
		mult   uint64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.mult && n%u.mult == 0 {
			return fmt.Sprintf("%d%s", n/u.mult, u.suffix)
		}
	}
	return strconv.FormatUint(n, 10)
}

// CheckMemory checks every memory grant against the machine the manifest runs on: a range
// isRAM reports as RAM is never device memory, and granting it would hand a driver the core's
// and other tasks' frames. The core runs it at boot with the firmware's memory map (the host
// cannot know the machine's RAM); errors use rule memory-ram.
func (m *Manifest) CheckMemory(isRAM func(lo, hi uint64) bool) error {
	l := errorList{file: m.File}
	for i := range m.Modules {
		mod := &m.Modules[i]
		for _, r := range mod.Memory {
			if r.Lo <= r.Hi && isRAM(r.Lo, r.Hi+1) {
				l.add(mod.LineOf("memory", r.String()), "memory-ram", "module %q: memory %s is RAM, not device memory: the core never grants its own or its tasks' frames", mod.Name, r)
			}
		}
	}
	return l.result()
}

// MaxFileGrants is the most files statements a module may have (the core's vfs.MaxGrants).
const MaxFileGrants = 8

// MaxPath is the longest path a files, root or cwd statement may give (the core's
// abi.FSPathMax).
const MaxPath = 1023

// paths checks the files, root and cwd statements: absolute, clean paths within the core's
// limits.
func (v *validator) paths(m *Module) {
	check := func(kw, item, p string) {
		if p == "" || p[0] != '/' || path.Clean(p) != p || len(p) > MaxPath || strings.ContainsAny(p, "\x00") {
			v.add(m.LineOf(kw, item), "path", "module %q: %s %q: want an absolute, clean path of at most %d bytes (like /data)", m.Name, kw, p, MaxPath)
		}
	}
	for _, g := range m.Files {
		check("files", g.Path, g.Path)
	}
	if len(m.Files) > MaxFileGrants {
		v.add(m.LineOf("files", m.Files[MaxFileGrants].Path), "files-count", "module %q: %d files statements: at most %d", m.Name, len(m.Files), MaxFileGrants)
	}
	for _, c := range m.Content {
		if c.Dir != "" {
			check("content", c.Path, c.Dir)
		}
	}
	if m.Root != "" {
		check("root", "", m.Root)
	}
	if m.Cwd != "" {
		check("cwd", "", m.Cwd)
	}
}

package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/simpleos/simpleos/core/supervisor"
)

// Manifest is a parsed system policy: every module the system runs, in file order.
type Manifest struct {
	File    string // the name errors use, as given to Parse
	Modules []Module
}

// Module is one task of the system and everything it is granted.
type Module struct {
	Name   string
	Line   int    // line of the module statement (0 when built in Go)
	Binary string // the module's program: a Go package directory relative to the repository
	Ring   int    // 1, 2 or 3

	// Hardware: ring 1 only.
	Ports  []PortRange // I/O ports
	IRQs   []int       // interrupt lines (I/O APIC inputs 0-23)
	Memory []Range     // MMIO ranges, whole pages
	// Device is the PCI function the module drives (its memory BARs, its MSI-X interrupts,
	// its IOMMU domain); DMA is the most DMA memory it may hold at once, in bytes (0: none).
	Device *DeviceRef
	DMA    uint64

	Quota uint64 // memory quota in bytes (pages and page tables); 0 = the core's default
	// Reserve is the memory the core promises the module when it starts (no other task can
	// take it); 0 = the smaller of its quota and the core's default (8 MiB).
	Reserve uint64
	CPU     CPUBudget // zero fields = unlimited

	Serves []string // endpoints this module serves
	Calls  []string // endpoints this module may call
	Events []string // events this module may subscribe to (ring 2 only)
	// Publishes lists the events this module may publish (any ring): the core refuses every
	// other event_post, so no task can spoof what the security modules judge.
	Publishes []string

	// Restart is always set by Parse: the manifest's restart statement, or the ring's default
	// (supervisor.DefaultRules) when there is none. Its zero value is supervisor.Never.
	Restart supervisor.Restart
	// CrashBudget crashes within CrashWindow quarantine the module; 0 = the ring's default.
	CrashBudget int
	CrashWindow time.Duration
	Watchdog    time.Duration // heartbeat deadline; 0 = none
	Spin        time.Duration // spinning limit (supervisor.Rules.Spin); 0 = none

	Content []ContentFile // content (data) files the module reads, each with its rollback
	// Files are the paths of the file system the module may reach (each with everything
	// beneath it), read-only or read-write; anything else is EACCES. Root is the directory it
	// sees as "/" ("" = the real root) and Cwd its working directory in that view ("" = "/").
	Files     []PathGrant
	Root, Cwd string
	Filters   []Filter // eBPF programs that screen calls to endpoints it serves
	Args      []string // program arguments after argv[0] (which is Name)

	// ThirdParty marks a module not shipped with the system (vendor third-party): a safe-mode
	// boot (safemode on the kernel command line) does not start it, so that a machine whose
	// third-party code crashes it at every boot can still be brought up and repaired.
	ThirdParty bool

	// lines maps "keyword" and "keyword item" to the line that first said it, for errors.
	lines map[string]int
}

// The values of the vendor statement: who ships a module's code.
const (
	VendorSystem     = "system"      // shipped with the system (the default)
	VendorThirdParty = "third-party" // someone else's: left out of a safe-mode boot
)

// DeviceRef names a PCI function: by vendor and device ID (the first such function found), or
// by its slot.
type DeviceRef struct {
	BySlot           bool
	Vendor, DeviceID uint16
	Bus, Dev, Fn     uint8
}

// ParseDevice reads VVVV:DDDD (hex IDs) or BB:DD.F (a slot).
func ParseDevice(s string) (DeviceRef, bool) {
	a, b, ok := strings.Cut(s, ":")
	if !ok {
		return DeviceRef{}, false
	}
	if dev, fn, slot := strings.Cut(b, "."); slot {
		bus, e1 := strconv.ParseUint(a, 16, 8)
		d, e2 := strconv.ParseUint(dev, 16, 8)
		f, e3 := strconv.ParseUint(fn, 16, 8)
		if e1 != nil || e2 != nil || e3 != nil || len(a) != 2 || len(dev) != 2 || len(fn) != 1 || d > 31 || f > 7 {
			return DeviceRef{}, false
		}
		return DeviceRef{BySlot: true, Bus: uint8(bus), Dev: uint8(d), Fn: uint8(f)}, true
	}
	v, e1 := strconv.ParseUint(a, 16, 16)
	d, e2 := strconv.ParseUint(b, 16, 16)
	if e1 != nil || e2 != nil || len(a) != 4 || len(b) != 4 || v == 0xffff {
		return DeviceRef{}, false
	}
	return DeviceRef{Vendor: uint16(v), DeviceID: uint16(d)}, true
}

// String formats r as ParseDevice reads it.
func (r DeviceRef) String() string {
	if r.BySlot {
		return fmt.Sprintf("%02x:%02x.%x", r.Bus, r.Dev, r.Fn)
	}
	return fmt.Sprintf("%04x:%04x", r.Vendor, r.DeviceID)
}

// MaxDMA is the largest DMA quota a module may have: the core's limit per device (16 MiB).
const MaxDMA = 16 << 20

// PortRange is an inclusive range of I/O ports.
type PortRange struct{ Lo, Hi uint16 }

// Range is an inclusive range of physical addresses.
type Range struct{ Lo, Hi uint64 }

// CPUBudget is a module's CPU allowance: at most Total over an instance's whole life, and at
// most PerPeriod in every Period of wall time. Zero means no limit of that kind.
type CPUBudget struct {
	Total     time.Duration
	PerPeriod time.Duration
	Period    time.Duration
}

// Filter attaches an eBPF program (a clang -target bpf object or raw instructions, verified by
// policy/bpf) to an endpoint the module serves — the core runs it on every call to that
// endpoint (IPC-call hook) and refuses the call (EPERM, one audit line) unless it returns 0 —
// or to an event the module subscribes to — the core runs it on every delivery of that event
// to the module (event hook) and drops the event unless it returns 0.
type Filter struct {
	Endpoint string
	Program  string // path of the program file
}

// PathGrant is a path of the file system a module may reach, and everything beneath it.
type PathGrant struct {
	Path  string // absolute, clean
	Write bool
}

// FileGrants returns the module's path grants as the core takes them: "PATH" (read-only) or
// "PATH:rw".
func (m *Module) FileGrants() []string {
	var out []string
	for _, g := range m.Files {
		if g.Write {
			out = append(out, g.Path+":rw")
		} else {
			out = append(out, g.Path)
		}
	}
	return out
}

// ContentFile is a data file a module loads (rules, signatures, channel files). Rollback is
// the last-known-good copy the core falls back to when an update of Path is rejected or makes
// the module crash.
//
// Dir is where the file lives on the disk (an absolute path of the file system): channel
// files are named there as the vendor names them (C-00000291-00000000-00000032.sys for
// channel 291, sequence 32). Without it, the file is /simpleos/content/NAME. The core keeps
// the last-known-good copies in /simpleos/content and the quarantine list in
// /simpleos/quarantine.
type ContentFile struct {
	Path     string
	Rollback string
	Dir      string
}

func (r PortRange) String() string {
	if r.Lo == r.Hi {
		return fmt.Sprintf("%#x", r.Lo)
	}
	return fmt.Sprintf("%#x-%#x", r.Lo, r.Hi)
}

// Contains reports whether p is in r.
func (r PortRange) Contains(p uint16) bool { return r.Lo <= p && p <= r.Hi }

func (r Range) String() string {
	if r.Lo == r.Hi {
		return fmt.Sprintf("%#x", r.Lo)
	}
	return fmt.Sprintf("%#x-%#x", r.Lo, r.Hi)
}

func (c CPUBudget) String() string {
	var parts []string
	if c.Total != 0 {
		parts = append(parts, c.Total.String())
	}
	if c.PerPeriod != 0 || c.Period != 0 {
		parts = append(parts, c.PerPeriod.String()+"/"+c.Period.String())
	}
	return strings.Join(parts, " ")
}

// Module returns the module called name.
func (m *Manifest) Module(name string) (*Module, bool) {
	if m == nil {
		return nil, false
	}
	for i := range m.Modules {
		if m.Modules[i].Name == name {
			return &m.Modules[i], true
		}
	}
	return nil, false
}

// Server returns the module serving endpoint. Endpoints the core serves (CoreEndpoints) have
// no module: ok is false for them; see IsCoreEndpoint.
func (m *Manifest) Server(endpoint string) (*Module, bool) {
	if m == nil {
		return nil, false
	}
	for i := range m.Modules {
		for _, e := range m.Modules[i].Serves {
			if e == endpoint {
				return &m.Modules[i], true
			}
		}
	}
	return nil, false
}

// ThirdParty returns the names of the modules marked vendor third-party, in manifest order:
// the ones a safe-mode boot leaves out.
func (m *Manifest) ThirdParty() []string {
	if m == nil {
		return nil
	}
	var out []string
	for _, mod := range m.Modules {
		if mod.ThirdParty {
			out = append(out, mod.Name)
		}
	}
	return out
}

// Binaries returns every module's binary once, in manifest order, for the build system.
func (m *Manifest) Binaries() []string {
	if m == nil {
		return nil
	}
	var out []string
	seen := map[string]bool{}
	for _, mod := range m.Modules {
		if mod.Binary != "" && !seen[mod.Binary] {
			seen[mod.Binary] = true
			out = append(out, mod.Binary)
		}
	}
	return out
}

// Rules maps the module's supervision statements to the supervisor's rules. Anything the
// manifest leaves unset (backoff always; crash budget, CPU and watchdog when absent) comes
// from supervisor.DefaultRules for the module's ring.
func (m Module) Rules() supervisor.Rules {
	r := supervisor.DefaultRules(m.Ring)
	r.Restart = m.Restart
	if m.CrashBudget > 0 {
		r.CrashBudget, r.CrashWindow = m.CrashBudget, m.CrashWindow
	}
	if m.CPU.Total > 0 {
		r.TotalCPU = m.CPU.Total
	}
	if m.CPU.PerPeriod > 0 && m.CPU.Period > 0 {
		r.CPUPerPeriod, r.Period = m.CPU.PerPeriod, m.CPU.Period
	}
	if m.Watchdog > 0 {
		r.Heartbeat = m.Watchdog
	}
	if m.Spin > 0 {
		r.Spin = m.Spin
	}
	return r
}

// AllowsPort reports whether the module is granted I/O port p. Only ring-1 modules ever are.
func (m Module) AllowsPort(p uint16) bool {
	if m.Ring != 1 {
		return false
	}
	for _, r := range m.Ports {
		if r.Contains(p) {
			return true
		}
	}
	return false
}

// PortList expands the module's port ranges into single ports, as the core's TaskSpec wants
// them (nil unless the module is in ring 1).
func (m Module) PortList() []uint16 {
	if m.Ring != 1 {
		return nil
	}
	var out []uint16
	for _, r := range m.Ports {
		for p := uint32(r.Lo); p <= uint32(r.Hi); p++ {
			out = append(out, uint16(p))
		}
	}
	return out
}

// MayCall reports whether the module may call endpoint: only endpoints listed in its calls
// statements, core endpoints included.
func (m Module) MayCall(endpoint string) bool { return contains(m.Calls, endpoint) }

// MaySubscribe reports whether the module may subscribe to event. Only ring-2 modules ever may.
func (m Module) MaySubscribe(event string) bool {
	return m.Ring == 2 && contains(m.Events, event)
}

// ServesEndpoint reports whether the module serves endpoint.
func (m Module) ServesEndpoint(endpoint string) bool { return contains(m.Serves, endpoint) }

// LineOf returns the line of the statement that said keyword (with item, when item is not
// empty), or the module's own line when unknown.
func (m Module) LineOf(keyword, item string) int {
	key := keyword
	if item != "" {
		key += " " + item
	}
	if l, ok := m.lines[key]; ok {
		return l
	}
	if l, ok := m.lines[keyword]; ok {
		return l
	}
	return m.Line
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

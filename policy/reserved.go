package policy

// The system's fixed facts, each kept here in one place: what the core keeps for itself and so
// may never be granted to a module, and the endpoints the core itself serves.

// MaxModules is the most modules one system may have: the core reads at most 64 Multiboot
// modules and the first is its own ELF (boot.MaxApps).
const MaxModules = 63

// MaxNameLen is the longest module name: a module's name is its task name (appspec.MaxNameLen).
const MaxNameLen = 32

// MaxQuota is the largest memory quota a module may ask for; MinQuota the smallest that a Go
// program can run in.
const (
	MaxQuota = 1 << 30 // 1 GiB
	MinQuota = 1 << 20 // 1 MiB
)

// MaxIRQ is the highest interrupt line: the I/O APIC has inputs 0-23.
const MaxIRQ = 23

// PageSize is the granularity of MMIO grants: memory ranges are mapped whole pages at a time.
const PageSize = 4096

// ReservedPort is a range of I/O ports the core owns.
type ReservedPort struct {
	PortRange
	Why string
}

// ReservedPorts are the I/O ports the core programs itself (core/kernel: apic.go, clock.go,
// crash.go, and the RTC read in core/main.go); granting them would let a driver break the
// core's interrupts, clocks or power-off.
var ReservedPorts = []ReservedPort{
	{PortRange{0x20, 0x21}, "master PIC (remapped and masked at boot)"},
	{PortRange{0x40, 0x43}, "PIT (TSC and APIC timer calibration)"},
	{PortRange{0x61, 0x61}, "PIT channel 2 gate / speaker port (calibration)"},
	{PortRange{0x70, 0x71}, "RTC/CMOS (wall clock at boot)"},
	{PortRange{0xa0, 0xa1}, "slave PIC"},
	{PortRange{0xe9, 0xe9}, "the core's protocol channel (QEMU's debug console): the launcher trusts what it carries"},
	{PortRange{0xf4, 0xf4}, "isa-debug-exit (power-off with a status)"},
	{PortRange{0xcf8, 0xcff}, "PCI configuration space"},
}

// ReservedIRQ is an interrupt line the core owns.
type ReservedIRQ struct {
	IRQ int
	Why string
}

// ReservedIRQs are the legacy interrupt lines of the devices in ReservedPorts.
var ReservedIRQs = []ReservedIRQ{
	{0, "PIT"},
	{2, "PIC cascade"},
	{8, "RTC"},
}

// ReservedMemory is a physical range the core owns.
type ReservedMemory struct {
	Range
	Why string
}

// ReservedMemoryRanges are physical ranges never granted as MMIO: the first 640 KiB (boot page
// tables, BIOS data) and the interrupt controllers' registers (core/kernel/layout.go).
var ReservedMemoryRanges = []ReservedMemory{
	{Range{0, 0x9ffff}, "conventional memory (boot structures)"},
	{Range{0xfec00000, 0xfec00fff}, "I/O APIC"},
	{Range{0xfee00000, 0xfee00fff}, "local APIC"},
}

// CoreEndpoints are the endpoints the core serves itself: a module may call them (when its
// calls statement lists them) but none may serve them.
//
//	core   the core's own services (task information, exit status)
//	names  the name service: looks endpoints up by name
var CoreEndpoints = []string{"core", "names"}

// IsCoreEndpoint reports whether the core serves endpoint.
func IsCoreEndpoint(endpoint string) bool { return contains(CoreEndpoints, endpoint) }

// TierDirs maps each module folder of the repository to the ring its programs run in
// (boot.Tiers): a binary under one of them must run in that ring. Binaries elsewhere (test
// programs) may run in any ring.
var TierDirs = []struct {
	Dir  string
	Ring int
}{{"tier1", 1}, {"tier2", 2}, {"ring3", 3}}

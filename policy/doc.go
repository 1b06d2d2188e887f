// Package policy reads and checks the system policy: one human-readable manifest
// (policy/system.policy) that says which modules the system runs, in which ring, with which
// hardware, endpoints, events and content files, and how each is supervised when it fails.
//
// The same code runs on the host (`simpleos policy check FILE`) and in the core at boot, so
// Parse and Validate do no I/O: they take the manifest's bytes and a file name used only in
// messages, use no cgo or reflection, and never panic, whatever the input.
//
// # Format
//
// A manifest is lines of UTF-8 text. Each line is a statement: a keyword followed by values,
// separated by spaces or tabs; indentation is free. A word starting with '#' begins a comment
// that runs to the end of the line (so "--color=#fff" is a value but " #x" is a comment). A
// word starting with '"' is a Go-syntax quoted string, for values with spaces, '#' or control
// characters. Blank lines are ignored. Keywords are lower case.
//
// Modules are blocks:
//
//	module NAME          # 1-32 characters of a-z 0-9 _ -; also the task name and argv[0]
//	    binary   PATH    # required: Go package directory of the program, relative to the repository
//	    ring     N       # required: 1 (driver), 2 (security module) or 3 (application)
//	    ports    R...    # I/O port ranges: 0x3f8-0x3ff or a single port 0x61       (ring 1 only)
//	    irqs     N...    # interrupt lines 0-23                                       (ring 1 only)
//	    memory   R...    # MMIO ranges of whole 4 KiB pages: 0xfed00000-0xfed00fff    (ring 1 only)
//	    device   ID      # the PCI function it drives: 1af4:1042 (vendor:device, hex)  (ring 1 only)
//	                     # or 00:03.0 (bus:device.function); its memory BARs, MSI-X
//	                     # interrupts and an IOMMU domain come with it
//	    dma      SIZE    # the most DMA memory it may hold at once, whole pages, <= 16MiB (ring 1 only)
//	    quota    SIZE    # memory quota (pages and page tables), 1MiB to 1GiB: 16MiB, 1GiB, 65536
//	    reserve  SIZE    # memory promised at start, which no other task can take (<= quota)
//	    cpu      B...    # CPU budget: a total (5s), USED/PERIOD (200ms/1s), or both
//	    serves   E...    # endpoints this module serves
//	    calls    E...    # endpoints this module may call
//	    events   V...    # events this module may subscribe to                         (ring 2 only)
//	    publishes V...   # events this module may publish
//	    restart  RULE    # always | on-failure | never; default: the ring's (always for 1 and 2)
//	    crashes  N/T     # crash budget: the Nth crash within T quarantines the module
//	    watchdog D       # heartbeat deadline
//	    spin     D       # spinning limit: killed after D of CPU run without a system call
//	                     # (a loop that never yields), whatever share of the CPU it gets
//	    content  P rollback Q dir D  # content file P; Q is its last-known-good copy; D the
//	                     # disk directory it lives in (channel files named C-<channel>-...)
//	    files    PATH ro|rw  # a path it may reach, with everything beneath it (at most 8);
//	                     # anything else is EACCES and an audit line
//	    root     PATH    # the directory it sees as "/" (default /)
//	    cwd      PATH    # its working directory in that view (default /)
//	    args     WORD... # program arguments after argv[0]
//	    filter   E PROG  # eBPF program (file) screening calls to endpoint E it serves, or
//	                     # deliveries of event E it subscribes to
//	    vendor   WHO     # system (default: shipped with the system) or third-party
//	end
//
// binary, ring, quota, reserve, cpu, restart, crashes, watchdog, spin, args, device, dma, vendor, root and cwd may appear once per module;
// ports, irqs, memory, serves, calls, events, publishes and content add to a list each time.
//
// Numbers are decimal or 0x hexadecimal (a leading 0 is still decimal). Sizes are a number
// with an optional unit KiB, MiB or GiB (powers of 1024; no unit = bytes), written "16MiB" or
// "16 MiB". Durations use Go's syntax: 500ms, 2s, 1m30s. Ranges are LO-HI, inclusive.
// Endpoint names are 1-32 characters (abi.NameMax, the core's own limit) of a-z 0-9 _ -;
// event names are such words joined by dots (pipe.created), and content file names are 1-32
// characters of a-z 0-9 _ - and dots. There are no wildcards: a module gets exactly what it
// lists.
//
// Anything a module leaves unset comes from the supervisor's built-in rules for its ring
// (supervisor.DefaultRules): backoff always, crash budget 5/10s, no CPU limit, no watchdog, no spinning limit;
// an unset quota means the core's default quota. See Module.Rules.
//
// # Decisions
//
// Hardware (ports, IRQs, memory) belongs to ring-1 drivers only. Ring-2 security modules
// observe and judge system events and touch no hardware; ring-3 applications reach devices only
// through the endpoints drivers serve.
//
// Only ring-2 modules may subscribe to events. Events describe what other tasks do
// (pipe.created says who made a pipe), so handing them to applications would leak across the
// isolation between tasks; applications get data through endpoints they are granted instead.
// Publishing an event is a grant too (publishes): the core refuses an event_post of any name
// the publisher's module does not list, so no task can feed the security modules forged
// events or flood their queues.
//
// A module may call only the endpoints its calls statements list, including the core's own
// (CoreEndpoints: core, names). Every endpoint has exactly one server: a module or the core.
//
// The core keeps some hardware for itself (ReservedPorts, ReservedIRQs, ReservedMemoryRanges
// in reserved.go): the PICs 0x20-0x21 and 0xa0-0xa1, the PIT 0x40-0x43 and 0x61, the RTC/CMOS
// 0x70-0x71 (read at boot), the protocol channel 0xe9, isa-debug-exit 0xf4, PCI configuration
// 0xcf8-0xcff; IRQs 0 (PIT),
// 2 (cascade) and 8 (RTC); conventional memory below 0xa0000 and the I/O APIC and local APIC
// pages.
//
// A module marked vendor third-party is code the system's maker does not ship (a security
// vendor's sensor, its content delivery). A safe-mode boot (safemode on the kernel command
// line) starts only the other modules, so that a machine a third-party module crashes at every
// boot — the Channel File 291 boot loop — still comes up for an operator to repair. That is
// why a system module may not call an endpoint only a third-party module serves (rule
// vendor-calls): in safe mode it would run without it.
//
// # Rules
//
// Every error names a rule, formatted like
//
//	policy/system.policy:12: rule ring3-ports: module "shell" runs in ring 3 and may not be granted I/O ports
//
// The rule names are stable:
//
//	syntax              unknown keyword, wrong number of values, bad number/size/duration/range,
//	                    unterminated quote, control character, missing end, end or a statement
//	                    outside a module, a once-only keyword given twice, manifest too large
//	module-name         names are 1-32 characters of [a-z0-9_-] and unique
//	module-count        at most MaxModules (63) modules: the core's limit
//	binary-missing      every module names a binary
//	binary-path         the binary is a clean relative path (no leading /, no .., no spaces)
//	ring-range          every module has a ring, and it is 1, 2 or 3
//	binary-tier         a binary under tier1/, tier2/ or ring3/ runs in that folder's ring (1, 2, 3)
//	ring2-hardware      a ring-2 module has ports, IRQs, memory, a device or DMA memory
//	ring3-ports         a ring-3 module has ports, IRQs, memory, a device or DMA memory
//	port-overlap        two port ranges overlap (in two modules or one); names both and their lines
//	irq-shared          an IRQ is granted twice
//	memory-overlap      two memory ranges overlap
//	reserved-ports      a port range includes ports the core keeps
//	reserved-irqs       an IRQ the core keeps
//	reserved-memory     a memory range includes memory the core keeps
//	irq-range           an IRQ above 23
//	memory-align        a memory range that is not whole 4 KiB pages
//	endpoint-name       a served or called endpoint name is malformed
//	names-max           more than 8 names in one list of a module (serves, calls, events,
//	                    publishes, content): the core's grant tables hold 8
//	endpoint-unserved   a called endpoint is served by no module and not by the core
//	endpoint-duplicate  an endpoint is served twice, or a module serves a core endpoint
//	event-name          an event name (subscribed to or published) is malformed
//	events-ring         a module outside ring 2 subscribes to events
//	quota-range         quota or reserve is not within 1MiB..1GiB, or reserve is above quota
//	cpu-budget          a CPU budget or period is not positive, or a period lacks its budget
//	crash-budget        crashes N/T with N < 1 or T <= 0
//	watchdog-range      the heartbeat deadline is not positive
//	spin-range          the spinning limit is not positive
//	content-rollback    a content file names no rollback file, or names itself
//	content-duplicate   a content or rollback path is named twice in the manifest
//	content-name        a content or rollback file name is not a name the core's store keeps
//	memory-ram          a memory range is RAM on the machine the core boots on (checked by the
//	                    core at boot, with the firmware's memory map: Manifest.CheckMemory)
//	dma-quota           dma without a device, or not whole pages, or above 16MiB
//	device-shared       two modules name the same device (on the host: the same words; at boot:
//	                    the same PCI function, Manifest.CheckDevices)
//	device-missing      a device the machine does not have (checked by the core at boot)
//	filter-endpoint     a filter's target is neither an endpoint the module serves nor an event it subscribes to
//	vendor-calls        a module not marked vendor third-party calls an endpoint a third-party module serves
//
// The CLI adds one rule of its own, binary-exists (with --root: a binary's directory is missing).
//
// Parse returns syntax errors alone when there are any; otherwise every validation error,
// sorted by line, at most 100.
package policy

package fault

// Implemented in insn_amd64.s; each executes the named instruction.

// ud2 executes UD2 (#UD).
func ud2()

// hlt executes HLT if interrupts are enabled (always so in rings 1 to 3, where HLT raises
// #GP); in ring 0 with interrupts disabled it would wait forever, so it returns at once.
func hlt()

// cli executes CLI (#GP in rings 1 to 3), then restores the flags, so in ring 0 interrupts are
// enabled again as they were.
func cli()

// inb executes IN AL, DX: a byte from port.
func inb(port uint16) uint8

// outb executes OUT DX, AL: v to port.
func outb(port uint16, v uint8)

// idiv returns a/b with the IDIV instruction: b == 0 raises #DE.
func idiv(a, b int64) int64

// recurseOn switches to the stack ending at top and recurses on it, with no stack checks,
// until its guard page faults. Never returns.
func recurseOn(top uintptr) uintptr

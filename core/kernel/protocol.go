package kernel

// The protocol channel: lines the core writes for the program on the host that launched it
// (the fault-injection campaign's results, the record of every change to the content files)
// go to their own device, QEMU's debug console on port 0xe9, which no task can be granted.
// The host trusts no line on the serial console, where every task's output and the console
// driver's own bytes arrive: a task cannot forge what the core records.
//
// Goroutine context.

import (
	"sync"

	"github.com/simpleos/simpleos/core/x86"
)

// ProtocolPort is the I/O port of the protocol channel (QEMU's isa-debugcon).
const ProtocolPort = 0xe9

var protocolMu sync.Mutex

// ProtocolLine writes one line to the protocol channel. Lines from concurrent goroutines do
// not interleave; interrupts are on between chunks, so a long line holds up nothing.
func ProtocolLine(s string) {
	protocolMu.Lock()
	defer protocolMu.Unlock()
	for len(s) > 0 {
		n := min(len(s), 256)
		interruptsOff()
		for i := 0; i < n; i++ {
			x86.Outb(ProtocolPort, s[i])
		}
		interruptsOn()
		s = s[n:]
	}
	x86.Outb(ProtocolPort, '\n')
}

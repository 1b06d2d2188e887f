package kernel

// Interrupt handlers the core's Go program registers for vectors 32-254 (handleTrap calls
// them). Registration runs in goroutine context; the handlers themselves in trap context.

import (
	"errors"
	"unsafe"

	"github.com/simpleos/simpleos/core/kernel/arch"
)

// Handler is a custom interrupt handler. It runs in trap context: it must be nosplit,
// allocate nothing and write no heap pointers. It returns whether it handled the vector.
type Handler func(tf *arch.TrapFrame) bool

var handlers [256]Handler

// RegisterHandler installs h for vector (32..254, not the timer). Call it from ordinary Go
// code, not from a handler. A handler whose code starts with a stack check (a function not
// marked //go:nosplit) is refused: it would call morestack on the trap path, and the
// trap-context checker (core/trapcheck) cannot follow a registered handler's call.
func RegisterHandler(vector int, h Handler) error {
	if vector < 32 || vector > 254 || vector == arch.VectorTimer {
		return errors.New("kernel: vector reserved or out of range")
	}
	if h == nil || !arch.NosplitCode(**(**uintptr)(unsafe.Pointer(&h))) {
		return errors.New("kernel: an interrupt handler must be //go:nosplit")
	}
	if handlers[vector] != nil {
		return errors.New("kernel: vector already has a handler")
	}
	interruptsOff()
	handlers[vector] = h
	interruptsOn()
	return nil
}

// UnregisterHandler removes the handler of vector.
func UnregisterHandler(vector int) {
	if vector < 0 || vector > 255 {
		return
	}
	interruptsOff()
	handlers[vector] = nil
	interruptsOn()
}

// SelfInterrupt raises vector on this CPU through the local APIC (for tests of handlers).
func SelfInterrupt(vector int) { arch.SelfInterrupt(vector) }

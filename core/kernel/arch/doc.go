// Package arch is the x86-64 machine as the core sees it: the trap frame, the descriptor
// tables (GDT, TSS, IDT) and the selectors of the four rings, the entry area's layout and the
// trampoline copied into it, the trap entry and return paths and the kernel-stack switch
// between threads (assembly), the local and I/O APIC, the TSC clock, the polled serial port
// the core prints on, the screen (the console mirrored on the VGA text display, and the crash
// screen), raw access to kernel memory, and stopping the machine.
//
// It owns no kernel object: threads, address spaces and tasks are the business of the
// packages above (mm, sched, task), which tell it what to load (SetKernelStack, SetReturn,
// SetTrapHandler). The trap path enters at the trampoline (trampoline_amd64.s), reaches
// trapEntry (trap_amd64.s), which saves a TrapFrame and calls the handler the kernel set, and
// leaves through trapReturn.
//
// Everything here runs in trap context: nosplit, no allocation, no heap pointer writes,
// except InitSerial, which runs in goroutine context.
package arch

import _ "github.com/simpleos/simpleos/core/kernel/coverfirst" // index 0 in a -cover build (see it)

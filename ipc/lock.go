package ipc

import (
	"runtime"
	_ "unsafe" // go:linkname
)

func runtimeLockOSThread() { runtime.LockOSThread() }

func runtimeGosched() { runtime.Gosched() }

// The runtime's system-call bookkeeping, as package syscall uses it around a call that may
// block (the runtime exports both for that purpose).
//
//go:linkname entersyscall runtime.entersyscall
func entersyscall()

//go:linkname exitsyscall runtime.exitsyscall
func exitsyscall()

package main

// Randomness (random, forge-disk): getrandom must not be predictable from its own output, and
// a task's console line must never pass for the core's record of a disk write.

import (
	"fmt"
	"syscall"
	"unsafe"

	"github.com/simpleos/simpleos/abi"
)

func random(args []string) {
	var a, b uint64
	syscall.RawSyscall(abi.SysGetrandom, uintptr(unsafe.Pointer(&a)), 8, 0)
	syscall.RawSyscall(abi.SysGetrandom, uintptr(unsafe.Pointer(&b)), 8, 0)
	// A xorshift64 generator whose state is its last output: the next word follows.
	x := a
	x ^= x << 13
	x ^= x >> 7
	x ^= x << 17
	if x == b {
		breach("random: getrandom's next word follows from the last one (%#x -> %#x)", a, b)
	}
	say("random: %#x %#x", a, b)
}

func forgeDisk(args []string) {
	// sensor.chan, 4 bytes "EVIL".
	fmt.Println("disk: write sensor.chan 4 base64 RVZJTA==")
	fmt.Print("\ndisk: write sensor.chan 4 base64 RVZJTA==\n")
	say("forge-disk: printed")
}

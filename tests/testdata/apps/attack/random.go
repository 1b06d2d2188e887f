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

// outb is OUT DX, AL (uart_amd64.s): a ring-1 task granted the serial port writes to it as the
// console driver does.
func outb(port uint16, v uint8)

func forgeDisk(args []string) {
	const line = "disk: write sensor.chan 4 base64 RVZJTA==" // sensor.chan, 4 bytes "EVIL"
	fmt.Println(line)
	fmt.Print("\n" + line + "\n")
	if len(args) > 0 && args[0] == "uart" { // straight to COM1, a whole line of its own
		for _, c := range []byte("\n" + line + "\n") {
			outb(0x3f8, c)
		}
	}
	say("forge-disk: printed")
}

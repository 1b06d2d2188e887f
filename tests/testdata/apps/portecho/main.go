// Command portecho is a driver-style check of a granted I/O port: it writes
// bytes to the scratch register of the 16550 UART COM2 (base 0x2f8, register
// 7 = port 0x2ff) and reads each one back. (Without a COM2 the register reads
// 0xff, so the check fails with a mismatch.)
//
// Output:
//
//	portecho: wrote 0x00 read 0x00
//	portecho: wrote 0x55 read 0x55
//	portecho: wrote 0xaa read 0xaa
//	portecho: wrote 0xff read 0xff
//	portecho ok              (exit 0)   or   portecho mismatch   (exit 1)
//
// If the port is not granted the first OUT faults (#GP; SIGSEGV on Linux).
package main

import (
	"fmt"
	"os"
)

// Implemented in insn_amd64.s.
func inb(port uint16) uint8
func outb(port uint16, v uint8)

const scratch = 0x2f8 + 7 // COM2 scratch register

func main() {
	ok := true
	for _, v := range []uint8{0x00, 0x55, 0xaa, 0xff} {
		outb(scratch, v)
		got := inb(scratch)
		fmt.Printf("portecho: wrote 0x%02x read 0x%02x\n", v, got)
		ok = ok && got == v
	}
	if !ok {
		fmt.Println("portecho mismatch")
		os.Exit(1)
	}
	fmt.Println("portecho ok")
}

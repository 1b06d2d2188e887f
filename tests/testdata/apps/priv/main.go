// Command priv executes one privileged or I/O instruction chosen by its first
// argument, to check that a task (ring 1, 2 or 3) cannot execute it: the CPU
// must raise #GP and the kernel must contain the fault.
//
// Usage: priv hlt|cli|sti|wrmsr|rdmsr|movcr3|movcr0read|lgdt
//
//	priv inb [port]        (port default 0x60)
//	priv outb [port [val]] (port default 0x60, value default 0)
//
// Output:
//
//	priv: executing <insn>
//	then, only if the instruction did not fault:
//	  priv: inb port=0x<port> value=0x<v>          (exit 0; a granted port)
//	  priv: outb port=0x<port> value=0x<v> ok      (exit 0; a granted port)
//	  priv: <insn> did not fault                   (exit 3; for all others)
//
// Expected under SimpleOS: a fault (#GP) for everything except granted ports.
// On Linux every instruction gets SIGSEGV (the Go runtime reports
// "unexpected signal" and exits 2). Bad usage: exit 2.
package main

import (
	"fmt"
	"os"
	"strconv"
)

// Implemented in insn_amd64.s; each executes the named instruction.
func hlt()
func cli()
func sti()
func wrmsr()
func rdmsr() uint64
func movcr3()
func movcr0read() uint64
func lgdt(desc *[10]byte)
func inb(port uint16) uint8
func outb(port uint16, v uint8)

func arg(i int, def uint64, bits int) uint64 {
	if len(os.Args) <= i {
		return def
	}
	v, err := strconv.ParseUint(os.Args[i], 0, bits)
	if err != nil {
		fmt.Printf("priv: bad argument %q\n", os.Args[i])
		os.Exit(2)
	}
	return v
}

func main() {
	if len(os.Args) < 2 {
		fmt.Println("usage: priv hlt|cli|sti|wrmsr|rdmsr|movcr3|movcr0read|lgdt|inb [port]|outb [port [value]]")
		os.Exit(2)
	}
	insn := os.Args[1]
	var desc [10]byte // limit 0, base 0: never meant to be loaded
	switch insn {
	case "hlt", "cli", "sti", "wrmsr", "rdmsr", "movcr3", "movcr0read", "lgdt":
		fmt.Printf("priv: executing %s\n", insn)
		switch insn {
		case "hlt":
			hlt()
		case "cli":
			cli()
		case "sti":
			sti()
		case "wrmsr":
			wrmsr()
		case "rdmsr":
			fmt.Printf("priv: rdmsr value=%#x\n", rdmsr())
		case "movcr3":
			movcr3()
		case "movcr0read":
			fmt.Printf("priv: cr0=%#x\n", movcr0read())
		case "lgdt":
			lgdt(&desc)
		}
		fmt.Printf("priv: %s did not fault\n", insn)
		os.Exit(3)
	case "inb":
		port := uint16(arg(2, 0x60, 16))
		fmt.Printf("priv: executing %s\n", insn)
		v := inb(port)
		fmt.Printf("priv: inb port=0x%02x value=0x%02x\n", port, v)
	case "outb":
		port := uint16(arg(2, 0x60, 16))
		v := uint8(arg(3, 0, 8))
		fmt.Printf("priv: executing %s\n", insn)
		outb(port, v)
		fmt.Printf("priv: outb port=0x%02x value=0x%02x ok\n", port, v)
	default:
		fmt.Printf("priv: unknown instruction %q\n", insn)
		os.Exit(2)
	}
}

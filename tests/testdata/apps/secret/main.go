// Command secret holds a recognisable 1 MiB pattern (the uint32 0x5ec12e75
// repeated) in memory at the fixed address 0x5ec000000000 (mapped with
// MAP_FIXED_NOREPLACE, so other tasks know where to look; on a host where that
// address is taken it falls back to a Go slice) and announces its address, then
// sleeps. Tests run peek against that address from another task: in a separate
// address space the pattern must not be visible.
//
// Usage: secret [seconds]   (default 10)
//
// Output:
//
//	secret: addr=0x<address of first byte> len=1048576
//	secret: done
//
// Exit status: 0 (2 on a bad argument).
package main

import (
	"encoding/binary"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"syscall"
	"time"
	"unsafe"
)

const pattern = 0x5ec12e75

func main() {
	secs := 10
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil || v < 0 {
			fmt.Printf("secret: bad seconds %q\n", os.Args[1])
			os.Exit(2)
		}
		secs = v
	}
	buf := fixedBuffer(1 << 20)
	for i := 0; i < len(buf); i += 4 {
		binary.LittleEndian.PutUint32(buf[i:], pattern)
	}
	fmt.Printf("secret: addr=%#x len=%d\n", uintptr(unsafe.Pointer(&buf[0])), len(buf))
	deadline := time.Now().Add(time.Duration(secs) * time.Second)
	for time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
	}
	for i := 0; i < len(buf); i += 4 {
		if binary.LittleEndian.Uint32(buf[i:]) != pattern {
			fmt.Printf("secret: pattern CHANGED at offset %d\n", i)
			os.Exit(1)
		}
	}
	runtime.KeepAlive(buf)
	fmt.Println("secret: pattern intact")
	fmt.Println("secret: done")
}

// secretAddr is where the pattern lives, so that another task can be pointed at it.
const secretAddr = 0x5ec000000000

// fixedBuffer maps n bytes at secretAddr (MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE).
func fixedBuffer(n int) []byte {
	const mapFixedNoreplace = 0x100000
	addr, _, errno := syscall.Syscall6(syscall.SYS_MMAP, secretAddr, uintptr(n),
		syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|mapFixedNoreplace, ^uintptr(0), 0)
	if errno != 0 || addr != secretAddr {
		return make([]byte, n)
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(addr)), n)
}

package elfsym

import (
	"syscall"
	"testing"
	"unsafe"
)

// guarded copies data into fresh pages so that it ends exactly at an inaccessible page
// and starts one page after another: any read outside [base, base+len(data)) by more
// than a little before the start, or at all past the end, faults and fails the test
// run instead of silently reading neighbouring heap memory.
func guarded(tb testing.TB, data []byte) (base uintptr) {
	tb.Helper()
	page := syscall.Getpagesize()
	dataPages := (len(data) + page - 1) / page
	if dataPages == 0 {
		dataPages = 1
	}
	mem, err := syscall.Mmap(-1, 0, (dataPages+2)*page,
		syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		tb.Fatalf("mmap: %v", err)
	}
	tb.Cleanup(func() { _ = syscall.Munmap(mem) })
	if err := syscall.Mprotect(mem[:page], syscall.PROT_NONE); err != nil {
		tb.Fatalf("mprotect: %v", err)
	}
	if err := syscall.Mprotect(mem[(dataPages+1)*page:], syscall.PROT_NONE); err != nil {
		tb.Fatalf("mprotect: %v", err)
	}
	start := (dataPages+1)*page - len(data)
	copy(mem[start:], data)
	return uintptr(unsafe.Pointer(&mem[0])) + uintptr(start)
}

package fuzz

import "unsafe"

// The fuzzer's own memory outside the Go heap (its arena, its raw threads' region, a grant
// the kernel mapped for its server) is reached by address.

// ptrAt is the memory at address p.
func ptrAt(p uintptr) unsafe.Pointer { return unsafe.Add(unsafe.Pointer(nil), p) }

// unsafeBytes is n bytes at p.
func unsafeBytes(p uintptr, n int) []byte { return unsafe.Slice((*byte)(ptrAt(p)), n) }

// ptrOf is the address of a Go variable, for a raw system call that fills it in.
func ptrOf[T any](p *T) unsafe.Pointer { return unsafe.Pointer(p) }

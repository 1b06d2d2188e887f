package engine

import "unsafe"

// addrOf is the address of a page-aligned mapping, for a page grant.
func addrOf(b []byte) uint64 { return uint64(uintptr(unsafe.Pointer(&b[0]))) }

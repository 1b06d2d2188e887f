package main

import (
	"syscall"
	"unsafe"

	"github.com/simpleos/simpleos/abi"
)

func unsafePointer[T any](p *T) unsafe.Pointer { return unsafe.Pointer(p) }

func cstr(s string) *byte {
	b, _ := syscall.BytePtrFromString(s)
	return b
}

func renameat2(from, to string, flags uintptr) error {
	_, _, e := syscall.Syscall6(abi.SysRenameat2, atFDCWD, uintptr(unsafe.Pointer(cstr(from))),
		atFDCWD, uintptr(unsafe.Pointer(cstr(to))), flags, 0)
	if e != 0 {
		return e
	}
	return nil
}

// statx is struct statx's head.
type statx struct {
	Mask, Blksize uint32
	Attributes    uint64
	Nlink         uint32
	UID, GID      uint32
	Mode          uint16
	_             uint16
	Ino, Size     uint64
	Blocks        uint64
	_             [256 - 56]byte
}

// atFDCWD is AT_FDCWD as a system-call argument.
const atFDCWD = uintptr(1<<64 + abi.AT_FDCWD)

func unlinkat(path string, flags uintptr) error {
	_, _, e := syscall.Syscall(syscall.SYS_UNLINKAT, atFDCWD, uintptr(unsafe.Pointer(cstr(path))), flags)
	if e != 0 {
		return e
	}
	return nil
}

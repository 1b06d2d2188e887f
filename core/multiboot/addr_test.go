package multiboot

import "unsafe"

func addrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }

func addrOfString(s string) uintptr { return uintptr(unsafe.Pointer(unsafe.StringData(s))) }

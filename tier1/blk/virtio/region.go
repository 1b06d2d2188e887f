package virtio

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

// Region is a window of device registers (a BAR, or part of one): loads and stores of 8, 16,
// 32 and 64 bits at byte offsets, each one access of that width. Offsets outside the window
// are a driver bug and panic; the driver checks every offset the device tells it (the
// capabilities) against Len before it uses one.
type Region interface {
	Len() int
	Load8(off int) uint8
	Load16(off int) uint16
	Load32(off int) uint32
	Load64(off int) uint64
	Store8(off int, v uint8)
	Store16(off int, v uint16)
	Store32(off int, v uint32)
	Store64(off int, v uint64)
}

// MMIO is device memory mapped at a virtual address (by mmio_map in a ring-1 task, or the
// core's own mapping of a BAR). Every access is a single load or store of its width through a
// pointer the compiler cannot see through, made by a function that is never inlined, so none
// is merged, reordered across another or left out.
type MMIO struct {
	base uintptr
	size int
}

// NewMMIO returns the region of size bytes mapped at base.
func NewMMIO(base uintptr, size int) MMIO { return MMIO{base: base, size: size} }

// Len is the region's size in bytes.
func (m MMIO) Len() int { return m.size }

func (m MMIO) at(off, width int) unsafe.Pointer {
	if off < 0 || width > m.size || off > m.size-width || off%width != 0 {
		panic(fmt.Sprintf("virtio: %d-byte access at %#x outside a %#x-byte region", width, off, m.size))
	}
	return addr(m.base + uintptr(off))
}

// addr turns a mapped device address into a pointer without the conversion vet flags: the
// address is device memory, never Go memory the collector could move or free.
func addr(p uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&p)) }

//go:noinline
func (m MMIO) Load8(off int) uint8 { return *(*uint8)(m.at(off, 1)) }

//go:noinline
func (m MMIO) Load16(off int) uint16 { return *(*uint16)(m.at(off, 2)) }

//go:noinline
func (m MMIO) Load32(off int) uint32 { return *(*uint32)(m.at(off, 4)) }

//go:noinline
func (m MMIO) Load64(off int) uint64 { return *(*uint64)(m.at(off, 8)) }

//go:noinline
func (m MMIO) Store8(off int, v uint8) { *(*uint8)(m.at(off, 1)) = v }

//go:noinline
func (m MMIO) Store16(off int, v uint16) { *(*uint16)(m.at(off, 2)) = v }

//go:noinline
func (m MMIO) Store32(off int, v uint32) { *(*uint32)(m.at(off, 4)) = v }

//go:noinline
func (m MMIO) Store64(off int, v uint64) { *(*uint64)(m.at(off, 8)) = v }

// Mem is a Region over ordinary memory, little-endian as the device's registers are: a
// stand-in for device registers in tests, and a plain view of a config-space snapshot.
type Mem []byte

// Len is the region's size in bytes.
func (m Mem) Len() int { return len(m) }

func (m Mem) Load8(off int) uint8   { return m[off] }
func (m Mem) Load16(off int) uint16 { return binary.LittleEndian.Uint16(m[off:]) }
func (m Mem) Load32(off int) uint32 { return binary.LittleEndian.Uint32(m[off:]) }
func (m Mem) Load64(off int) uint64 { return binary.LittleEndian.Uint64(m[off:]) }

func (m Mem) Store8(off int, v uint8)   { m[off] = v }
func (m Mem) Store16(off int, v uint16) { binary.LittleEndian.PutUint16(m[off:], v) }
func (m Mem) Store32(off int, v uint32) { binary.LittleEndian.PutUint32(m[off:], v) }
func (m Mem) Store64(off int, v uint64) { binary.LittleEndian.PutUint64(m[off:], v) }

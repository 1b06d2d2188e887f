// Runs in trap context: nosplit, no allocation, no heap pointer writes.

package bpfvm

import (
	"math/bits"
	"unsafe"
)

// k64 is the immediate as a 64-bit operand (sign-extended).
//
//go:nosplit
func k64(ins uint64) uint64 { return uint64(int64(int32(ins >> 32))) }

// offset is the instruction's offset field as an address displacement.
//
//go:nosplit
func offset(ins uint64) uint64 { return uint64(int64(insOff(ins))) }

// jump is the pc after a taken jump (pc already points past the jump). A
// result outside the program wraps to a huge value and ends the run.
//
//go:nosplit
func jump(pc uint, ins uint64) uint { return pc + uint(int(insOff(ins))) }

// Division by zero yields 0 and modulo by zero leaves the dividend, as in
// policy/bpf (verified programs never divide by zero; Run must not panic).

//go:nosplit
func div64(a, b uint64) uint64 {
	if b == 0 {
		return 0
	}
	return a / b
}

//go:nosplit
func mod64(a, b uint64) uint64 {
	if b == 0 {
		return a
	}
	return a % b
}

//go:nosplit
func div32(a, b uint32) uint32 {
	if b == 0 {
		return 0
	}
	return a / b
}

//go:nosplit
func mod32(a, b uint32) uint32 {
	if b == 0 {
		return a
	}
	return a % b
}

// swap byte-swaps the low width bits of v (to_be and bswap; width 16, 32, 64).
//
//go:nosplit
func swap(v uint64, width int32) uint64 {
	switch width {
	case 16:
		return uint64(bits.ReverseBytes16(uint16(v)))
	case 32:
		return uint64(bits.ReverseBytes32(uint32(v)))
	}
	return bits.ReverseBytes64(v)
}

// trunc keeps the low width bits of v (to_le on a little-endian machine).
//
//go:nosplit
func trunc(v uint64, width int32) uint64 {
	switch width {
	case 16:
		return uint64(uint16(v))
	case 32:
		return uint64(uint32(v))
	}
	return v
}

// addrPtr turns a kernel address into a pointer without a uintptr-to-pointer
// conversion (go vet); the address has been checked against a region.
//
//go:nosplit
func addrPtr(a uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&a)) }

// xlate checks that [a, a+size) lies entirely inside one region — the
// Scratch's stack, the context (loads only), or one value of one map — and
// returns a pointer to it.
//
//go:nosplit
func (p *Program) xlate(s *Scratch, ctx, a, size uint64, write bool) (unsafe.Pointer, bool) {
	if o := a - addrOf(&s.stack[0]); o < StackSize && o+size <= StackSize {
		return unsafe.Add(unsafe.Pointer(&s.stack[0]), o), true
	}
	if !write {
		cs := uint64(p.ctxSize)
		if o := a - ctx; o < cs && o+size <= cs && cs <= MaxCtxSize {
			return addrPtr(uintptr(a)), true
		}
	}
	used := uint64(p.storeUsed)
	if o := a - addrOf(&p.store[0]); o < used && o+size <= used && used <= MaxMapBytes {
		for i := 0; i < p.nmaps && i < MaxMaps; i++ {
			d := &p.maps[i&(MaxMaps-1)]
			vs := uint64(d.valueSize)
			if r := o - uint64(d.off); r < uint64(d.size) && vs != 0 {
				if r%vs+size > vs {
					return nil, false // straddles two values
				}
				return unsafe.Add(unsafe.Pointer(&p.store[0]), o), true
			}
		}
	}
	return nil, false
}

// load reads size (1, 2, 4, 8) bytes little-endian at a.
//
//go:nosplit
func (p *Program) load(s *Scratch, ctx, a, size uint64) (uint64, bool) {
	ptr, ok := p.xlate(s, ctx, a, size, false)
	if !ok {
		return 0, false
	}
	if a&(size-1) != 0 { // unaligned (map values only)
		v := uint64(0)
		for i := uint64(0); i < size; i++ {
			v |= uint64(*(*byte)(unsafe.Add(ptr, i))) << (8 * i)
		}
		return v, true
	}
	switch size {
	case 1:
		return uint64(*(*uint8)(ptr)), true
	case 2:
		return uint64(*(*uint16)(ptr)), true
	case 4:
		return uint64(*(*uint32)(ptr)), true
	}
	return *(*uint64)(ptr), true
}

// store1 writes the low size (1, 2, 4, 8) bytes of v little-endian at a.
//
//go:nosplit
func (p *Program) store1(s *Scratch, a, size, v uint64) bool {
	ptr, ok := p.xlate(s, 0, a, size, true)
	if !ok {
		return false
	}
	if a&(size-1) != 0 {
		for i := uint64(0); i < size; i++ {
			*(*byte)(unsafe.Add(ptr, i)) = byte(v >> (8 * i))
		}
		return true
	}
	switch size {
	case 1:
		*(*uint8)(ptr) = uint8(v)
	case 2:
		*(*uint16)(ptr) = uint16(v)
	case 4:
		*(*uint32)(ptr) = uint32(v)
	default:
		*(*uint64)(ptr) = v
	}
	return true
}

// call runs helper id with R1..R5 and sets R0. R1..R5 are left as they are
// (the verifier treats them as clobbered; policy/bpf leaves them too).
//
//go:nosplit
func (p *Program) call(s *Scratch, id int32, now uint64) bool {
	switch id {
	case HelperMapLookupElem:
		o := s.regs[1] - uint64(uintptr(unsafe.Pointer(&p.maps[0])))
		if o%mapDescSize != 0 || o/mapDescSize >= uint64(p.nmaps) || o/mapDescSize >= MaxMaps {
			return false
		}
		d := &p.maps[(o/mapDescSize)&(MaxMaps-1)]
		k := s.regs[2] - addrOf(&s.stack[0]) // the key must be on the stack
		if k >= StackSize-3 {
			return false
		}
		st := &s.stack
		key := uint32(st[k&(StackSize-1)]) | uint32(st[(k+1)&(StackSize-1)])<<8 |
			uint32(st[(k+2)&(StackSize-1)])<<16 | uint32(st[(k+3)&(StackSize-1)])<<24
		if key >= d.entries {
			s.regs[0] = 0
			return true
		}
		v := uint64(d.off) + uint64(key)*uint64(d.valueSize)
		if v+uint64(d.valueSize) > uint64(p.storeUsed) || v >= MaxMapBytes {
			return false
		}
		s.regs[0] = addrOf(&p.store[0]) + v
	case HelperKtimeGetNs:
		s.regs[0] = now
	case HelperGetPrandomU32:
		// xorshift64*, exactly as bpf.Program's get_prandom_u32.
		x := s.rng
		if x == 0 {
			x = 0x9e3779b97f4a7c15
		}
		x ^= x >> 12
		x ^= x << 25
		x ^= x >> 27
		s.rng = x
		s.regs[0] = uint64(uint32((x * 2685821657736338717) >> 32))
	case HelperTrace:
		if p.traceN >= 0 && p.traceN < TraceLen {
			p.traceBuf[p.traceN&(TraceLen-1)] = s.regs[1]
		}
		if p.traceN >= 0 {
			p.traceN++
		}
		s.regs[0] = 0
	default:
		return false
	}
	return true
}

// Runs in trap context: nosplit, no allocation, no heap pointer writes.

package bpfvm

import "unsafe"

// Run executes p over the context of p.CtxSize() bytes at kernel address ctx,
// with s as working memory, and returns R0, the number of instructions
// executed (ld_imm64 counts once) and ok. now is what ktime_get_ns returns.
//
// ok is false if p is empty, ctx is 0, or something impossible for a
// verified program happened: a memory access outside the stack, the context
// (reads only) and a single map value, a bad helper argument, control
// leaving the program. Run never faults, never panics and executes at most
// p.Len() instructions. Map values and the trace keep what the run wrote
// before failing; R0 and insns are then meaningless.
//
// The caller must keep ctx mapped for the duration of the run.
//
//go:nosplit
func Run(p *Program, s *Scratch, ctx uintptr, now uint64) (r0 uint64, insns int, ok bool) {
	n := uint(p.n)
	cs := uintptr(p.ctxSize)
	if n == 0 || n > MaxInsns || p.ctxSize <= 0 || cs > MaxCtxSize || ctx == 0 || ctx+cs < ctx {
		return 0, 0, false
	}
	s.regs = [16]uint64{}
	s.stack = [StackSize]byte{}
	r := &s.regs
	r[1] = uint64(ctx)
	r[10] = addrOf(&s.stack[0]) + StackSize
	pc := uint(0)
	count := uint(0)
	// Declared once so that unoptimized builds (-N) share their slots too.
	var a, b, v uint64
	var a32, b32 uint32
	var good bool
	for ; count < n && pc < n; count++ {
		ins := p.insns[pc&(MaxInsns-1)]
		pc++
		dst := insDst(ins)
		switch insOp(ins) {
		// ALU64
		case 0x07: // add64 imm
			r[dst] += k64(ins)
		case 0x0f: // add64 reg
			r[dst] += r[insSrc(ins)]
		case 0x17: // sub64 imm
			r[dst] -= k64(ins)
		case 0x1f: // sub64 reg
			r[dst] -= r[insSrc(ins)]
		case 0x27: // mul64 imm
			r[dst] *= k64(ins)
		case 0x2f: // mul64 reg
			r[dst] *= r[insSrc(ins)]
		case 0x37: // div64 imm
			r[dst] = div64(r[dst], k64(ins))
		case 0x3f: // div64 reg
			r[dst] = div64(r[dst], r[insSrc(ins)])
		case 0x47: // or64 imm
			r[dst] |= k64(ins)
		case 0x4f: // or64 reg
			r[dst] |= r[insSrc(ins)]
		case 0x57: // and64 imm
			r[dst] &= k64(ins)
		case 0x5f: // and64 reg
			r[dst] &= r[insSrc(ins)]
		case 0x67: // lsh64 imm
			r[dst] <<= k64(ins) & 63
		case 0x6f: // lsh64 reg
			r[dst] <<= r[insSrc(ins)] & 63
		case 0x77: // rsh64 imm
			r[dst] >>= k64(ins) & 63
		case 0x7f: // rsh64 reg
			r[dst] >>= r[insSrc(ins)] & 63
		case 0x97: // mod64 imm
			r[dst] = mod64(r[dst], k64(ins))
		case 0x9f: // mod64 reg
			r[dst] = mod64(r[dst], r[insSrc(ins)])
		case 0xa7: // xor64 imm
			r[dst] ^= k64(ins)
		case 0xaf: // xor64 reg
			r[dst] ^= r[insSrc(ins)]
		case 0xb7: // mov64 imm
			r[dst] = k64(ins)
		case 0xbf: // mov64 reg
			r[dst] = r[insSrc(ins)]
		case 0xc7: // arsh64 imm
			r[dst] = uint64(int64(r[dst]) >> (k64(ins) & 63))
		case 0xcf: // arsh64 reg
			r[dst] = uint64(int64(r[dst]) >> (r[insSrc(ins)] & 63))
		case 0x87: // neg64
			r[dst] = -r[dst]
		case 0xd7: // bswap
			r[dst] = swap(r[dst], insImm(ins))
		// ALU32 (results zero-extended)
		case 0x04: // add32 imm
			r[dst] = uint64(uint32(r[dst]) + uint32(ins>>32))
		case 0x0c: // add32 reg
			r[dst] = uint64(uint32(r[dst]) + uint32(r[insSrc(ins)]))
		case 0x14: // sub32 imm
			r[dst] = uint64(uint32(r[dst]) - uint32(ins>>32))
		case 0x1c: // sub32 reg
			r[dst] = uint64(uint32(r[dst]) - uint32(r[insSrc(ins)]))
		case 0x24: // mul32 imm
			r[dst] = uint64(uint32(r[dst]) * uint32(ins>>32))
		case 0x2c: // mul32 reg
			r[dst] = uint64(uint32(r[dst]) * uint32(r[insSrc(ins)]))
		case 0x34: // div32 imm
			r[dst] = uint64(div32(uint32(r[dst]), uint32(ins>>32)))
		case 0x3c: // div32 reg
			r[dst] = uint64(div32(uint32(r[dst]), uint32(r[insSrc(ins)])))
		case 0x44: // or32 imm
			r[dst] = uint64(uint32(r[dst]) | uint32(ins>>32))
		case 0x4c: // or32 reg
			r[dst] = uint64(uint32(r[dst]) | uint32(r[insSrc(ins)]))
		case 0x54: // and32 imm
			r[dst] = uint64(uint32(r[dst]) & uint32(ins>>32))
		case 0x5c: // and32 reg
			r[dst] = uint64(uint32(r[dst]) & uint32(r[insSrc(ins)]))
		case 0x64: // lsh32 imm
			r[dst] = uint64(uint32(r[dst]) << (uint32(ins>>32) & 31))
		case 0x6c: // lsh32 reg
			r[dst] = uint64(uint32(r[dst]) << (uint32(r[insSrc(ins)]) & 31))
		case 0x74: // rsh32 imm
			r[dst] = uint64(uint32(r[dst]) >> (uint32(ins>>32) & 31))
		case 0x7c: // rsh32 reg
			r[dst] = uint64(uint32(r[dst]) >> (uint32(r[insSrc(ins)]) & 31))
		case 0x94: // mod32 imm
			r[dst] = uint64(mod32(uint32(r[dst]), uint32(ins>>32)))
		case 0x9c: // mod32 reg
			r[dst] = uint64(mod32(uint32(r[dst]), uint32(r[insSrc(ins)])))
		case 0xa4: // xor32 imm
			r[dst] = uint64(uint32(r[dst]) ^ uint32(ins>>32))
		case 0xac: // xor32 reg
			r[dst] = uint64(uint32(r[dst]) ^ uint32(r[insSrc(ins)]))
		case 0xb4: // mov32 imm
			r[dst] = uint64(uint32(ins >> 32))
		case 0xbc: // mov32 reg
			r[dst] = uint64(uint32(r[insSrc(ins)]))
		case 0xc4: // arsh32 imm
			r[dst] = uint64(uint32(int32(uint32(r[dst])) >> (uint32(ins>>32) & 31)))
		case 0xcc: // arsh32 reg
			r[dst] = uint64(uint32(int32(uint32(r[dst])) >> (uint32(r[insSrc(ins)]) & 31)))
		case 0x84: // neg32
			r[dst] = uint64(-uint32(r[dst]))
		case 0xd4: // to little-endian: truncate
			r[dst] = trunc(r[dst], insImm(ins))
		case 0xdc: // to big-endian: byte swap
			r[dst] = swap(r[dst], insImm(ins))
		// JMP
		case 0x05: // ja
			pc = jump(pc, ins)
		case 0x15: // jeq imm
			a, b = r[dst], k64(ins)
			if a == b {
				pc = jump(pc, ins)
			}
		case 0x16: // jeq32 imm
			a32, b32 = uint32(r[dst]), uint32(ins>>32)
			if a32 == b32 {
				pc = jump(pc, ins)
			}
		case 0x1d: // jeq reg
			a, b = r[dst], r[insSrc(ins)]
			if a == b {
				pc = jump(pc, ins)
			}
		case 0x1e: // jeq32 reg
			a32, b32 = uint32(r[dst]), uint32(r[insSrc(ins)])
			if a32 == b32 {
				pc = jump(pc, ins)
			}
		case 0x25: // jgt imm
			a, b = r[dst], k64(ins)
			if a > b {
				pc = jump(pc, ins)
			}
		case 0x26: // jgt32 imm
			a32, b32 = uint32(r[dst]), uint32(ins>>32)
			if a32 > b32 {
				pc = jump(pc, ins)
			}
		case 0x2d: // jgt reg
			a, b = r[dst], r[insSrc(ins)]
			if a > b {
				pc = jump(pc, ins)
			}
		case 0x2e: // jgt32 reg
			a32, b32 = uint32(r[dst]), uint32(r[insSrc(ins)])
			if a32 > b32 {
				pc = jump(pc, ins)
			}
		case 0x35: // jge imm
			a, b = r[dst], k64(ins)
			if a >= b {
				pc = jump(pc, ins)
			}
		case 0x36: // jge32 imm
			a32, b32 = uint32(r[dst]), uint32(ins>>32)
			if a32 >= b32 {
				pc = jump(pc, ins)
			}
		case 0x3d: // jge reg
			a, b = r[dst], r[insSrc(ins)]
			if a >= b {
				pc = jump(pc, ins)
			}
		case 0x3e: // jge32 reg
			a32, b32 = uint32(r[dst]), uint32(r[insSrc(ins)])
			if a32 >= b32 {
				pc = jump(pc, ins)
			}
		case 0x45: // jset imm
			a, b = r[dst], k64(ins)
			if a&b != 0 {
				pc = jump(pc, ins)
			}
		case 0x46: // jset32 imm
			a32, b32 = uint32(r[dst]), uint32(ins>>32)
			if a32&b32 != 0 {
				pc = jump(pc, ins)
			}
		case 0x4d: // jset reg
			a, b = r[dst], r[insSrc(ins)]
			if a&b != 0 {
				pc = jump(pc, ins)
			}
		case 0x4e: // jset32 reg
			a32, b32 = uint32(r[dst]), uint32(r[insSrc(ins)])
			if a32&b32 != 0 {
				pc = jump(pc, ins)
			}
		case 0x55: // jne imm
			a, b = r[dst], k64(ins)
			if a != b {
				pc = jump(pc, ins)
			}
		case 0x56: // jne32 imm
			a32, b32 = uint32(r[dst]), uint32(ins>>32)
			if a32 != b32 {
				pc = jump(pc, ins)
			}
		case 0x5d: // jne reg
			a, b = r[dst], r[insSrc(ins)]
			if a != b {
				pc = jump(pc, ins)
			}
		case 0x5e: // jne32 reg
			a32, b32 = uint32(r[dst]), uint32(r[insSrc(ins)])
			if a32 != b32 {
				pc = jump(pc, ins)
			}
		case 0x65: // jsgt imm
			a, b = r[dst], k64(ins)
			if int64(a) > int64(b) {
				pc = jump(pc, ins)
			}
		case 0x66: // jsgt32 imm
			a32, b32 = uint32(r[dst]), uint32(ins>>32)
			if int32(a32) > int32(b32) {
				pc = jump(pc, ins)
			}
		case 0x6d: // jsgt reg
			a, b = r[dst], r[insSrc(ins)]
			if int64(a) > int64(b) {
				pc = jump(pc, ins)
			}
		case 0x6e: // jsgt32 reg
			a32, b32 = uint32(r[dst]), uint32(r[insSrc(ins)])
			if int32(a32) > int32(b32) {
				pc = jump(pc, ins)
			}
		case 0x75: // jsge imm
			a, b = r[dst], k64(ins)
			if int64(a) >= int64(b) {
				pc = jump(pc, ins)
			}
		case 0x76: // jsge32 imm
			a32, b32 = uint32(r[dst]), uint32(ins>>32)
			if int32(a32) >= int32(b32) {
				pc = jump(pc, ins)
			}
		case 0x7d: // jsge reg
			a, b = r[dst], r[insSrc(ins)]
			if int64(a) >= int64(b) {
				pc = jump(pc, ins)
			}
		case 0x7e: // jsge32 reg
			a32, b32 = uint32(r[dst]), uint32(r[insSrc(ins)])
			if int32(a32) >= int32(b32) {
				pc = jump(pc, ins)
			}
		case 0xa5: // jlt imm
			a, b = r[dst], k64(ins)
			if a < b {
				pc = jump(pc, ins)
			}
		case 0xa6: // jlt32 imm
			a32, b32 = uint32(r[dst]), uint32(ins>>32)
			if a32 < b32 {
				pc = jump(pc, ins)
			}
		case 0xad: // jlt reg
			a, b = r[dst], r[insSrc(ins)]
			if a < b {
				pc = jump(pc, ins)
			}
		case 0xae: // jlt32 reg
			a32, b32 = uint32(r[dst]), uint32(r[insSrc(ins)])
			if a32 < b32 {
				pc = jump(pc, ins)
			}
		case 0xb5: // jle imm
			a, b = r[dst], k64(ins)
			if a <= b {
				pc = jump(pc, ins)
			}
		case 0xb6: // jle32 imm
			a32, b32 = uint32(r[dst]), uint32(ins>>32)
			if a32 <= b32 {
				pc = jump(pc, ins)
			}
		case 0xbd: // jle reg
			a, b = r[dst], r[insSrc(ins)]
			if a <= b {
				pc = jump(pc, ins)
			}
		case 0xbe: // jle32 reg
			a32, b32 = uint32(r[dst]), uint32(r[insSrc(ins)])
			if a32 <= b32 {
				pc = jump(pc, ins)
			}
		case 0xc5: // jslt imm
			a, b = r[dst], k64(ins)
			if int64(a) < int64(b) {
				pc = jump(pc, ins)
			}
		case 0xc6: // jslt32 imm
			a32, b32 = uint32(r[dst]), uint32(ins>>32)
			if int32(a32) < int32(b32) {
				pc = jump(pc, ins)
			}
		case 0xcd: // jslt reg
			a, b = r[dst], r[insSrc(ins)]
			if int64(a) < int64(b) {
				pc = jump(pc, ins)
			}
		case 0xce: // jslt32 reg
			a32, b32 = uint32(r[dst]), uint32(r[insSrc(ins)])
			if int32(a32) < int32(b32) {
				pc = jump(pc, ins)
			}
		case 0xd5: // jsle imm
			a, b = r[dst], k64(ins)
			if int64(a) <= int64(b) {
				pc = jump(pc, ins)
			}
		case 0xd6: // jsle32 imm
			a32, b32 = uint32(r[dst]), uint32(ins>>32)
			if int32(a32) <= int32(b32) {
				pc = jump(pc, ins)
			}
		case 0xdd: // jsle reg
			a, b = r[dst], r[insSrc(ins)]
			if int64(a) <= int64(b) {
				pc = jump(pc, ins)
			}
		case 0xde: // jsle32 reg
			a32, b32 = uint32(r[dst]), uint32(r[insSrc(ins)])
			if int32(a32) <= int32(b32) {
				pc = jump(pc, ins)
			}
		case 0x85: // call
			if !p.call(s, insImm(ins), now) {
				return 0, int(count), false
			}
		case 0x95: // exit
			return r[0], int(count) + 1, true
		// LD
		case 0x18: // ld_imm64
			if pc >= n {
				return 0, int(count), false
			}
			hi := p.insns[pc&(MaxInsns-1)]
			pc++
			if insSrc(ins) == pseudoMapFD {
				idx := uint64(uint32(ins>>32)) | uint64(uint32(hi>>32))<<32
				if idx >= uint64(p.nmaps) || idx >= MaxMaps {
					return 0, int(count), false
				}
				r[dst] = uint64(uintptr(unsafe.Pointer(&p.maps[idx&(MaxMaps-1)])))
			} else {
				r[dst] = uint64(uint32(ins>>32)) | uint64(uint32(hi>>32))<<32
			}
		// LDX
		case 0x79: // ldx 8
			v, good = p.load(s, uint64(ctx), r[insSrc(ins)]+offset(ins), 8)
			if !good {
				return 0, int(count), false
			}
			r[dst] = v
		case 0x61: // ldx 4
			v, good = p.load(s, uint64(ctx), r[insSrc(ins)]+offset(ins), 4)
			if !good {
				return 0, int(count), false
			}
			r[dst] = v
		case 0x69: // ldx 2
			v, good = p.load(s, uint64(ctx), r[insSrc(ins)]+offset(ins), 2)
			if !good {
				return 0, int(count), false
			}
			r[dst] = v
		case 0x71: // ldx 1
			v, good = p.load(s, uint64(ctx), r[insSrc(ins)]+offset(ins), 1)
			if !good {
				return 0, int(count), false
			}
			r[dst] = v
		// ST, STX
		case 0x7a: // st 8
			if !p.store1(s, r[dst]+offset(ins), 8, k64(ins)) {
				return 0, int(count), false
			}
		case 0x7b: // stx 8
			if !p.store1(s, r[dst]+offset(ins), 8, r[insSrc(ins)]) {
				return 0, int(count), false
			}
		case 0x62: // st 4
			if !p.store1(s, r[dst]+offset(ins), 4, k64(ins)) {
				return 0, int(count), false
			}
		case 0x63: // stx 4
			if !p.store1(s, r[dst]+offset(ins), 4, r[insSrc(ins)]) {
				return 0, int(count), false
			}
		case 0x6a: // st 2
			if !p.store1(s, r[dst]+offset(ins), 2, k64(ins)) {
				return 0, int(count), false
			}
		case 0x6b: // stx 2
			if !p.store1(s, r[dst]+offset(ins), 2, r[insSrc(ins)]) {
				return 0, int(count), false
			}
		case 0x72: // st 1
			if !p.store1(s, r[dst]+offset(ins), 1, k64(ins)) {
				return 0, int(count), false
			}
		case 0x73: // stx 1
			if !p.store1(s, r[dst]+offset(ins), 1, r[insSrc(ins)]) {
				return 0, int(count), false
			}
		default:
			return 0, int(count), false
		}
	}
	return 0, int(count), false
}

package bpf

import (
	"fmt"
	"math"
)

// VerifyError is a rejected program: the raw instruction index (8-byte slots,
// as llvm-objdump numbers them) and why.
type VerifyError struct {
	Insn   int
	Reason string
}

func (e *VerifyError) Error() string { return fmt.Sprintf("insn %d: %s", e.Insn, e.Reason) }

func verr(pc int, format string, args ...any) *VerifyError {
	return &VerifyError{Insn: pc, Reason: fmt.Sprintf(format, args...)}
}

type regType uint8

const (
	tUninit regType = iota
	tScalar
	tCtx          // pointer into the context
	tStack        // pointer into the stack; offsets relative to R10
	tMap          // map handle (ld_imm64 src=1)
	tMapValue     // pointer into a map value
	tMapValueNull // map value pointer or NULL
)

var typeNames = [...]string{"uninitialized", "scalar", "context pointer", "stack pointer", "map pointer", "map value pointer", "possibly-NULL map value pointer"}

func (t regType) String() string { return typeNames[t] }

func (t regType) isPtr() bool { return t >= tCtx }

// maxPtrOff bounds pointer offsets so that no arithmetic can overflow.
const maxPtrOff = 1 << 29

// reg is the abstract value of a register or a spilled stack slot.
// Scalars: every possible value lies in [umin, umax] (umin == umax: a known
// constant). Pointers: the offset from the start of the object (R10 for the
// stack) lies in [off, offMax]; only map values may have offMax > off.
type reg struct {
	typ        regType
	umin, umax uint64
	off        int64
	offMax     int64
	mapIdx     int32
	id         int32 // map_lookup_elem result identity, for NULL checks
}

func scalarRange(lo, hi uint64) reg { return reg{typ: tScalar, umin: lo, umax: hi} }
func scalarConst(v uint64) reg      { return reg{typ: tScalar, umin: v, umax: v} }
func scalarUnknown() reg            { return scalarRange(0, math.MaxUint64) }

func (r reg) isConst() bool { return r.typ == tScalar && r.umin == r.umax }

// trunc32 is the range of the low 32 bits of a scalar.
func (r reg) trunc32() reg {
	if r.umax <= math.MaxUint32 {
		return r
	}
	if r.isConst() {
		return scalarConst(uint64(uint32(r.umin)))
	}
	return scalarRange(0, math.MaxUint32)
}

const (
	stUninit uint8 = iota
	stMisc         // initialized data
	stSpill        // part of an 8-byte register spill
)

type state struct {
	regs   [11]reg
	stack  [StackSize]uint8
	spills [StackSize / 8]reg
}

type verifier struct {
	insns    []insn
	hook     Hook
	maps     []*Map
	explored int
	nextID   int32
	seen     map[int][]*state
	targets  []bool // jump targets: where paths can merge and be pruned
}

// verify checks prog for the hook and maps. It returns nil or a *VerifyError.
func verify(prog []insn, hook Hook, maps []*Map) error {
	v := &verifier{insns: prog, hook: hook, maps: maps, seen: map[int][]*state{}}
	if err := v.structure(); err != nil {
		return err
	}
	return v.explore()
}

// structure checks what does not depend on the path: size, opcodes,
// registers, jump targets, and that control cannot fall off the end.
func (v *verifier) structure() error {
	n := len(v.insns)
	if n == 0 {
		return verr(0, "empty program")
	}
	if n > MaxInsns {
		return verr(MaxInsns, "program too large: more than %d instructions", MaxInsns)
	}
	v.targets = make([]bool, n)
	for pc := 0; pc < n; pc++ {
		in := v.insns[pc]
		if err := v.checkOpcode(pc, in); err != nil {
			return err
		}
		width := 1
		if in.op == opLdImm64 {
			width = 2
		}
		cls := in.class()
		if cls == classJMP || cls == classJMP32 {
			op := in.op & 0xf0
			if op != jmpCall && op != jmpExit {
				t := pc + 1 + int(in.off)
				switch {
				case t < 0 || t >= n:
					return verr(pc, "jump out of range: target insn %d (program has %d)", t, n)
				case t <= pc:
					return verr(pc, "loop: back-edge to insn %d", t)
				case v.insns[t].half:
					return verr(pc, "jump into the middle of ld_imm64 at insn %d", t-1)
				}
				v.targets[t] = true
			}
			if op == jmpExit || (op == jmpJA && cls == classJMP) {
				pc += width - 1
				continue
			}
		}
		if pc+width >= n {
			return verr(pc, "falls off the end of the program without exit")
		}
		pc += width - 1
	}
	return nil
}

func (v *verifier) checkOpcode(pc int, in insn) error {
	unknown := func() error { return verr(pc, "unknown opcode %#02x", in.op) }
	if in.half {
		return verr(pc, "unknown opcode %#02x (stray ld_imm64 second half)", in.op)
	}
	if in.dst > 10 || in.src > 10 {
		return verr(pc, "invalid register R%d", max(in.dst, in.src))
	}
	switch cls := in.class(); cls {
	case classALU, classALU64:
		op := in.op & 0xf0
		if op > aluEnd {
			return unknown()
		}
		if in.off != 0 {
			return verr(pc, "unknown opcode %#02x: nonzero offset %d (signed div/mod and movsx are not supported)", in.op, in.off)
		}
		if in.op&srcX == 0 && in.src != 0 {
			return verr(pc, "unknown opcode %#02x: immediate form with source register R%d", in.op, in.src)
		}
		switch op {
		case aluEnd:
			if cls == classALU64 && in.op&srcX != 0 {
				return unknown()
			}
			if in.imm != 16 && in.imm != 32 && in.imm != 64 {
				return verr(pc, "invalid byte swap width %d", in.imm)
			}
		case aluNeg:
			if in.op&srcX != 0 {
				return unknown()
			}
		case aluDiv, aluMod:
			if in.op&srcX == 0 && (in.imm == 0 || (cls == classALU && uint32(in.imm) == 0)) {
				return verr(pc, "division by zero")
			}
		case aluLsh, aluRsh, aluArsh:
			if in.op&srcX == 0 {
				bits := int32(64)
				if cls == classALU {
					bits = 32
				}
				if in.imm < 0 || in.imm >= bits {
					return verr(pc, "invalid shift by %d", in.imm)
				}
			}
		}
	case classJMP, classJMP32:
		op := in.op & 0xf0
		if op > jmpJSLE {
			return unknown()
		}
		switch op {
		case jmpJA, jmpCall, jmpExit:
			if cls == classJMP32 || in.op&srcX != 0 {
				return unknown()
			}
			if op == jmpCall && in.src != 0 {
				return verr(pc, "unsupported call kind (src=%d): only helper calls", in.src)
			}
		default:
			if in.op&srcX == 0 && in.src != 0 {
				return verr(pc, "unknown opcode %#02x: immediate form with source register R%d", in.op, in.src)
			}
		}
	case classLD:
		if in.op != opLdImm64 {
			return unknown()
		}
		if pc+1 >= len(v.insns) {
			return verr(pc, "incomplete ld_imm64 at the end of the program")
		}
		h := v.insns[pc+1]
		if h.op != 0 || h.dst != 0 || h.src != 0 || h.off != 0 {
			return verr(pc, "malformed ld_imm64: second half is not zero")
		}
		if in.src != 0 && in.src != pseudoMapFD {
			return verr(pc, "unsupported ld_imm64 source %d", in.src)
		}
		if in.off != 0 {
			return verr(pc, "malformed ld_imm64: nonzero offset")
		}
	case classLDX:
		if in.op&0xe0 != modeMem {
			return unknown()
		}
	case classST, classSTX:
		if in.op&0xe0 != modeMem {
			return unknown()
		}
	}
	return nil
}

type pathEntry struct {
	pc int
	st *state
}

// explore walks every path from the entry, depth-first, with the abstract state.
func (v *verifier) explore() error {
	st := &state{}
	st.regs[1] = reg{typ: tCtx}
	st.regs[10] = reg{typ: tStack}
	work := []pathEntry{{0, st}}
	for len(work) > 0 {
		e := work[len(work)-1]
		work = work[:len(work)-1]
		pc, st := e.pc, e.st
		for {
			v.explored++
			if v.explored > MaxExplored {
				return verr(pc, "program too complex: more than %d instructions explored", MaxExplored)
			}
			next, branch, done, err := v.step(pc, st)
			if err != nil {
				return err
			}
			if branch != nil && !v.pruned(branch.pc, branch.st) {
				work = append(work, *branch)
			}
			if done {
				break
			}
			if v.pruned(next, st) {
				break
			}
			pc = next
		}
	}
	return nil
}

// pruned records st as explored at a jump target pc and reports whether an
// identical state was already explored (or queued) there.
func (v *verifier) pruned(pc int, st *state) bool {
	if !v.isTarget(pc) {
		return false
	}
	for _, s := range v.seen[pc] {
		if *s == *st {
			return true
		}
	}
	if len(v.seen[pc]) < 8 {
		c := *st
		v.seen[pc] = append(v.seen[pc], &c)
	}
	return false
}

func (v *verifier) isTarget(pc int) bool {
	return pc >= 0 && pc < len(v.targets) && v.targets[pc]
}

func (v *verifier) readReg(pc int, st *state, r uint8) (reg, error) {
	x := st.regs[r]
	if x.typ == tUninit {
		return x, verr(pc, "R%d read before being written", r)
	}
	return x, nil
}

func (v *verifier) writeReg(pc int, st *state, r uint8, x reg) error {
	if r == 10 {
		return verr(pc, "write to R10 (the frame pointer is read-only)")
	}
	st.regs[r] = x
	return nil
}

// step interprets one instruction on st (in place). It returns the next pc,
// possibly a second path to explore (a branch), or done at exit / dead end.
func (v *verifier) step(pc int, st *state) (next int, branch *pathEntry, done bool, err error) {
	in := v.insns[pc]
	switch cls := in.class(); cls {
	case classALU, classALU64:
		return pc + 1, nil, false, v.stepALU(pc, st, in, cls == classALU64)
	case classLD:
		x := scalarConst(in.imm64)
		if in.src == pseudoMapFD {
			idx := uint32(in.imm64)
			if in.imm64>>32 != 0 || int(idx) >= len(v.maps) {
				return 0, nil, false, verr(pc, "unknown map fd %d", int64(in.imm64))
			}
			x = reg{typ: tMap, mapIdx: int32(idx)}
		}
		return pc + 2, nil, false, v.writeReg(pc, st, in.dst, x)
	case classLDX:
		base, err := v.readReg(pc, st, in.src)
		if err != nil {
			return 0, nil, false, err
		}
		x, err := v.memAccess(pc, st, in.src, base, in.off, memSize(in.op), false, reg{})
		if err != nil {
			return 0, nil, false, err
		}
		return pc + 1, nil, false, v.writeReg(pc, st, in.dst, x)
	case classST, classSTX:
		val := scalarConst(uint64(int64(in.imm)))
		if cls == classSTX {
			if val, err = v.readReg(pc, st, in.src); err != nil {
				return 0, nil, false, err
			}
		}
		base, err := v.readReg(pc, st, in.dst)
		if err != nil {
			return 0, nil, false, err
		}
		_, err = v.memAccess(pc, st, in.dst, base, in.off, memSize(in.op), true, val)
		return pc + 1, nil, false, err
	case classJMP, classJMP32:
		op := in.op & 0xf0
		switch {
		case op == jmpExit:
			r0 := st.regs[0]
			if r0.typ == tUninit {
				return 0, nil, true, verr(pc, "exit with R0 uninitialized (R0 read before being written)")
			}
			if r0.typ.isPtr() {
				return 0, nil, true, verr(pc, "exit: R0 leaks a pointer (%s)", r0.typ)
			}
			return 0, nil, true, nil
		case op == jmpCall:
			return pc + 1, nil, false, v.stepCall(pc, st, in)
		case op == jmpJA:
			return pc + 1 + int(in.off), nil, false, nil
		}
		return v.stepCond(pc, st, in, cls == classJMP32)
	}
	return 0, nil, false, verr(pc, "unknown opcode %#02x", in.op)
}

func (v *verifier) stepALU(pc int, st *state, in insn, is64 bool) error {
	op := in.op & 0xf0
	dst := st.regs[in.dst]
	if op != aluMov {
		var err error
		if dst, err = v.readReg(pc, st, in.dst); err != nil {
			return err
		}
	}
	if op == aluEnd {
		if dst.typ.isPtr() {
			return verr(pc, "byte swap of pointer R%d", in.dst)
		}
		x := scalarRange(0, uint64(1)<<in.imm-1)
		if in.imm == 64 {
			x = scalarUnknown()
		}
		if dst.isConst() {
			x = scalarConst(endian(in.class(), in.op&srcX != 0, in.imm, dst.umin))
		}
		return v.writeReg(pc, st, in.dst, x)
	}
	var src reg
	if op == aluNeg {
		src = scalarConst(0)
	} else if in.op&srcX != 0 {
		var err error
		if src, err = v.readReg(pc, st, in.src); err != nil {
			return err
		}
	} else {
		src = scalarConst(immOperand(in.imm, is64))
	}
	if op == aluMov {
		if !is64 && src.typ.isPtr() {
			return verr(pc, "32-bit move of pointer R%d", in.src)
		}
		if !is64 {
			src = src.trunc32()
		}
		return v.writeReg(pc, st, in.dst, src)
	}
	if dst.typ.isPtr() || src.typ.isPtr() {
		x, err := v.ptrArith(pc, in, op, is64, dst, src)
		if err != nil {
			return err
		}
		return v.writeReg(pc, st, in.dst, x)
	}
	if (op == aluDiv || op == aluMod) && in.op&srcX != 0 {
		d := src
		if !is64 {
			d = src.trunc32()
		}
		if d.umin == 0 {
			what := "division"
			if op == aluMod {
				what = "modulo"
			}
			return verr(pc, "%s by a possibly-zero register R%d", what, in.src)
		}
	}
	return v.writeReg(pc, st, in.dst, scalarALU(op, is64, dst, src))
}

// ptrArith allows pointer += constant, pointer -= constant, and for map
// values pointer += bounded scalar. Everything else is rejected.
func (v *verifier) ptrArith(pc int, in insn, op uint8, is64 bool, dst, src reg) (reg, error) {
	if !is64 {
		return reg{}, verr(pc, "pointer arithmetic: 32-bit operation on a pointer")
	}
	ptr, s := dst, src
	if !dst.typ.isPtr() {
		ptr, s = src, dst // scalar += pointer
		if op != aluAdd {
			return reg{}, verr(pc, "pointer arithmetic: pointer R%d used as a scalar operand", in.src)
		}
	}
	if s.typ.isPtr() {
		return reg{}, verr(pc, "pointer arithmetic: both operands are pointers")
	}
	if op != aluAdd && op != aluSub {
		return reg{}, verr(pc, "pointer arithmetic: only adding a constant or bounded scalar is allowed")
	}
	if ptr.typ == tMap || ptr.typ == tMapValueNull {
		return reg{}, verr(pc, "pointer arithmetic on %s is not allowed", ptr.typ)
	}
	if s.isConst() {
		c := int64(s.umin)
		if op == aluSub {
			c = -c
		}
		if c <= -maxPtrOff || c >= maxPtrOff || ptr.off+c <= -maxPtrOff || ptr.offMax+c >= maxPtrOff {
			return reg{}, verr(pc, "pointer arithmetic: offset %d out of range", c)
		}
		ptr.off += c
		ptr.offMax += c
		return ptr, nil
	}
	if ptr.typ != tMapValue || op != aluAdd {
		return reg{}, verr(pc, "pointer arithmetic: variable offset into %s (only constants allowed)", ptr.typ)
	}
	if s.umax >= maxPtrOff || ptr.offMax+int64(s.umax) >= maxPtrOff {
		return reg{}, verr(pc, "pointer arithmetic: unbounded scalar added to map value pointer")
	}
	ptr.off += int64(s.umin)
	ptr.offMax += int64(s.umax)
	return ptr, nil
}

// scalarALU is the abstract transfer function for scalar ALU operations.
func scalarALU(op uint8, is64 bool, a, b reg) reg {
	if !is64 {
		a, b = a.trunc32(), b.trunc32()
	}
	if a.isConst() && b.isConst() {
		return scalarConst(alu(op, is64, a.umin, b.umin))
	}
	full := uint64(math.MaxUint64)
	if !is64 {
		full = math.MaxUint32
	}
	lo, hi := uint64(0), full
	if op == aluLsh || op == aluRsh || op == aluArsh {
		// The interpreter masks shift amounts to the operand width.
		mask := uint64(63)
		if !is64 {
			mask = 31
		}
		if b.isConst() {
			b = scalarConst(b.umin & mask)
		} else {
			b = scalarRange(0, mask)
		}
	}
	switch op {
	case aluAdd:
		if a.umax <= math.MaxUint64-b.umax {
			lo, hi = a.umin+b.umin, a.umax+b.umax
		}
	case aluSub:
		if a.umin >= b.umax {
			lo, hi = a.umin-b.umax, a.umax-b.umin
		}
	case aluMul:
		if a.umax == 0 || b.umax <= math.MaxUint64/a.umax {
			lo, hi = a.umin*b.umin, a.umax*b.umax
		}
	case aluDiv:
		if b.umin > 0 {
			lo, hi = a.umin/b.umax, a.umax/b.umin
		}
	case aluMod:
		if b.umin > 0 {
			hi = min(a.umax, b.umax-1)
		}
	case aluAnd:
		hi = min(a.umax, b.umax)
	case aluOr, aluXor:
		hi = bitsUpTo(max(a.umax, b.umax))
		if op == aluOr {
			lo = max(a.umin, b.umin)
		}
	case aluLsh:
		if b.isConst() && b.umin < 64 && a.umax <= math.MaxUint64>>b.umin {
			lo, hi = a.umin<<b.umin, a.umax<<b.umin
		}
	case aluRsh:
		if b.isConst() {
			lo, hi = a.umin>>b.umin, a.umax>>b.umin
		} else {
			hi = a.umax
		}
	case aluArsh:
		sign := uint64(math.MaxInt64)
		if !is64 {
			sign = math.MaxInt32
		}
		if a.umax <= sign { // sign bit clear: same as rsh
			if b.isConst() {
				lo, hi = a.umin>>b.umin, a.umax>>b.umin
			} else {
				hi = a.umax
			}
		}
	}
	if hi > full || lo > hi {
		lo, hi = 0, full
	}
	return scalarRange(lo, hi)
}

func bitsUpTo(x uint64) uint64 {
	x |= x >> 1
	x |= x >> 2
	x |= x >> 4
	x |= x >> 8
	x |= x >> 16
	x |= x >> 32
	return x
}

// memAccess checks a load (write=false; returns the loaded value) or a store
// of val through base+off of size bytes.
func (v *verifier) memAccess(pc int, st *state, breg uint8, base reg, off int16, size int, write bool, val reg) (reg, error) {
	loaded := scalarRange(0, math.MaxUint64>>(64-8*size))
	if write && val.typ.isPtr() && base.typ != tStack {
		return reg{}, verr(pc, "pointer R%d stored into %s (leak)", breg, base.typ)
	}
	switch base.typ {
	case tScalar:
		return reg{}, verr(pc, "R%d is not a pointer (scalar) and cannot be dereferenced", breg)
	case tMap:
		return reg{}, verr(pc, "R%d is a map pointer and cannot be dereferenced", breg)
	case tMapValueNull:
		return reg{}, verr(pc, "R%d may be NULL: check the map value pointer against 0 before dereferencing it", breg)
	case tCtx:
		if write {
			return reg{}, verr(pc, "write to context (the context is read-only)")
		}
		o := base.off + int64(off)
		if o < 0 || o+int64(size) > int64(v.hook.CtxSize) {
			return reg{}, verr(pc, "context access out of bounds: offset %d size %d (context is %d bytes)", o, size, v.hook.CtxSize)
		}
		if o%int64(size) != 0 {
			return reg{}, verr(pc, "misaligned context access: offset %d size %d", o, size)
		}
		return loaded, nil
	case tMapValue:
		vs := int64(v.maps[base.mapIdx].ValueSize)
		lo, hi := base.off+int64(off), base.offMax+int64(off)
		if lo < 0 || hi+int64(size) > vs {
			return reg{}, verr(pc, "map value access out of bounds: offset [%d, %d] size %d (value_size %d)", lo, hi, size, vs)
		}
		return loaded, nil
	case tStack:
		o := base.off + int64(off)
		if o < -StackSize || o+int64(size) > 0 {
			return reg{}, verr(pc, "stack access out of bounds: fp%+d size %d (stack is [-%d, 0))", o, size, StackSize)
		}
		if o%int64(size) != 0 {
			return reg{}, verr(pc, "misaligned stack access: fp%+d size %d", o, size)
		}
		i := int(o + StackSize)
		slot := i / 8
		if write {
			return reg{}, v.stackWrite(pc, st, i, size, val)
		}
		for j := i; j < i+size; j++ {
			if st.stack[j] == stUninit {
				return reg{}, verr(pc, "read of uninitialized stack at fp%+d", j-StackSize)
			}
		}
		if st.stack[i] == stSpill {
			sp := st.spills[slot]
			if size == 8 {
				return sp, nil
			}
			if sp.typ.isPtr() {
				return reg{}, verr(pc, "partial read of a spilled pointer at fp%+d", o)
			}
		}
		return loaded, nil
	}
	return reg{}, verr(pc, "R%d read before being written", breg)
}

func (v *verifier) stackWrite(pc int, st *state, i, size int, val reg) error {
	slot := i / 8
	if size == 8 {
		for j := i; j < i+8; j++ {
			st.stack[j] = stSpill
		}
		st.spills[slot] = val
		return nil
	}
	if val.typ.isPtr() {
		return verr(pc, "partial store of a pointer to the stack at fp%+d", i-StackSize)
	}
	if st.stack[slot*8] == stSpill {
		if st.spills[slot].typ.isPtr() {
			return verr(pc, "partial overwrite of a spilled pointer at fp%+d", slot*8-StackSize)
		}
		for j := slot * 8; j < slot*8+8; j++ {
			st.stack[j] = stMisc
		}
		st.spills[slot] = reg{}
	}
	for j := i; j < i+size; j++ {
		st.stack[j] = stMisc
	}
	return nil
}

func (v *verifier) stepCall(pc int, st *state, in insn) error {
	h, ok := v.hook.Helpers[in.imm]
	if !ok {
		return verr(pc, "call to unknown helper %d", in.imm)
	}
	if h.Fn == nil {
		return verr(pc, "helper %d (%s) has no implementation", in.imm, h.Name)
	}
	if len(h.Args) > 5 {
		return verr(pc, "helper %s declares %d arguments", h.Name, len(h.Args))
	}
	var m *Map
	var mapIdx int32
	for i, at := range h.Args {
		r := uint8(i + 1)
		x, err := v.readReg(pc, st, r)
		if err != nil {
			return verr(pc, "helper %s argument %d: %s", h.Name, i+1, err.(*VerifyError).Reason)
		}
		switch at {
		case ArgScalar:
			if x.typ != tScalar {
				return verr(pc, "helper %s argument R%d: expected a scalar, got %s", h.Name, r, x.typ)
			}
		case ArgMap:
			if x.typ != tMap {
				return verr(pc, "helper %s argument R%d: expected a map pointer, got %s", h.Name, r, x.typ)
			}
			m, mapIdx = v.maps[x.mapIdx], x.mapIdx
		case ArgMapKey:
			if m == nil {
				return verr(pc, "helper %s argument R%d: key without a map argument", h.Name, r)
			}
			if x.typ != tStack {
				return verr(pc, "helper %s argument R%d: expected a stack pointer to the key, got %s", h.Name, r, x.typ)
			}
			ks := int64(m.KeySize)
			if x.off < -StackSize || x.off+ks > 0 {
				return verr(pc, "helper %s argument R%d: key fp%+d size %d out of stack bounds", h.Name, r, x.off, ks)
			}
			for j := x.off + StackSize; j < x.off+StackSize+ks; j++ {
				if st.stack[j] == stUninit {
					return verr(pc, "helper %s argument R%d: key reads uninitialized stack at fp%+d", h.Name, r, j-StackSize)
				}
				if st.stack[j] == stSpill && st.spills[j/8].typ.isPtr() {
					return verr(pc, "helper %s argument R%d: key contains a spilled pointer", h.Name, r)
				}
			}
		default:
			return verr(pc, "helper %s: bad argument type %d", h.Name, at)
		}
	}
	for r := 1; r <= 5; r++ {
		st.regs[r] = reg{}
	}
	switch h.Ret {
	case RetMapValueOrNull:
		if m == nil {
			return verr(pc, "helper %s returns a map value but takes no map", h.Name)
		}
		v.nextID++
		st.regs[0] = reg{typ: tMapValueNull, mapIdx: mapIdx, id: v.nextID}
	case RetU32:
		st.regs[0] = scalarRange(0, math.MaxUint32)
	default:
		st.regs[0] = scalarUnknown()
	}
	return nil
}

// stepCond handles a conditional jump: it decides or splits the path and
// refines scalar ranges (and NULL-ness of map values) on each side.
func (v *verifier) stepCond(pc int, st *state, in insn, is32 bool) (int, *pathEntry, bool, error) {
	op := in.op & 0xf0
	a, err := v.readReg(pc, st, in.dst)
	if err != nil {
		return 0, nil, false, err
	}
	b := scalarConst(immOperand(in.imm, !is32))
	if in.op&srcX != 0 {
		if b, err = v.readReg(pc, st, in.src); err != nil {
			return 0, nil, false, err
		}
	}
	target := pc + 1 + int(in.off)
	fall := pc + 1
	if a.typ.isPtr() || b.typ.isPtr() {
		return v.ptrCond(pc, st, in, op, is32, a, b, target, fall)
	}
	if is32 {
		a, b = a.trunc32(), b.trunc32()
	}
	if a.isConst() && b.isConst() {
		if cond(op, is32, a.umin, b.umin) {
			return target, nil, false, nil
		}
		return fall, nil, false, nil
	}
	// Ranges are only refined where the comparison is a plain unsigned one
	// over the (possibly truncated) ranges: unsigned ops, or signed ops when
	// both sides are non-negative.
	signLimit := uint64(math.MaxInt64)
	full := uint64(math.MaxUint64)
	if is32 {
		signLimit, full = math.MaxInt32, math.MaxUint32
	}
	uop := op
	switch op {
	case jmpJSGT:
		uop = jmpJGT
	case jmpJSGE:
		uop = jmpJGE
	case jmpJSLT:
		uop = jmpJLT
	case jmpJSLE:
		uop = jmpJLE
	}
	refinable := op != jmpJSET && (uop == op || (a.umax <= signLimit && b.umax <= signLimit))
	// With 32-bit jumps, refining the 64-bit register is only valid when its
	// range already fits in 32 bits (then trunc32 returned it unchanged).
	aOrig, bOrig := st.regs[in.dst], b
	if in.op&srcX != 0 {
		bOrig = st.regs[in.src]
	}
	if is32 && (aOrig.umax > full || bOrig.umax > full) {
		refinable = false
	}
	if !refinable {
		br := &pathEntry{target, cloneState(st)}
		return fall, br, false, nil
	}
	ta, tb, tok := refine(uop, a, b)
	fa, fb, fok := refine(negate(uop), a, b)
	sameReg := in.op&srcX != 0 && in.src == in.dst
	apply := func(s *state, x, y reg) {
		if sameReg {
			return
		}
		s.regs[in.dst] = x
		if in.op&srcX != 0 {
			s.regs[in.src] = y
		}
	}
	switch {
	case tok && fok:
		ts := cloneState(st)
		apply(ts, ta, tb)
		apply(st, fa, fb)
		return fall, &pathEntry{target, ts}, false, nil
	case tok:
		apply(st, ta, tb)
		return target, nil, false, nil
	case fok:
		apply(st, fa, fb)
		return fall, nil, false, nil
	}
	return 0, nil, true, nil // neither side feasible: dead path
}

func negate(op uint8) uint8 {
	switch op {
	case jmpJEQ:
		return jmpJNE
	case jmpJNE:
		return jmpJEQ
	case jmpJGT:
		return jmpJLE
	case jmpJLE:
		return jmpJGT
	case jmpJGE:
		return jmpJLT
	case jmpJLT:
		return jmpJGE
	}
	return op
}

// refine narrows scalar ranges a and b assuming "a op b" holds (unsigned),
// and reports whether that is feasible at all.
func refine(op uint8, a, b reg) (reg, reg, bool) {
	switch op {
	case jmpJEQ:
		lo, hi := max(a.umin, b.umin), min(a.umax, b.umax)
		a.umin, a.umax, b.umin, b.umax = lo, hi, lo, hi
	case jmpJNE:
		if b.isConst() {
			if a.umin == b.umin {
				if a.umin == math.MaxUint64 {
					return a, b, false
				}
				a.umin++
			} else if a.umax == b.umin {
				if a.umax == 0 {
					return a, b, false
				}
				a.umax--
			}
		}
		if a.isConst() {
			if b.umin == a.umin {
				if b.umin == math.MaxUint64 {
					return a, b, false
				}
				b.umin++
			} else if b.umax == a.umin {
				if b.umax == 0 {
					return a, b, false
				}
				b.umax--
			}
		}
	case jmpJGT: // a > b
		if b.umin == math.MaxUint64 || a.umax == 0 {
			return a, b, false
		}
		a.umin = max(a.umin, b.umin+1)
		b.umax = min(b.umax, a.umax-1)
	case jmpJGE:
		a.umin = max(a.umin, b.umin)
		b.umax = min(b.umax, a.umax)
	case jmpJLT:
		b2, a2, ok := refine(jmpJGT, b, a)
		return a2, b2, ok
	case jmpJLE:
		b2, a2, ok := refine(jmpJGE, b, a)
		return a2, b2, ok
	}
	return a, b, a.umin <= a.umax && b.umin <= b.umax
}

// ptrCond allows comparing a pointer with 0 (JEQ/JNE): the NULL check of a
// map_lookup_elem result. Other comparisons involving pointers are rejected.
func (v *verifier) ptrCond(pc int, st *state, in insn, op uint8, is32 bool, a, b reg, target, fall int) (int, *pathEntry, bool, error) {
	if in.op&srcX != 0 && a.typ.isPtr() && b.typ.isPtr() {
		return 0, nil, false, verr(pc, "comparison between pointers")
	}
	ptr, other, preg := a, b, in.dst
	if !a.typ.isPtr() {
		ptr, other, preg = b, a, in.src
	}
	if is32 || (op != jmpJEQ && op != jmpJNE) || !other.isConst() || other.umin != 0 {
		return 0, nil, false, verr(pc, "comparison involving pointer R%d: only == 0 and != 0 are allowed", preg)
	}
	if ptr.typ != tMapValueNull {
		// A valid pointer is never NULL.
		if op == jmpJNE {
			return target, nil, false, nil
		}
		return fall, nil, false, nil
	}
	nullSt := cloneState(st)
	markNull(nullSt, ptr.id, true)
	markNull(st, ptr.id, false)
	if op == jmpJEQ { // taken when NULL
		return fall, &pathEntry{target, nullSt}, false, nil
	}
	return target, &pathEntry{fall, nullSt}, false, nil
}

// markNull resolves every copy of the lookup result id to NULL (scalar 0)
// or to a valid map value pointer.
func markNull(st *state, id int32, null bool) {
	fix := func(r *reg) {
		if r.typ == tMapValueNull && r.id == id {
			if null {
				*r = scalarConst(0)
			} else {
				r.typ = tMapValue
			}
		}
	}
	for i := range st.regs {
		fix(&st.regs[i])
	}
	for i := range st.spills {
		fix(&st.spills[i])
	}
}

func cloneState(st *state) *state {
	c := *st
	return &c
}

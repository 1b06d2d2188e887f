package bpf

import "encoding/binary"

// Raw returns the verified program's instructions in the raw little-endian
// 8-byte encoding (LoadRaw's input; ld_imm64 takes two slots and a map
// reference carries the map's index in Maps as its immediate). Together with
// Maps and Hook().CtxSize it is everything a separate execution engine (such
// as core/bpfvm) needs to run the program the verifier accepted.
func (p *Program) Raw() []byte {
	out := make([]byte, 8*len(p.insns))
	for i, in := range p.insns {
		s := out[8*i : 8*i+8]
		s[0] = in.op
		s[1] = in.dst&0x0f | in.src<<4
		binary.LittleEndian.PutUint16(s[2:4], uint16(in.off))
		binary.LittleEndian.PutUint32(s[4:8], uint32(in.imm))
	}
	return out
}

// Package rng is the kernel's random numbers: getrandom and AT_RANDOM come from a ChaCha20
// generator per task with fast key erasure: every request first replaces the key with the
// generator's own output, so the state left after a request says nothing about what it
// produced. A task's key is the kernel's own generator's output mixed with the CPU's entropy
// source (RDSEED, else RDRAND) when it starts; the kernel's generator is keyed at boot from
// the same source and the TSC. No task can predict another's numbers, nor its own next ones
// from its last.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.
package rng

import (
	"math/bits"

	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/mm"
	"github.com/simpleos/simpleos/core/x86"
)

// Generator is one ChaCha20 generator.
type Generator struct {
	key [8]uint32
}

// MaxRead bounds one getrandom (a short count beyond, as Linux gives past 256 bytes).
const MaxRead = 4096

var (
	kernelRNG            Generator
	hasRDRAND, hasRDSEED bool
)

//go:nosplit
func quarter(s *[16]uint32, a, b, c, d int) {
	s[a&15] += s[b&15]
	s[d&15] = bits.RotateLeft32(s[d&15]^s[a&15], 16)
	s[c&15] += s[d&15]
	s[b&15] = bits.RotateLeft32(s[b&15]^s[c&15], 12)
	s[a&15] += s[b&15]
	s[d&15] = bits.RotateLeft32(s[d&15]^s[a&15], 8)
	s[c&15] += s[d&15]
	s[b&15] = bits.RotateLeft32(s[b&15]^s[c&15], 7)
}

// chachaBlock computes the ChaCha20 block (RFC 8439) of key, a 64-bit block counter and a
// zero nonce into out.
//
//go:nosplit
func chachaBlock(key *[8]uint32, counter uint64, out *[16]uint32) {
	*out = [16]uint32{0x61707865, 0x3320646e, 0x79622d32, 0x6b206574,
		key[0], key[1], key[2], key[3], key[4], key[5], key[6], key[7],
		uint32(counter), uint32(counter >> 32), 0, 0}
	in := *out
	for i := 0; i < 10; i++ {
		quarter(out, 0, 4, 8, 12)
		quarter(out, 1, 5, 9, 13)
		quarter(out, 2, 6, 10, 14)
		quarter(out, 3, 7, 11, 15)
		quarter(out, 0, 5, 10, 15)
		quarter(out, 1, 6, 11, 12)
		quarter(out, 2, 7, 8, 13)
		quarter(out, 3, 4, 9, 14)
	}
	for i := range out {
		out[i] += in[i]
	}
}

// rekey replaces r's key with the first half of block 0 and returns the block: its second
// half is the request's first 32 bytes of output.
//
//go:nosplit
func (r *Generator) rekey(b *[16]uint32) {
	chachaBlock(&r.key, 0, b)
	copy(r.key[:], b[:8])
}

// Word returns 64 random bits (kernel use: keys of new processes).
//
//go:nosplit
func (r *Generator) Word() uint64 {
	var b [16]uint32
	r.rekey(&b)
	return uint64(b[8]) | uint64(b[9])<<32
}

// Fill writes n random bytes (at most MaxRead) to user address buf of as.
//
//go:nosplit
func (r *Generator) Fill(as *mm.AddressSpace, buf, n uintptr) bool {
	var b [16]uint32
	old := r.key
	r.rekey(&b) // from here on the request's output cannot be recomputed from r
	done := uintptr(0)
	for ctr := uint64(1); done < n; ctr++ {
		src, size := arch.Addr(&b[0]), uintptr(64)
		if ctr == 1 {
			src, size = arch.Addr(&b[8]), 32
		}
		if size > n-done {
			size = n - done
		}
		if !as.CopyOut(buf+done, src, size) {
			return false
		}
		done += size
		if done < n {
			chachaBlock(&old, ctr, &b)
		}
	}
	old = [8]uint32{}
	b = [16]uint32{}
	return true
}

// hardwareWord returns 64 bits from RDSEED, else RDRAND (retrying a few times each, as their
// makers advise), mixed with the TSC; ok=false if the CPU gave none.
//
//go:nosplit
func hardwareWord() (uint64, bool) {
	t := x86.Rdtsc() * 0x9e37_79b9_7f4a_7c15
	for i := 0; hasRDSEED && i < 16; i++ {
		if v, ok := x86.RdSeed(); ok {
			return v ^ t, true
		}
	}
	for i := 0; hasRDRAND && i < 16; i++ {
		if v, ok := x86.RdRand(); ok {
			return v ^ t, true
		}
	}
	return t, false
}

// Seed keys r from the kernel's generator and the CPU's entropy source.
//
//go:nosplit
func (r *Generator) Seed() {
	for i := 0; i < 8; i += 2 {
		h, _ := hardwareWord()
		k := kernelRNG.Word() ^ h
		r.key[i], r.key[i+1] = uint32(k), uint32(k>>32)
	}
}

// Init keys the kernel's generator at boot: the CPU's entropy source when it has one,
// and TSC readings around calibration-length delays otherwise.
//
//go:nosplit
func Init() {
	_, _, c, _ := x86.Cpuid(1, 0)
	_, b, _, _ := x86.Cpuid(7, 0)
	hasRDRAND, hasRDSEED = c&(1<<30) != 0, b&(1<<18) != 0
	for i := 0; i < 8; i += 2 {
		h, _ := hardwareWord()
		kernelRNG.key[i] ^= uint32(h)
		kernelRNG.key[i+1] ^= uint32(h >> 32)
	}
}

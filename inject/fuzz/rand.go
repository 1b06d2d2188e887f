package fuzz

// rng is splitmix64: small, allocation-free and the same everywhere for a seed.
type rng struct{ s uint64 }

func newRNG(seed uint64) *rng { return &rng{seed} }

func (r *rng) next() uint64 {
	r.s += 0x9e37_79b9_7f4a_7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58_476d_1ce4_e5b9
	z = (z ^ z>>27) * 0x94d0_49bb_1331_11eb
	return z ^ z>>31
}

// intn returns a value in [0, n).
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// chance reports true one time in n.
func (r *rng) chance(n int) bool { return r.intn(n) == 0 }

// pick returns one of vs.
func pick[T any](r *rng, vs []T) T { return vs[r.intn(len(vs))] }

// BatchSeed is the seed of batch b of a fuzzer seeded with seed.
func BatchSeed(seed uint64, b uint64) uint64 {
	r := rng{seed ^ b*0xd1b5_4a32_d192_ed03}
	return r.next()
}

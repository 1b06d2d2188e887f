package main

// rdtsc returns the time-stamp counter once earlier instructions have completed (LFENCE).
// SimpleOS leaves CR4.TSD clear, so it works in every ring.
func rdtsc() uint64

package main

// rdtsc returns the time-stamp counter, after earlier instructions have completed (LFENCE).
func rdtsc() uint64

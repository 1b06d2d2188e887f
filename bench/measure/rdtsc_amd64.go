package measure

// Rdtsc returns the time-stamp counter, after earlier instructions have completed (LFENCE).
func Rdtsc() uint64

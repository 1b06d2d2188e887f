// Package coverfirst has no code, on purpose: in a core built with coverage counters (the
// fuzz campaign's), it is the first covered package to initialise — package arch imports it —
// and so it takes package index 0.
//
// Every instrumented function records, on each call, its package's ID in its counter slab: an
// ID the runtime assigns when the package initialises. Kernel code that ran before its package
// did — the boot, before the Go runtime existed, and the kernel serving the runtime's own
// system calls during the first inits — recorded ID 0, which the runtime's writer reports as
// index 0. With index 0 a package without functions, those counts are dropped (no function
// they could be added to), where they would otherwise be added to another package's function
// that does not match them (go tool covdata then fails). The coverage a campaign reports is of
// the code that runs once the kernel's packages are up: the system calls tasks make.
package coverfirst

// Index0 says what the package is for; it has no other content.
const Index0 = "absorbs the counts of code that ran before its package initialised"

// Package bench will hold the benchmark suite.
//
// Nothing is implemented here yet: the core (core/) comes first; see docs/architecture.md.
package bench

// Package ring3 will hold applications that run in ring 3.
//
// Nothing is implemented here yet: the core (core/) comes first; see docs/architecture.md.
package ring3

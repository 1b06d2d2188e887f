// Package tier1 will hold device drivers that run in ring 1 with the ports, IRQs and memory ranges they are granted.
//
// Nothing is implemented here yet: the core (core/) comes first; see docs/architecture.md.
package tier1

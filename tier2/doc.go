// Package tier2 will hold security modules that run in ring 2 and judge the system events they are granted.
//
// Nothing is implemented here yet: the core (core/) comes first; see docs/architecture.md.
package tier2

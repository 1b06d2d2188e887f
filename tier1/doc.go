// Package tier1 holds device drivers: each package main below it is built by make and runs as
// a task in ring 1 with the ports it is granted (docs/tiers.md).
//
// There is no driver yet.
package tier1

// Package tier2 holds security modules: each package main below it is built by make and runs
// as a task in ring 2, with no hardware access (docs/tiers.md).
//
// There is no module yet.
package tier2

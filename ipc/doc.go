// Package ipc will hold the Go package tasks use for message passing with the core and each other.
//
// Nothing is implemented here yet: the core (core/) comes first; see docs/architecture.md.
package ipc

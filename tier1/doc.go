// Package tier1 holds device drivers: each package main below it is built by make and runs as
// a task in ring 1 with the ports it is granted (docs/tiers.md).
//
// console drives the serial port (COM1); blk drives a virtio-blk disk through the core's device
// system calls and serves the block protocol (docs/blk.md).
package tier1

// Package ring3 holds applications: each package main below it is built by make and runs as
// a task in ring 3 (docs/tiers.md). sysinfo is a sample; blktest checks the disk
// through the block driver (docs/blk.md); fs is the file-system server (docs/files.md).
package ring3

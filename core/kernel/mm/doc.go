// Package mm is memory: the physical frame allocator (frames.go) and the pools every kernel
// table is shared out from, each task with a reservation and a limit (pool.go); page tables
// (paging.go); address spaces — a PML4 and a sorted list of regions, demand-zero paging,
// munmap/mprotect over ranges (aspace.go), device mappings (device.go), ELF segments
// (load.go), the entry area each space maps (entry.go) — and the core's own (kernelspace.go);
// checked access to a task's memory through the direct map (uaccess.go); and loans, pages of
// one space lent read-only to another for an IPC call and ended before the lender can free them
// (loan.go). The layout of virtual memory is in layout.go.
//
// It knows nothing of tasks or threads: a space is an index (task slot i uses space i), and
// frames are charged to a Share its caller passes. On a host, UseHostMemory makes a byte slice
// physical memory, for tests (hosted.go).
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes (but the host mode).
package mm

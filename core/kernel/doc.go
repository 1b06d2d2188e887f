// Package kernel is the top of the SimpleOS core's kernel: the boot (entry_amd64.s, boot.go:
// long mode, the core's page table, descriptor tables, APIC and clock, the core's own Go
// runtime started at ring 0 as task 1), trap dispatch (trap.go: system calls to package sys,
// exceptions to signals or a crash report, the timer to the scheduler, device interrupts to
// the task that owns the line, and on the way back signals delivered and ended tasks torn
// down), the teardown of a task as one loop over the services' hooks (lifecycle.go), and the
// API the core's Go program uses as supervisor (task_api.go, api.go: start a task, learn how
// tasks end, kill one, read usage and statistics; handlers.go: custom interrupt handlers).
//
// The concepts live in the packages below it, one each: arch, mm, sched, task, sys and the
// services (ipc, files, signal, notify, event, console, content, mmio, inject, filter, crash,
// rng). docs/architecture.md is the map. trap.go and lifecycle.go run in trap context; the
// API runs in goroutine context with interrupts off around every change to kernel state.
package kernel

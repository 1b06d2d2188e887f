// Package task owns the kernel's one task object. A Task is a process: a Go runtime (or any
// static program) with its own address space on ring 1, 2 or 3 — or, in slot 0, the core's
// own Go runtime on ring 0. It holds what is the task's: its identity, ring and name, its
// address space, its threads' share of the thread table, its descriptor table, its signal
// dispositions, its grants from the policy (ports, IRQs, device memory, endpoints, events,
// content files), its accounting, what its runtime said on the way down, and why it ended.
//
// The services (ipc, notify, event, console, content, mmio, files, inject) attach their own
// per-task state to a task with Attached and release it in their teardown hook; the kernel
// package runs the hooks, in one loop, when a task ends (MarkEnding records why; the kernel
// tears it down at the top of the trap path). Call and Result are a system call as a handler
// sees it: the task and thread making it, typed arguments, and what happens next.
//
// Everything here runs in trap context (nosplit, no allocation, no heap pointer writes) but
// the Set methods of NameList, which run in goroutine context.
package task

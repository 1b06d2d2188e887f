// Package sched owns the threads and who runs: the thread table with each thread's kernel
// stack and saved context, wait queues (every wait in the kernel is on one: an endpoint's
// callers, a pipe's readers, a futex, a task's notification word), the run queue, blocking
// and waking, deadlines, the time slice and its donation, and the switch itself — every
// thread switch in the kernel goes through switchTo.
//
// A thread that waits is put on a queue with Block and the CPU leaves it only when the caller
// (the system-call dispatcher) calls Schedule: a system-call handler says what happens next
// and the switch happens in one place. A wait ends with a result the waker gives (WakeWith:
// an IPC reply, a futex wake), with the call run again (Wake on a wait that asked for it: a
// pipe that has data now), at its deadline, or with EINTR for a signal.
//
// Threads belong to tasks by slot (Thread.Task) and run in an address space (Thread.Space);
// what a task is, is package task's business. Everything here runs in trap context: nosplit,
// no allocation, no heap pointer writes (threads are referred to by slot, never by stored
// pointers).
package sched

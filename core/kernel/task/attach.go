package task

// Per-task state of the services.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

// Attached is state a service keeps for every task — an event queue, a device-memory window,
// the last report of a fault-injection agent: one T per task slot, reached only through the
// task, set up by the service's start hook and released by its teardown hook.
type Attached[T any] [Max]T

// Of returns t's T.
//
//go:nosplit
func (a *Attached[T]) Of(t *Task) *T { return &a[t.slot&(Max-1)] }

package abi

// System events and notifications.

// EventSize is the size of an Event in bytes.
const EventSize = 64

// Event is a system event as a subscriber receives it (event_recv). Subject is the
// publisher's pid, written by the kernel.
type Event struct {
	Subscription uint64 // index of the subscription it matched, in event_subscribe order
	Subject      uint64
	Args         [4]uint64
	_            [2]uint64
}

// Notification bits the kernel itself sets (notify_wait); bits 0-23 are interrupt lines the
// task's policy grants it.
const (
	NotifyEvent   = 62 // an event was delivered (event_recv has something)
	NotifyConsole = 63 // the console buffer has output for the console driver
	NotifyPoll    = 1  // notify_wait's timeout meaning "do not wait"
)

// What the core's own goroutines wait for with SysWaitEvent (the core only).
const (
	WaitTaskEnded    = 0 // a task ended (the supervisor)
	WaitContentWrite = 1 // a content write to decide (the content service)
)

// Outcomes a fault-injection agent reports with SysInjectReport.
const (
	InjectHandled = 1
	InjectBreach  = 2
)

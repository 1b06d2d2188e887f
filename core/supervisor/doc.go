// Package supervisor is the pure decision logic of the core's task supervisor: given what the
// kernel reports about a task (it started, it ended, it sent a heartbeat, it has used this much
// CPU) it decides whether to restart the task, after what delay, whether to quarantine it, and
// whether the watchdog must kill it.
//
// Nothing here does I/O, starts goroutines or reads the clock: callers pass the time in, so
// every decision is reproducible in tests. One Tracker follows one task across its restarts.
package supervisor

package ipc

import (
	"errors"
	"fmt"
	"syscall"
	"unsafe"

	"github.com/simpleos/simpleos/abi"
)

// Content files and liveness (core/kernel/content.go): not IPC, but the same few system
// calls every module uses to talk to the core.
const (
	sysHeartbeat    = abi.SysHeartbeat
	sysContentRead  = abi.SysContentRead
	sysContentWrite = abi.SysContentWrite
)

// ErrQuarantined is WriteContent's error for bytes the core has quarantined.
var ErrQuarantined = errors.New("content quarantined by the core")

// ReadContent returns the current bytes of a content file the module's policy names.
func ReadContent(name string) ([]byte, error) {
	nb := []byte(name)
	if err := abi.CheckName(name); err != nil {
		return nil, fmt.Errorf("ipc: %w", err)
	}
	buf := make([]byte, 4096)
	for {
		n, _, e := syscall.Syscall6(sysContentRead, uintptr(unsafe.Pointer(&nb[0])), uintptr(len(nb)),
			uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0, 0)
		if e != 0 {
			return nil, errnoErr(e)
		}
		if int(n) <= len(buf) {
			return buf[:n], nil
		}
		buf = make([]byte, n)
	}
}

// WriteContent replaces a content file: the core keeps the previous bytes as last-known-good
// (if they had proved themselves) and refuses quarantined bytes with ErrQuarantined.
func WriteContent(name string, data []byte) error {
	nb := []byte(name)
	if err := abi.CheckName(name); err != nil {
		return fmt.Errorf("ipc: %w", err)
	}
	var p uintptr
	if len(data) > 0 {
		p = uintptr(unsafe.Pointer(&data[0]))
	}
	_, _, e := syscall.Syscall6(sysContentWrite, uintptr(unsafe.Pointer(&nb[0])), uintptr(len(nb)), p, uintptr(len(data)), 0, 0)
	if e == 129 { // EKEYREJECTED
		return ErrQuarantined
	}
	return errnoErr(e)
}

// Heartbeat tells the core's watchdog that the module is alive.
func Heartbeat() { syscall.RawSyscall(sysHeartbeat, 0, 0, 0) }

// Ready tells the core the module has initialised — its runtime started, its endpoints
// registered, its content loaded — and nothing it did so far needs doing again: the core may
// snapshot it here, and restart it from here after a crash instead of running its
// initialisation again (docs/snapshots.md). It returns true in an instance restored from that
// snapshot, whose every thread resumes where it was when the snapshot was taken; a module
// refreshes there what must differ between instances (its own random seeds, say). Call it once,
// from the goroutine that initialised, before starting the goroutines that serve.
func Ready() (restored bool) {
	r, _, _ := syscall.RawSyscall(abi.SysReady, 0, 0, 0)
	return r == abi.ReadyRestored
}

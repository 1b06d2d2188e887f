package ipc

import (
	"errors"
	"fmt"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/simpleos/simpleos/abi"
)

// System calls (core/kernel/syscall.go).
const (
	sysRegister  = abi.SysIPCRegister
	sysLookup    = abi.SysIPCLookup
	sysCall      = abi.SysIPCCall
	sysRecv      = abi.SysIPCRecv
	sysReply     = abi.SysIPCReply
	sysReplyRecv = abi.SysIPCReplyRecv
)

// Msg is one message (abi.Message, whose comment says what each field means): a label and
// four inline words; Badge is written by the core (on a received call, the caller's pid; on a
// reply, the server's); a call may lend whole pages of the caller's memory to the server for
// the duration of the call (GrantAddr, page-aligned; GrantPages, at most MaxGrantPages),
// which it receives read-only (see Grant) until it replies.
type Msg abi.Message

// MaxGrantPages is the most pages one call may lend.
const MaxGrantPages = abi.MaxGrantPages

// Grant returns the granted pages of a received call as a byte slice (nil if none). It is
// valid until the reply.
func (m *Msg) Grant() []byte {
	pages := m.GrantPages &^ abi.GrantWrite                      // the flag bit says writable; it is no count
	if pages == 0 || pages > MaxGrantPages || m.GrantAddr == 0 { // GrantBuffer too: bytes in an IPC buffer (Buffered)
		return nil
	}
	// The address is a mapping the core made in this task for the call, not Go memory.
	return unsafe.Slice((*byte)(unsafe.Pointer(uintptr(m.GrantAddr))), pages*4096)
}

// Errors.
var (
	ErrPeerDied = errors.New("ipc: peer died")
	ErrTimeout  = errors.New("ipc: timed out")
	ErrDenied   = errors.New("ipc: denied by policy")
	ErrNotFound = errors.New("ipc: no such endpoint")
	ErrExists   = errors.New("ipc: name already registered")
	ErrNoCaller = errors.New("ipc: the caller is gone")
)

func errnoErr(e syscall.Errno) error {
	switch e {
	case 0:
		return nil
	case syscall.ECONNRESET:
		return ErrPeerDied
	case syscall.ETIMEDOUT:
		return ErrTimeout
	case syscall.EPERM:
		return ErrDenied
	case syscall.ENOENT:
		return ErrNotFound
	case syscall.EEXIST:
		return ErrExists
	case syscall.ESRCH:
		return ErrNoCaller
	}
	return e
}

// Endpoint is a handle on a named endpoint.
type Endpoint struct {
	name   string
	handle uintptr
}

func nameCall(nr uintptr, name string) (uintptr, error) {
	b := []byte(name)
	if err := abi.CheckName(name); err != nil {
		return 0, fmt.Errorf("ipc: %w", err)
	}
	h, _, e := syscall.RawSyscall(nr, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0)
	if e != 0 {
		return 0, errnoErr(e)
	}
	return h, nil
}

// Register creates the endpoint name, served by the calling task.
func Register(name string) (*Endpoint, error) {
	h, err := nameCall(sysRegister, name)
	if err != nil {
		return nil, err
	}
	return &Endpoint{name: name, handle: h}, nil
}

// Lookup finds the endpoint registered under name.
func Lookup(name string) (*Endpoint, error) {
	h, err := nameCall(sysLookup, name)
	if err != nil {
		return nil, err
	}
	return &Endpoint{name: name, handle: h}, nil
}

// Name returns the endpoint's name.
func (e *Endpoint) Name() string { return e.name }

func timeoutNs(d time.Duration) uintptr {
	if d <= 0 {
		return 0 // no timeout
	}
	return uintptr(d)
}

// Call sends m and waits for the reply (timeout 0 = wait forever). The message travels in
// registers both ways (regs.go).
func (e *Endpoint) Call(m Msg, timeout time.Duration) (Msg, error) {
	err := blockingRegs(sysCallRegs, e.handle, &m, timeoutNs(timeout))
	return m, err
}

// Recv waits for the next call.
func (e *Endpoint) Recv(timeout time.Duration) (Msg, error) {
	var m Msg
	_, _, errno := syscall.Syscall(sysRecv, e.handle, uintptr(unsafe.Pointer(&m)), timeoutNs(timeout))
	return m, errnoErr(errno)
}

// Reply answers the call received last.
func (e *Endpoint) Reply(m Msg) error {
	_, _, errno := syscall.Syscall(sysReply, 0, uintptr(unsafe.Pointer(&m)), 0)
	return errnoErr(errno)
}

// Serve answers calls with handler until a system call fails. It stays on one OS thread: the
// core sends a reply back through the thread that received the call.
func (e *Endpoint) Serve(handler func(req Msg) Msg) error {
	runtimeLockOSThread()
	var m Msg
	// Messages travel in registers (regs.go).
	err := blockingRegs(sysRecvRegs, e.handle, &m, 0)
	for {
		if err != nil && err != ErrNoCaller {
			return err
		}
		m = handler(m)
		err = blockingRegs(sysReplyRecvRegs, e.handle, &m, 0)
	}
}

// Client calls a named endpoint, looking the name up again after the server died.
type Client struct {
	name    string
	timeout time.Duration
	mu      sync.Mutex
	ep      *Endpoint
}

// NewClient returns a client for name whose calls time out after timeout (0 = never).
func NewClient(name string, timeout time.Duration) *Client {
	return &Client{name: name, timeout: timeout}
}

// Call sends m to the endpoint. ErrPeerDied means the server died during this call; the next
// call resolves the name again.
func (c *Client) Call(m Msg) (Msg, error) {
	c.mu.Lock()
	ep := c.ep
	if ep == nil {
		var err error
		if ep, err = Lookup(c.name); err != nil {
			c.mu.Unlock()
			return Msg{}, err
		}
		c.ep = ep
	}
	c.mu.Unlock()
	reply, err := ep.Call(m, c.timeout)
	if err == ErrPeerDied {
		c.mu.Lock()
		if c.ep == ep {
			c.ep = nil
		}
		c.mu.Unlock()
	}
	return reply, err
}

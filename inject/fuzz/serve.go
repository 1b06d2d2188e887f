package fuzz

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"sync/atomic"
	"syscall"
	"unsafe"

	"github.com/simpleos/simpleos/abi"
)

// The fuzzer serves its endpoints, so that calls — its own, its raw threads', the other
// fuzzers' — reach the kernel's whole IPC path: a server that takes the call, reads the pages
// lent with it, replies late or not at all, and replies to calls whose caller has given up.
// A grant is lent read-only unless the lender asked for it writable: a write to a read-only
// one that succeeds is a breach.

type ipcMsg struct {
	Label      uint64
	Words      [4]uint64
	Badge      uint64
	GrantAddr  uint64
	GrantPages uint64
}

// serve registers the fuzzer's endpoints and starts their server.
func (f *Fuzzer) serve() error {
	var handles []uint64
	for _, name := range f.cfg.Serves {
		b := []byte(name)
		h, _, errno := syscall.RawSyscall(abi.SysIPCRegister, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 0)
		if errno != 0 {
			return fmt.Errorf("fuzz: register %q: %v", name, errno)
		}
		handles = append(handles, uint64(h))
	}
	f.e.served = handles[0]
	f.e.handles = append(f.e.handles, handles...)
	for _, h := range handles {
		go f.server(h)
	}
	return nil
}

func (f *Fuzzer) server(h uint64) {
	runtime.LockOSThread()
	debug.SetPanicOnFault(true)
	r := newRNG(f.cfg.Seed ^ h)
	var m ipcMsg
	for {
		_, _, errno := syscall.Syscall(abi.SysIPCRecv, uintptr(h), uintptr(unsafe.Pointer(&m)), 50_000_000)
		if errno != 0 {
			continue
		}
		if m.GrantPages > 0 && m.GrantPages != abi.GrantBuffer { // buffer bytes lend no pages
			if why := probeGrant(uintptr(m.GrantAddr), m.GrantPages); why != "" {
				select {
				case f.serverFindings <- why:
				default:
				}
			}
		}
		switch r.intn(8) {
		case 0: // no reply: the caller times out, and the grant must go with it
			continue
		case 1: // reply late, perhaps after the caller gave up
			syscall.Syscall(syscall.SYS_NANOSLEEP, uintptr(unsafe.Pointer(&syscall.Timespec{Nsec: 25_000_000})), 0, 0)
		}
		m.Label = r.next() % 4
		m.Words[0] = r.next()
		m.GrantAddr, m.GrantPages = r.next(), r.next()%32 // a reply lends nothing, whatever it says
		syscall.Syscall(abi.SysIPCReply, 0, uintptr(unsafe.Pointer(&m)), 0)
	}
}

// probeGrant reads every page of a grant and tries to write one: the write must fault unless
// the lender asked for a writable loan (abi.GrantWrite in the pages).
func probeGrant(addr uintptr, lent uint64) (why string) {
	pages, writable := int(lent&^abi.GrantWrite), lent&abi.GrantWrite != 0
	if pages > maxGrantPages {
		return fmt.Sprintf("a call arrived with %d pages lent (the most is %d)", pages, maxGrantPages)
	}
	if addr < grantWindow || addr >= windowsEnd {
		return fmt.Sprintf("a grant arrived at %#x, outside the grant window", addr)
	}
	read := func(p uintptr) (ok bool) {
		defer func() { ok = recover() == nil }()
		_ = *(*byte)(ptrAt(p))
		return
	}
	write := func(p uintptr) (ok bool) {
		defer func() { ok = recover() == nil }()
		atomic.AddUint32((*uint32)(ptrAt(p)), 0) // a locked read-modify-write: a real write
		return
	}
	for i := 0; i < pages; i++ {
		read(addr + uintptr(i)*pageSize) // may fault: the caller can be gone already
	}
	if write(addr) && !writable {
		return fmt.Sprintf("a grant at %#x was writable", addr)
	}
	return ""
}

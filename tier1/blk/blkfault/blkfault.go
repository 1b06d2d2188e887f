// Package blkfault commits the driver classes of package inject/fault (dma-wild, dma-stale,
// device-hang, crash-mid-write) in the request path of a virtio-blk driver: the ring-1 task
// tier1/blk and the core's monolithic blk share it, so the same fault is the same code in
// both deployments.
//
// A Sabotage is armed with the fault's Spec when the driver starts; once its delay has passed
// it strikes the next request it applies to, once:
//
//	dma-wild         the next read's data descriptors point at Spec.Targets.CoreAddr (the
//	                 physical address of the core's canary page): outside every DMA allocation
//	dma-stale        a one-page DMA buffer is allocated and freed, and the next read's data
//	                 descriptors point at its I/O address (the core hands freed I/O addresses
//	                 out next-fit, so it stays unmapped)
//	device-hang      the next request is never handed to the device (not made available, no
//	                 doorbell): QEMU's device cannot be made to hang, so the driver plays a
//	                 device that never completes; its timeout (2 s) then declares the hang
//	crash-mid-write  a nil dereference after the device completed a write and before the
//	                 driver answers it (CrashAfterWrite, called by the server's handler)
package blkfault

import (
	"sync"
	"time"

	"github.com/simpleos/simpleos/inject/fault"
	"github.com/simpleos/simpleos/tier1/blk/virtio"
)

// Sabotage is one armed driver fault.
type Sabotage struct {
	Spec     fault.Spec
	Platform virtio.Platform // the driver's: dma-stale allocates and frees through it
	Logf     func(format string, args ...any)
	// Struck, if set, is called once the sabotaged request has its result: err nil means the
	// device completed it with status OK (for dma-wild and dma-stale: the DMA went through).
	Struck func(class string, err error)

	mu     sync.Mutex
	start  time.Time
	struck bool
}

// New arms spec's driver fault from now.
func New(spec fault.Spec, p virtio.Platform) *Sabotage {
	return &Sabotage{Spec: spec, Platform: p, start: time.Now(), Logf: func(string, ...any) {}}
}

// due reports whether the fault strikes now (its delay passed and it has not struck), and
// marks it struck.
func (s *Sabotage) due() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.struck || time.Since(s.start) < s.Spec.Delay {
		return false
	}
	s.struck = true
	return true
}

// Tamper is virtio.Config.Tamper.
func (s *Sabotage) Tamper(r *virtio.Request) {
	if s == nil {
		return
	}
	switch s.Spec.Class {
	case fault.DMAWild, fault.DMAStale:
		if r.Type != virtio.ReqIn || !s.due() {
			return
		}
		addr := uint64(s.Spec.Targets.CoreAddr)
		if s.Spec.Class == fault.DMAStale {
			buf, iova, err := s.Platform.DMAAlloc(4096)
			if err != nil {
				s.Logf("fault: %s: dma_alloc: %v", s.Spec.Class, err)
				return
			}
			if err := s.Platform.DMAFree(buf); err != nil {
				s.Logf("fault: %s: dma_free: %v", s.Spec.Class, err)
				return
			}
			addr = iova
		}
		s.Logf("fault: %s: read of sector %d (%d bytes) redirected to I/O address %#x", s.Spec.Class, r.Sector, r.Bytes, addr)
		r.RedirectData(addr)
	case fault.DeviceHang:
		if !s.due() {
			return
		}
		s.Logf("fault: device-hang: request type %d at sector %d withheld from the device", r.Type, r.Sector)
		r.Withhold()
	default:
		return
	}
	class := s.Spec.Class
	r.Done = func(err error) {
		if s.Struck != nil {
			s.Struck(class, err)
		}
	}
}

// CrashAfterWrite is called by the server after a write completed on the device and before
// its reply: crash-mid-write strikes there.
func (s *Sabotage) CrashAfterWrite() {
	if s == nil || s.Spec.Class != fault.CrashMidWrite || !s.due() {
		return
	}
	s.Logf("fault: crash-mid-write: the write completed on the device; crashing before the reply")
	var p *int
	*p = 1 // a driver bug, after the device wrote and before the reply
}

// Command blk is SimpleOS's virtio-blk driver: a ring-1 task that owns the disk its policy
// grants (`device 1af4:1042`, with a `dma` quota), drives it with package virtio through the
// core's device system calls, and serves the block protocol (package ipc/blk) on endpoint
// "blk". Clients lend their buffers as page grants; the driver copies between the grant and
// its DMA bounce buffer, since only its own DMA memory is in the device's IOMMU domain.
//
// When the device hangs or breaks the protocol the driver exits without answering the request
// it was serving: the core resets the device and restarts the driver, and clients resubmit.
// docs/blk.md has the details.
//
// Flags: --crash-after=N dereferences nil once N writes have completed on the device, before
// the N-th is answered (for the tests of a crash mid-request). A fault-injection campaign's
// -inject= argument arms one fault; the driver classes (dma-wild, dma-stale, device-hang,
// crash-mid-write) are committed in the request path by package blkfault.
package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"github.com/simpleos/simpleos/inject/fault"
	"github.com/simpleos/simpleos/ipc"
	"github.com/simpleos/simpleos/ipc/blk"
	"github.com/simpleos/simpleos/tier1/blk/blkfault"
	"github.com/simpleos/simpleos/tier1/blk/virtio"
)

func main() {
	spec, armed := fault.Arm() // a fault-injection campaign may pass -inject=... (package inject/fault)
	crashAfter := -1
	for _, a := range os.Args[1:] {
		if v, ok := strings.CutPrefix(a, "--crash-after="); ok {
			crashAfter, _ = strconv.Atoi(v)
		}
	}
	p, err := newPlatform()
	if err != nil {
		// Booted without a disk, or without a policy granting one: nothing to drive.
		fmt.Fprintf(os.Stderr, "blk: no device: %v\n", err)
		if errors.Is(err, syscall.ENOSYS) || errors.Is(err, syscall.ENODEV) || errors.Is(err, syscall.EPERM) {
			os.Exit(0)
		}
		os.Exit(1)
	}
	fmt.Printf("blk: device %v\n", p)
	logf := func(f string, a ...any) { fmt.Printf("blk: "+f+"\n", a...) }
	cfg := virtio.Config{Logf: logf}
	var sab *blkfault.Sabotage
	if armed {
		sab = blkfault.New(spec, p)
		sab.Logf = logf
		sab.Struck = func(class string, err error) {
			switch {
			case class == fault.DeviceHang:
			case err == nil:
				// The device completed a DMA outside the driver's allocations: nothing stopped it.
				logf("fault: %s: the device completed the request: its DMA was not blocked", class)
				fault.Report(fault.Breach)
			default:
				logf("fault: %s: the request failed (%v); the core ends the driver for the blocked DMA", class, err)
			}
		}
		cfg.Tamper = sab.Tamper
	}
	d, err := virtio.Open(p, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "blk: %v\n", err)
		os.Exit(1)
	}
	ep, err := ipc.Register(blk.Endpoint)
	if err != nil {
		fmt.Fprintf(os.Stderr, "blk: register %q: %v\n", blk.Endpoint, err)
		d.Close()
		os.Exit(1)
	}
	srv := &blk.Server{Dev: d.Block(), Fatal: func(err error) {
		// The request stays unanswered: its caller sees the driver die and resubmits.
		fmt.Fprintf(os.Stderr, "blk: %v: resetting the device and exiting for a restart\n", err)
		d.Close()
		os.Exit(1)
	}}
	err = ep.Serve(handler(srv, crashAfter, sab))
	fmt.Fprintf(os.Stderr, "blk: serve: %v\n", err)
	d.Close()
	os.Exit(1)
}

// handler is the server's Handle, with the --crash-after fault and an armed crash-mid-write.
func handler(srv *blk.Server, crashAfter int, sab *blkfault.Sabotage) func(ipc.Msg) ipc.Msg {
	writes := 0
	return func(m ipc.Msg) ipc.Msg {
		r := srv.Handle(m)
		if m.Label == blk.LabelWrite && r.Label == 0 {
			sab.CrashAfterWrite()
			if writes++; crashAfter >= 0 && writes >= crashAfter {
				var p *int
				*p = writes // a driver bug, after the device wrote and before the reply
			}
		}
		return r
	}
}

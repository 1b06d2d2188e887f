package pci

import (
	"errors"
	"fmt"
)

// Enumerate scans buses startBus to endBus for functions: first bus startBus and the
// buses behind its bridges, depth first, where the bridges' secondary bus numbers are
// configured (inside the range and above their own bus); then every bus in the range not
// reached that way. Each bus is scanned once. On each it probes the 32 devices' function
// 0, and functions 1-7 too when function 0's header is multi-function; functions reading
// vendor 0xffff are absent.
//
// It returns every function found, in scan order. err joins the devices' faults, each
// also in that Device's Err, so one malformed device does not hide the others.
func Enumerate(cfg Config, startBus, endBus uint8) ([]Device, error) {
	if startBus > endBus {
		return nil, fmt.Errorf("pci: bus range %#x-%#x is backwards", startBus, endBus)
	}
	e := &enumerator{cfg: cfg, start: startBus, end: endBus}
	e.scanBus(startBus)
	for bus := int(startBus); bus <= int(endBus); bus++ {
		if !e.scanned[bus] {
			e.scanBus(uint8(bus))
		}
	}
	var errs []error
	for _, d := range e.devices {
		if d.Err != nil {
			errs = append(errs, d.Err)
		}
	}
	return e.devices, errors.Join(errs...)
}

type enumerator struct {
	cfg        Config
	start, end uint8
	scanned    [256]bool
	devices    []Device
}

func (e *enumerator) scanBus(bus uint8) {
	e.scanned[bus] = true
	for dev := uint8(0); dev < 32; dev++ {
		f0 := BDF{Bus: bus, Device: dev}
		if Read16(e.cfg, f0, regID) == noVendor {
			continue
		}
		functions := uint8(1)
		if Read8(e.cfg, f0, regHeaderType)&headerMultiFunction != 0 {
			functions = 8
		}
		for fn := uint8(0); fn < functions; fn++ {
			b := BDF{Bus: bus, Device: dev, Function: fn}
			if Read16(e.cfg, b, regID) == noVendor {
				continue
			}
			d := readDevice(e.cfg, b)
			e.devices = append(e.devices, d)
			if d.HeaderType == HeaderBridge && d.Secondary > bus &&
				d.Secondary >= e.start && d.Secondary <= e.end && !e.scanned[d.Secondary] {
				e.scanBus(d.Secondary)
			}
		}
	}
}

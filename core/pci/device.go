package pci

import (
	"errors"
	"fmt"
	"strings"
)

// Device is one function found by Enumerate.
type Device struct {
	BDF
	Vendor, DeviceID                  uint16
	Class, Subclass, ProgIF, Revision uint8
	HeaderType                        uint8 // the layout: HeaderNormal, HeaderBridge, HeaderCardbus
	MultiFunction                     bool  // function 0's header says functions 1-7 may exist
	IntPin, IntLine                   uint8
	BARs                              [6]BAR // sized for type 0 headers; Size 0 when unimplemented
	Secondary, Subordinate            uint8  // a bridge's bus numbers; 0 when unconfigured
	Caps                              []Capability
	MSIX                              *MSIX // nil without an MSI-X capability
	MSI                               *MSI  // nil without an MSI capability
	Err                               error // what was wrong with its configuration space
}

// BAR is one base address register. A 64-bit BAR takes its slot and the one above, whose
// BAR stays zero.
type BAR struct {
	Index        int
	Addr         uint64
	Size         uint64 // 0: not implemented
	IO           bool
	Mem64        bool
	Prefetchable bool
}

// Capability is one entry of the capability list: its ID and where it starts.
type Capability struct {
	ID     uint8
	Offset int
}

// Capability IDs decoded here.
const (
	CapMSI  = 0x05
	CapMSIX = 0x11
)

// MSIX is an MSI-X capability: TableSize entries of 16 bytes at TableOffset in BAR
// TableBAR, and the pending-bit array at PBAOffset in BAR PBABAR.
type MSIX struct {
	TableSize   int
	TableBAR    int
	TableOffset uint32
	PBABAR      int
	PBAOffset   uint32
	CapOffset   int
}

// MSI is an MSI capability.
type MSI struct {
	CapOffset int
	Is64      bool // 64-bit message address
	PerVector bool // per-vector masking
	Vectors   int  // how many it can request: 1, 2, 4, 8, 16 or 32
}

// String is one boot line: `pci: 00:03.0 1af4:1042 class 01.00.00 bar1 0xfebd1000+0x1000
// mem, bar4 0xfe000000+0x4000 mem64 pref; msix 2 vectors in bar1; caps 11 09`.
func (d Device) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "pci: %s %04x:%04x class %02x.%02x.%02x", d.BDF, d.Vendor, d.DeviceID, d.Class, d.Subclass, d.ProgIF)
	sep := " "
	for _, bar := range d.BARs {
		if bar.Size == 0 {
			continue
		}
		fmt.Fprintf(&b, "%sbar%d %#x+%#x %s", sep, bar.Index, bar.Addr, bar.Size, bar.kind())
		sep = ", "
	}
	if d.HeaderType == HeaderBridge {
		fmt.Fprintf(&b, "; bridge to buses %02x-%02x", d.Secondary, d.Subordinate)
	}
	if d.MSIX != nil {
		fmt.Fprintf(&b, "; msix %d vectors in bar%d", d.MSIX.TableSize, d.MSIX.TableBAR)
	}
	if d.MSI != nil {
		fmt.Fprintf(&b, "; msi %d vectors", d.MSI.Vectors)
	}
	if len(d.Caps) > 0 {
		b.WriteString("; caps")
		for _, c := range d.Caps {
			fmt.Fprintf(&b, " %02x", c.ID)
		}
	}
	if d.Err != nil {
		fmt.Fprintf(&b, "; error: %s", strings.ReplaceAll(d.Err.Error(), "\n", "; "))
	}
	return b.String()
}

func (b BAR) kind() string {
	switch {
	case b.IO:
		return "io"
	case b.Mem64 && b.Prefetchable:
		return "mem64 pref"
	case b.Mem64:
		return "mem64"
	case b.Prefetchable:
		return "mem pref"
	}
	return "mem"
}

// readDevice reads function b, which exists.
func readDevice(cfg Config, b BDF) Device {
	id := cfg.Read32(b, regID)
	class := cfg.Read32(b, regClass)
	hdr := Read8(cfg, b, regHeaderType)
	d := Device{
		BDF: b, Vendor: uint16(id), DeviceID: uint16(id >> 16),
		Class: uint8(class >> 24), Subclass: uint8(class >> 16), ProgIF: uint8(class >> 8), Revision: uint8(class),
		HeaderType: hdr &^ headerMultiFunction, MultiFunction: hdr&headerMultiFunction != 0,
		IntLine: Read8(cfg, b, regIntLine), IntPin: Read8(cfg, b, regIntPin),
	}
	var errs []error
	capPtr := regCapPtr
	switch d.HeaderType {
	case HeaderNormal:
		var err error
		if d.BARs, err = sizeBARs(cfg, b); err != nil {
			errs = append(errs, err)
		}
	case HeaderBridge:
		d.Secondary, d.Subordinate = Read8(cfg, b, regSecondary), Read8(cfg, b, regSubordinate)
	case HeaderCardbus:
		capPtr = regCardbusCaps
	default:
		errs = append(errs, fmt.Errorf("header type %#x is not one of 0, 1, 2", d.HeaderType))
		d.Err = deviceError(b, errs)
		return d
	}
	caps, err := walkCaps(cfg, b, capPtr)
	d.Caps = caps
	if err != nil {
		errs = append(errs, err)
	}
	errs = append(errs, d.decodeCaps(cfg)...)
	d.Err = deviceError(b, errs)
	return d
}

// deviceError prefixes each of errs with "pci: BDF: " and joins them; nil for none.
func deviceError(b BDF, errs []error) error {
	if len(errs) == 0 {
		return nil
	}
	wrapped := make([]error, len(errs))
	for i, err := range errs {
		wrapped[i] = fmt.Errorf("pci: %s: %w", b, err)
	}
	return errors.Join(wrapped...)
}

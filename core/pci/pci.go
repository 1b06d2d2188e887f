// Package pci enumerates PCI and PCI Express devices through a configuration-space
// accessor: their IDs and class, their BARs (sized by the all-ones probe), their
// capability lists, and their MSI and MSI-X capabilities.
//
// It runs at boot in ordinary goroutine context (not trap context): it allocates, and
// touches hardware only through the Config it is given (ECAM over the core's mapping of
// the MCFG window; a fake in tests). A device's configuration space is input like any
// other: every pointer and count is checked, and a fault is an error on that device, never
// a panic or a loop.
package pci

import "fmt"

// BDF addresses one function: bus, device (0-31) and function (0-7).
type BDF struct {
	Bus, Device, Function uint8
}

// String is the usual "00:03.0".
func (b BDF) String() string { return fmt.Sprintf("%02x:%02x.%x", b.Bus, b.Device, b.Function) }

// Config reads and writes 32-bit aligned registers of a function's configuration space.
// A read of a function that does not exist returns all ones.
type Config interface {
	Read32(b BDF, off int) uint32
	Write32(b BDF, off int, v uint32)
}

// Read16 reads the 16-bit register at off from its aligned dword.
func Read16(c Config, b BDF, off int) uint16 {
	return uint16(c.Read32(b, off&^3) >> (8 * (off & 2)))
}

// Read8 reads the byte at off from its aligned dword.
func Read8(c Config, b BDF, off int) uint8 {
	return uint8(c.Read32(b, off&^3) >> (8 * (off & 3)))
}

// Write16 writes the 16-bit register at off by reading its dword, replacing the half and
// writing the dword back. The other half is written with what was read: do not use it
// where that half has write-one-to-clear bits (the command register: see SetCommand).
func Write16(c Config, b BDF, off int, v uint16) {
	shift := 8 * (off & 2)
	old := c.Read32(b, off&^3)
	c.Write32(b, off&^3, old&^(0xffff<<shift)|uint32(v)<<shift)
}

// SetCommand writes the command register, writing zeros to the status register beside it
// so that none of its write-one-to-clear bits is cleared.
func SetCommand(c Config, b BDF, cmd uint16) { c.Write32(b, regCommand, uint32(cmd)) }

// Configuration-space registers and bits used here (PCI Local Bus 3.0, chapter 6).
const (
	regID          = 0x00
	regCommand     = 0x04
	regStatus      = 0x06
	regClass       = 0x08 // revision, prog IF, subclass, class
	regHeaderType  = 0x0e
	regBAR0        = 0x10
	regSecondary   = 0x19 // type 1: secondary bus number
	regSubordinate = 0x1a // type 1: subordinate bus number
	regCapPtr      = 0x34 // types 0 and 1
	regCardbusCaps = 0x14 // type 2
	regIntLine     = 0x3c
	regIntPin      = 0x3d

	CommandIO     = 1 << 0 // I/O space decode
	CommandMemory = 1 << 1 // memory space decode
	CommandMaster = 1 << 2 // bus mastering
	statusCapList = 1 << 4

	headerMultiFunction = 0x80
	HeaderNormal        = 0 // a type 0 header: an endpoint
	HeaderBridge        = 1 // a type 1 header: a PCI-to-PCI bridge
	HeaderCardbus       = 2

	noVendor = 0xffff
)

package pci

import "fmt"

// BAR register bits.
const (
	barIO           = 1 << 0
	barTypeMask     = 3 << 1
	barType64       = 2 << 1
	barTypeReserved = 3 << 1
	barPrefetchable = 1 << 3
	barIOAddrMask   = ^uint32(3)
	barMemAddrMask  = ^uint32(0xf)
)

// sizeBARs sizes a type 0 header's six BARs: each is written with all ones and read back
// (the bits that stay zero are the size), then restored, with I/O and memory decode off
// in the command register meanwhile so that the probe address never decodes.
func sizeBARs(cfg Config, b BDF) ([6]BAR, error) {
	var bars [6]BAR
	cmd := Read16(cfg, b, regCommand)
	SetCommand(cfg, b, cmd&^(CommandIO|CommandMemory))
	defer SetCommand(cfg, b, cmd)
	for i := 0; i < len(bars); i++ {
		bars[i].Index = i
		off := regBAR0 + 4*i
		orig, probed := probe(cfg, b, off)
		bar := &bars[i]
		if orig&barIO != 0 {
			mask := uint64(probed & barIOAddrMask & 0xffff) // I/O decode is at most 16 bits on x86
			bar.IO, bar.Addr, bar.Size = true, uint64(orig&barIOAddrMask), mask&-mask
			continue
		}
		bar.Prefetchable = orig&barPrefetchable != 0
		mask, addr := uint64(probed&barMemAddrMask), uint64(orig&barMemAddrMask)
		switch orig & barTypeMask {
		case barType64:
			if i == len(bars)-1 {
				bars[i] = BAR{Index: i}
				return bars, fmt.Errorf("bar%d is 64-bit with no slot above it", i)
			}
			origHi, probedHi := probe(cfg, b, off+4)
			mask |= uint64(probedHi) << 32
			addr |= uint64(origHi) << 32
			bar.Mem64 = true
			bars[i+1].Index = i + 1
			i++
		case barTypeReserved:
			bars[i] = BAR{Index: i}
			return bars, fmt.Errorf("bar%d has the reserved memory type 3 (%#x)", i, orig)
		}
		bar.Addr, bar.Size = addr, mask&-mask
	}
	return bars, nil
}

// probe writes all ones to register off, reads it back and restores it.
func probe(cfg Config, b BDF, off int) (orig, probed uint32) {
	orig = cfg.Read32(b, off)
	cfg.Write32(b, off, 0xffffffff)
	probed = cfg.Read32(b, off)
	cfg.Write32(b, off, orig)
	return orig, probed
}

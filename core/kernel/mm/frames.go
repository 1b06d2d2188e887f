package mm

// Physical frame allocator: a bitmap over the first 4 GiB of physical memory (one bit per
// 4 KiB frame, set = free), built from the Multiboot memory map at boot, with counters that
// tests and leak checks read. Frames are handed out zeroed. Who may take one is FramePool's
// business (pool.go): a task's frames come out of its share (its reservation, then what
// nobody was promised), the core's out of everything not promised to a task.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"math/bits"

	"github.com/simpleos/simpleos/core/kernel/arch"

	"github.com/simpleos/simpleos/core/multiboot"
)

const maxFrames = 1 << 20 // 4 GiB of physical memory

var frameBitmap [maxFrames / 64]uint64

// FrameStats counts physical frames. InUse = Total - Free.
type FrameStats struct {
	Total, Free   uint64
	Allocs, Frees uint64
}

var frames FrameStats
var frameHint uint64 // bitmap word to start the next search at
var frameTop uint64  // one past the highest usable frame

// InitFrames marks every usable range free.
//
//go:nosplit
func InitFrames(ranges []multiboot.Range) {
	for _, r := range ranges {
		for pa := r.Start; pa+PageSize <= r.End; pa += PageSize {
			f := pa >> PageShift
			if f >= maxFrames {
				break
			}
			frameBitmap[(f/64)&(uint64(len(frameBitmap))-1)] |= 1 << (f % 64)
			frames.Total++
			frames.Free++
			FramePool.Total++
			if f+1 > frameTop {
				frameTop = f + 1
			}
		}
	}
}

// AllocFrame returns the physical address of a zeroed frame for the core, or ok=false when
// every free frame is promised to a task.
//
//go:nosplit
func AllocFrame() (pa uint64, ok bool) { return AllocFrameFor(nil) }

// AllocFrameFor returns a zeroed frame charged to share s (nil: the core).
//
//go:nosplit
func AllocFrameFor(s *Share) (pa uint64, ok bool) {
	if !FramePool.Take(s) {
		return 0, false
	}
	if pa, ok = takeFrame(); !ok {
		FramePool.Give(s) // the bitmap disagrees with the counters: give the charge back
	}
	return pa, ok
}

// takeFrame takes a free frame from the bitmap.
//
//go:nosplit
func takeFrame() (pa uint64, ok bool) {
	words := (frameTop + 63) / 64
	for n := uint64(0); n < words; n++ {
		w := ((frameHint + n) % words) & (uint64(len(frameBitmap)) - 1)
		if frameBitmap[w] == 0 {
			continue
		}
		bit := uint64(bits.TrailingZeros64(frameBitmap[w]))
		frameBitmap[w] &^= 1 << bit
		frameHint = w
		frames.Free--
		frames.Allocs++
		pa = (w*64 + bit) << PageShift
		arch.Memzero(DirectMap(pa), PageSize)
		return pa, true
	}
	return 0, false
}

// AllocRunFor returns the physical address of n physically consecutive zeroed frames charged
// to share s, or ok=false (nothing taken) when s may not have n more or no such run is free.
// For DMA without an IOMMU (dma=unconfined), where the device sees physical addresses. Each
// frame is freed on its own (FreeFrameFor). It scans the whole bitmap: rare calls only.
//
//go:nosplit
func AllocRunFor(s *Share, n int) (pa uint64, ok bool) {
	if n <= 0 || uint64(n) > frameTop {
		return 0, false
	}
	taken := 0
	for ; taken < n; taken++ {
		if !FramePool.Take(s) {
			break
		}
	}
	if taken < n {
		for ; taken > 0; taken-- {
			FramePool.Give(s)
		}
		return 0, false
	}
	run := uint64(0)
	for f := uint64(1); f < frameTop; f++ { // never frame 0: address 0 is what a zeroed descriptor names
		if frameBitmap[(f/64)&(uint64(len(frameBitmap))-1)]&(1<<(f%64)) == 0 {
			run = 0
			continue
		}
		run++
		if run < uint64(n) {
			continue
		}
		first := f + 1 - run
		for g := first; g <= f; g++ {
			frameBitmap[(g/64)&(uint64(len(frameBitmap))-1)] &^= 1 << (g % 64)
			frames.Free--
			frames.Allocs++
			arch.Memzero(DirectMap(g<<PageShift), PageSize)
		}
		return first << PageShift, true
	}
	for ; taken > 0; taken-- {
		FramePool.Give(s)
	}
	return 0, false
}

// FreeFrame returns a frame of the core's. Freeing a frame twice is a kernel bug and stops
// the machine.
//
//go:nosplit
func FreeFrame(pa uint64) { FreeFrameFor(nil, pa) }

// FreeFrameFor returns a frame charged to share s (nil: the core).
//
//go:nosplit
func FreeFrameFor(s *Share, pa uint64) {
	f := pa >> PageShift
	w := (f / 64) & (uint64(len(frameBitmap)) - 1)
	if f >= frameTop || frameBitmap[w]&(1<<(f%64)) != 0 {
		arch.Panic("FreeFrame: frame not allocated", pa)
	}
	frameBitmap[w] |= 1 << (f % 64)
	frames.Free++
	frames.Frees++
	FramePool.Give(s)
}

// Frames returns the frame counters.
func Frames() FrameStats { return frames }

// FrameTop is one past the highest usable frame number.
//
//go:nosplit
func FrameTop() uint64 { return frameTop }

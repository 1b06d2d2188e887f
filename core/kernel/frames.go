package kernel

// Physical frame allocator: a bitmap over the first 4 GiB of physical memory (one bit per
// 4 KiB frame, set = free), built from the Multiboot memory map at boot, with counters that
// tests and leak checks read. Frames are handed out zeroed. Who may take one is framePool's
// business (pool.go): a task's frames come out of its share (its reservation, then what
// nobody was promised), the core's out of everything not promised to a task.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"math/bits"

	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/x86"

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

// initFrames marks every usable range free.
//
//go:nosplit
func initFrames(ranges []multiboot.Range) {
	for _, r := range ranges {
		for pa := r.Start; pa+pageSize <= r.End; pa += pageSize {
			f := pa >> pageShift
			if f >= maxFrames {
				break
			}
			frameBitmap[(f/64)&(uint64(len(frameBitmap))-1)] |= 1 << (f % 64)
			frames.Total++
			frames.Free++
			framePool.total++
			if f+1 > frameTop {
				frameTop = f + 1
			}
		}
	}
}

// allocFrame returns the physical address of a zeroed frame for the core, or ok=false when
// every free frame is promised to a task.
//
//go:nosplit
func allocFrame() (pa uint64, ok bool) { return allocFrameFor(nil) }

// allocFrameFor returns a zeroed frame charged to share s (nil: the core).
//
//go:nosplit
func allocFrameFor(s *share) (pa uint64, ok bool) {
	if !framePool.take(s) {
		return 0, false
	}
	if pa, ok = takeFrame(); !ok {
		framePool.give(s) // the bitmap disagrees with the counters: give the charge back
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
		pa = (w*64 + bit) << pageShift
		arch.Memzero(directMap(pa), pageSize)
		return pa, true
	}
	return 0, false
}

// freeFrame returns a frame of the core's. Freeing a frame twice is a kernel bug and stops
// the machine.
//
//go:nosplit
func freeFrame(pa uint64) { freeFrameFor(nil, pa) }

// freeFrameFor returns a frame charged to share s (nil: the core).
//
//go:nosplit
func freeFrameFor(s *share, pa uint64) {
	f := pa >> pageShift
	w := (f / 64) & (uint64(len(frameBitmap)) - 1)
	if f >= frameTop || frameBitmap[w]&(1<<(f%64)) != 0 {
		arch.Panic("freeFrame: frame not allocated", pa)
	}
	frameBitmap[w] |= 1 << (f % 64)
	frames.Free++
	frames.Frees++
	framePool.give(s)
}

// Frames returns the frame counters.
func Frames() FrameStats { return frames }

// FramesOutsideCore returns the frames in use other than those serving the core's own Go
// runtime (its memory, the page tables of its half, its threads' kernel stacks): the kernel's
// fixed structures plus everything tasks hold. Once every task has ended it must come back to
// its value before the first one started.
func FramesOutsideCore() uint64 {
	x86.Cli()
	defer x86.Sti()
	reapZombies()
	coreStacks := uint64(0)
	for i := 0; i < maxThreads; i++ {
		if threads[i].proc == coreProc && threads[i].kstackTop != 0 {
			coreStacks += kernelStackSize / pageSize
		}
	}
	return frames.Total - frames.Free - spaces[coreProc].resident - coreTablePages - coreStacks
}

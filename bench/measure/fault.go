package measure

import (
	"fmt"
	"syscall"

	"github.com/simpleos/simpleos/bench/result"
)

// PageSize is the page the first-touch benchmark touches.
const PageSize = 4096

// FirstTouch maps an anonymous region of the given number of pages, writes one byte to each
// page (each write is a page fault that allocates a zeroed page), and unmaps it; one region is
// one batch, and the result is per page. Only the touching is timed.
func FirstTouch(name string, count, pages int) (result.Result, error) {
	c := NewCollector(name, count)
	for i := -1; i < count; i++ { // batch -1 warms up
		mem, err := syscall.Mmap(-1, 0, pages*PageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
		if err != nil {
			return result.Result{}, fmt.Errorf("mmap %d KiB: %w", pages*PageSize>>10, err)
		}
		// 4 KiB faults also where transparent huge pages are "always"; SimpleOS has none and
		// may refuse the advice, which is fine.
		_ = syscall.Madvise(mem, syscall.MADV_NOHUGEPAGE)
		w := Start()
		for p := 0; p < len(mem); p += PageSize {
			mem[p] = 1
		}
		ns, cycles := w.Stop()
		if err := syscall.Munmap(mem); err != nil {
			return result.Result{}, fmt.Errorf("munmap: %w", err)
		}
		if i >= 0 {
			c.Add(pages, ns, cycles)
		}
	}
	return c.Result(), nil
}

package server_test

import (
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/abi"
)

// TestConcurrentUse runs several workers at once, as ring3/fs's threads do: each creates,
// writes, reads back, lists, renames and removes its own files while others list the shared
// directory, make and remove names in it and close each other's handles. Run it with -race.
func TestConcurrentUse(t *testing.T) {
	each(t, func(t *testing.T, c0 *client) {
		const workers, rounds = 8, 25
		require.Zero(t, c0.mkdir("/shared"))
		var wg sync.WaitGroup
		errs := make(chan string, workers*rounds)
		for w := range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := newClient(t, c0.s) // its own grant
				for r := range rounds {
					dir := "/shared"
					if w%2 == 1 {
						dir = "/tmp"
					}
					p := fmt.Sprintf("%s/w%d-%d", dir, w, r)
					data := strings.Repeat(fmt.Sprintf("%d:%d;", w, r), 100+r)
					h, e := c.open(p, abi.O_RDWR|abi.O_CREAT|abi.O_EXCL, 0o644)
					if e != 0 {
						errs <- fmt.Sprintf("open %s: %v", p, e)
						continue
					}
					copy(c.grant, data)
					rep := c.call(abi.FSWrite, [4]uint64{h, 0, uint64(len(data)), 0}, "", "", pagesFor(len(data)), false)
					if errno(rep) != 0 || rep.Label != uint64(len(data)) {
						errs <- fmt.Sprintf("write %s: %v", p, errno(rep))
					}
					clear(c.grant)
					rep = c.call(abi.FSRead, [4]uint64{h, 0, uint64(len(data)), 0}, "", "", pagesFor(len(data)), true)
					if errno(rep) != 0 || string(c.grant[:rep.Label]) != data {
						errs <- fmt.Sprintf("read back %s: %v", p, errno(rep))
					}
					// list the shared directory while others change it
					d := c.mustOpenQuiet("/shared")
					c.call(abi.FSReaddir, [4]uint64{d, uint64(r % 3), 4096, 0}, "", "", 1, true)
					c.close(d)
					if e := c.rename(p, p+".old", abi.RENAME_NOREPLACE); e != 0 {
						errs <- fmt.Sprintf("rename %s: %v", p, e)
					}
					if _, e := c.fstat(h); e != 0 {
						errs <- fmt.Sprintf("fstat %s: %v", p, e)
					}
					if e := c.close(h); e != 0 {
						errs <- fmt.Sprintf("close %s: %v", p, e)
					}
					if r%2 == 0 {
						if e := c.unlink(p+".old", 0); e != 0 {
							errs <- fmt.Sprintf("unlink %s: %v", p, e)
						}
					}
					// a stale handle stays stale while others open files
					if e := c.close(h); e != syscall.EBADF {
						errs <- fmt.Sprintf("second close %s: %v", p, e)
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
		// every worker's odd rounds remain
		n := 0
		for _, d := range c0.readdir("/shared", 4096) {
			if strings.HasSuffix(d.name, ".old") {
				n++
			}
		}
		for _, d := range c0.readdir("/tmp", 4096) {
			if strings.HasSuffix(d.name, ".old") {
				n++
			}
		}
		assert.Equal(t, workers*(rounds/2), n)
		require.Zero(t, errno(c0.call(abi.FSSync, [4]uint64{abi.FSSyncAll}, "", "", 0, false)))
	})
}

// mustOpenQuiet opens p for reading, 0 on failure (for use off the test's goroutine).
func (c *client) mustOpenQuiet(p string) uint64 {
	h, _ := c.open(p, 0, 0)
	return h
}

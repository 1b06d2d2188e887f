package main

// --soak: the data-integrity client of the fault-injection campaigns against the block driver
// (docs/fault-injection.md). It keeps writing patterns over a set of slots, flushing, reading
// back the slot it wrote and one written before, and checks that no write the driver
// acknowledged was lost or corrupted, whatever happens to the driver meanwhile (faults,
// restarts: the client resubmits unanswered calls). A call that fails is not acknowledged:
// its slot holds unknown data until it is written again, and a failed read proves nothing.
// Only an acknowledged write that reads back wrong is a breach; it is printed
//
//	blktest: BREACH: lost: slot 3 (sectors 16576+64) ...
//
// and reported to the core's campaign runner with the inject_report system call (outcome
// breach): task output can say anything, the report is the runner's to trust.

import (
	"errors"
	"fmt"
	"io"
	"syscall"
	"time"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/ipc/blk"
)

// reportBreach tells the campaign runner (on Linux the call fails with ENOSYS, ignored).
var reportBreach = func() { syscall.RawSyscall(abi.SysInjectReport, abi.InjectBreach, 0, 0) }

type soakSlot struct {
	seed    uint64 // the pattern it holds, 0: unknown (never written, or a write that failed)
	durable bool   // a flush was acknowledged after its write
}

type soakStats struct {
	rounds, writes, flushes, verified, failed, breaches int
}

// soak runs rounds (0: forever) over slots of slotSectors sectors from first, pausing
// between rounds.
func soak(d disk, out io.Writer, first uint64, slots, slotSectors, rounds int, seed uint64, pause time.Duration) error {
	slot := make([]soakSlot, slots)
	size := slotSectors * blk.SectorSize
	aligned := blk.AlignedBuffer(size)
	unaligned := make([]byte, size+1)[1:] // the client's staging path too
	check := blk.AlignedBuffer(size)
	var st soakStats
	last := time.Now()
	breach := func(kind string, i int, err error) {
		st.breaches++
		fmt.Fprintf(out, "blktest: BREACH: %s: slot %d (sectors %d+%d, pattern %d, durable %v): %v\n",
			kind, i, first+uint64(i*slotSectors), slotSectors, slot[i].seed, slot[i].durable, err)
		reportBreach()
		slot[i] = soakSlot{}
	}
	verify := func(i int, kind string) {
		if slot[i].seed == 0 {
			return
		}
		clear(check)
		s := first + uint64(i*slotSectors)
		if err := d.ReadAt(check, s); err != nil {
			st.failed++
			return // a failed read proves nothing
		}
		if err := checkPattern(check, slot[i].seed, s); err != nil {
			breach(kind, i, err)
			return
		}
		st.verified++
	}
	var took time.Duration
	for r := 0; rounds == 0 || r < rounds; r++ {
		if r > 0 && pause > 0 {
			// Twice as long as the round took: the driver is busy at most a third of the
			// time, well within its CPU budget however slow the machine (TCG) is.
			time.Sleep(max(pause, 2*took))
		}
		began := time.Now()
		st.rounds++
		i := r % slots
		s := first + uint64(i*slotSectors)
		pat := (seed+uint64(r))%0xffff + 1
		buf := aligned
		if r%2 == 1 {
			buf = unaligned
		}
		fill(buf, pat, s)
		slot[i] = soakSlot{} // unknown while the write is in flight
		if err := d.WriteAt(buf, s); err != nil {
			st.failed++
		} else {
			st.writes++
			slot[i].seed = pat
		}
		if r%3 == 0 {
			if err := d.Flush(); err != nil {
				st.failed++
			} else {
				st.flushes++
				for k := range slot {
					if slot[k].seed != 0 {
						slot[k].durable = true
					}
				}
			}
		}
		verify(i, "corrupted")
		verify((i*7+3)%slots, "lost")
		took = time.Since(began)
		if time.Since(last) >= 5*time.Second {
			last = time.Now()
			fmt.Fprintf(out, "blktest: soak: %d rounds, %d writes and %d flushes acknowledged, %d slots verified, %d calls failed, %d breaches\n",
				st.rounds, st.writes, st.flushes, st.verified, st.failed, st.breaches)
		}
	}
	fmt.Fprintf(out, "blktest: soak: %d rounds, %d writes and %d flushes acknowledged, %d slots verified, %d calls failed, %d breaches\n",
		st.rounds, st.writes, st.flushes, st.verified, st.failed, st.breaches)
	if st.breaches > 0 {
		return errors.New("acknowledged data was lost or corrupted")
	}
	return nil
}

// checkPattern is check, with the first difference in the error.
func checkPattern(b []byte, seed, first uint64) error { return check(b, seed, first) }

// Command blktest checks the disk through the block driver (endpoint "blk", package ipc/blk),
// for the QEMU tests and benchmarks:
//
//	blktest --pattern-check SECTORS [--seed S] [--start SECTOR]
//	    writes a pattern over SECTORS sectors (0: to the end of the disk) in chunks of 1, 7,
//	    16, 17 and 33 pages (crossing the 16-page grant limit), flushes, reads it back in other
//	    chunks and compares: "blktest: wrote N sectors, flushed, verified N sectors OK", or
//	    "blktest: MISMATCH at sector S ..." and exit status 1.
//	blktest --read-only-check SEED [--sectors N] [--start SECTOR]
//	    verifies the pattern a previous run wrote with SEED (after a driver crash or a reboot).
//	blktest --bench [--bench-mb N] [--start SECTOR]
//	    sequential write (with the flush) and read MB/s, 4 KiB random read IOPS: "blkbench: ..." lines.
//	blktest --soak [--soak-rounds N] [--soak-pause D] [--slots N] [--slot-sectors N] [--start SECTOR] [--seed S]
//	    the data-integrity client of fault-injection campaigns (soak.go): writes, flushes and
//	    reads back forever (or N rounds); an acknowledged write that is lost or corrupted is
//	    a "blktest: BREACH: ..." line and an inject_report(breach) to the core.
//
// Every 8-byte word of sector s holds seed<<48 | s<<8 | word index (s modulo 2^40): a
// misplaced sector, a shifted word and a stale run all show.
package main

import (
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math/rand"
	"os"
	"time"

	"github.com/simpleos/simpleos/ipc/blk"
)

// disk is what blktest needs of the client (a *blk.Client, or a fake in tests).
type disk interface {
	Info() (blk.Info, error)
	ReadAt(p []byte, sector uint64) error
	WriteAt(p []byte, sector uint64) error
	Flush() error
}

// chunkPages are the sizes the pattern is written and read in, in pages.
var chunkPages = []int{1, 7, 16, 17, 33}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, func() disk { return blk.NewClient(blk.Endpoint, 30*time.Second) }))
}

func run(args []string, out io.Writer, dial func() disk) int {
	fs := flag.NewFlagSet("blktest", flag.ContinueOnError)
	fs.SetOutput(out)
	pattern := fs.Int64("pattern-check", -1, "write, flush, read back and compare `SECTORS` sectors (0: to the end)")
	readOnly := fs.Int64("read-only-check", -1, "verify the pattern written with `SEED`")
	seed := fs.Uint64("seed", 1, "pattern seed for --pattern-check (16 bits)")
	start := fs.Uint64("start", 0, "first sector")
	sectors := fs.Uint64("sectors", 0, "sectors for --read-only-check (0: to the end)")
	bench := fs.Bool("bench", false, "measure sequential and random throughput")
	benchMB := fs.Int("bench-mb", 16, "MiB written and read sequentially by --bench")
	soakMode := fs.Bool("soak", false, "write, flush and read back until stopped, reporting lost or corrupted data")
	soakRounds := fs.Int("soak-rounds", 0, "rounds of --soak (0: forever)")
	slots := fs.Int("slots", 32, "slots --soak writes in turn")
	slotSectors := fs.Int("slot-sectors", 64, "sectors per --soak slot (a multiple of 8, at most 256)")
	soakPause := fs.Duration("soak-pause", 20*time.Millisecond, "least pause between --soak rounds; at least twice as long as the round took (0: none)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *soakMode {
		if *slots < 1 || *slotSectors < 8 || *slotSectors%8 != 0 || *slotSectors > 256 || *soakRounds < 0 {
			fmt.Fprintln(out, "blktest: --slots must be positive, --slot-sectors a multiple of 8 up to 256")
			return 2
		}
		if *start == 0 {
			*start = 16384 // 8 MiB in: clear of anything the other modes write by default
		}
		fmt.Fprintf(out, "blktest: soak over %d slots of %d sectors from sector %d\n", *slots, *slotSectors, *start)
		if err := soak(dial(), out, *start, *slots, *slotSectors, *soakRounds, *seed, *soakPause); err != nil {
			fmt.Fprintf(out, "blktest: soak: %v\n", err)
			return 1
		}
		return 0
	}
	if *pattern < 0 && *readOnly < 0 && !*bench {
		fmt.Fprintln(out, "blktest: no mode given (--pattern-check, --read-only-check, --bench): nothing to do")
		return 0
	}
	d := dial()
	info, err := d.Info()
	if err != nil {
		fmt.Fprintf(out, "blktest: capacity: %v\n", err)
		return 1
	}
	fmt.Fprintf(out, "blktest: disk of %d sectors (%d MiB), block %d bytes, flush %v\n",
		info.Sectors, info.Sectors>>11, info.BlockSize, info.Flags&blk.FlagFlush != 0)
	span := func(n uint64) (uint64, error) {
		if *start >= info.Sectors {
			return 0, fmt.Errorf("start sector %d is past the disk's %d", *start, info.Sectors)
		}
		if n == 0 || n > info.Sectors-*start {
			n = info.Sectors - *start
		}
		bs := uint64(info.BlockSize / blk.SectorSize)
		if *start%bs != 0 || n < bs {
			return 0, fmt.Errorf("sectors %d+%d are not whole %d-byte blocks", *start, n, info.BlockSize)
		}
		return n - n%bs, nil
	}
	status := 0
	if *pattern >= 0 {
		n, err := span(uint64(*pattern))
		if err == nil {
			err = patternCheck(d, out, *start, n, *seed&0xffff)
		}
		if err != nil {
			fmt.Fprintf(out, "blktest: %v\n", err)
			return 1
		}
	}
	if *readOnly >= 0 {
		n, err := span(*sectors)
		if err == nil {
			err = verify(d, *start, n, uint64(*readOnly)&0xffff, true)
		}
		if err != nil {
			fmt.Fprintf(out, "blktest: %v\n", err)
			return 1
		}
		fmt.Fprintf(out, "blktest: verified %d sectors of seed %d OK\n", n, *readOnly)
	}
	if *bench {
		if err := runBench(d, out, info, *start, *benchMB); err != nil {
			fmt.Fprintf(out, "blkbench: %v\n", err)
			status = 1
		}
	}
	return status
}

// word is the pattern's value for word i of sector s.
func word(seed, sector uint64, i int) uint64 {
	return seed<<48 | (sector&(1<<40-1))<<8 | uint64(i)
}

func fill(b []byte, seed, first uint64) {
	for off := 0; off < len(b); off += 8 {
		binary.LittleEndian.PutUint64(b[off:], word(seed, first+uint64(off/blk.SectorSize), off%blk.SectorSize/8))
	}
}

// mismatch is a difference from the pattern.
type mismatch struct {
	sector    uint64
	word      int
	got, want uint64
}

func (m *mismatch) Error() string {
	return fmt.Sprintf("MISMATCH at sector %d word %d: got %#016x, want %#016x", m.sector, m.word, m.got, m.want)
}

func check(b []byte, seed, first uint64) error {
	for off := 0; off < len(b); off += 8 {
		s, i := first+uint64(off/blk.SectorSize), off%blk.SectorSize/8
		if got, want := binary.LittleEndian.Uint64(b[off:]), word(seed, s, i); got != want {
			return &mismatch{s, i, got, want}
		}
	}
	return nil
}

// chunks calls f for consecutive chunks of n sectors from first, sized by chunkPages in
// turn (reversed if rev).
func chunks(first, n uint64, rev bool, f func(sector, count uint64) error) error {
	for i, done := 0, uint64(0); done < n; i++ {
		k := i % len(chunkPages)
		if rev {
			k = len(chunkPages) - 1 - k
		}
		count := min(uint64(chunkPages[k]*blk.PageSize/blk.SectorSize), n-done)
		if err := f(first+done, count); err != nil {
			return err
		}
		done += count
	}
	return nil
}

func patternCheck(d disk, out io.Writer, first, n, seed uint64) error {
	buf := make([]byte, 33*blk.PageSize+1)[1:] // not page-aligned: the client's staging path too
	err := chunks(first, n, false, func(s, c uint64) error {
		b := buf[:c*blk.SectorSize]
		fill(b, seed, s)
		return d.WriteAt(b, s)
	})
	if err != nil {
		return fmt.Errorf("write: %w", err)
	}
	if err := d.Flush(); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	if err := verify(d, first, n, seed, true); err != nil {
		return err
	}
	fmt.Fprintf(out, "blktest: wrote %d sectors, flushed, verified %d sectors OK\n", n, n)
	return nil
}

func verify(d disk, first, n, seed uint64, rev bool) error {
	buf := blk.AlignedBuffer(33 * blk.PageSize)
	return chunks(first, n, rev, func(s, c uint64) error {
		b := buf[:c*blk.SectorSize]
		clear(b)
		if err := d.ReadAt(b, s); err != nil {
			return fmt.Errorf("read: %w", err)
		}
		return check(b, seed, s)
	})
}

func runBench(d disk, out io.Writer, info blk.Info, first uint64, mib int) error {
	const chunk = blk.MaxGrantBytes
	total := uint64(mib) << 20
	if avail := (info.Sectors - first) * blk.SectorSize; total > avail {
		total = avail &^ (chunk - 1)
	}
	if total < chunk {
		return fmt.Errorf("disk too small to measure")
	}
	buf := blk.AlignedBuffer(chunk)
	rand.New(rand.NewSource(1)).Read(buf)
	rate := func(d time.Duration) float64 { return float64(total) / 1e6 / d.Seconds() }

	t0 := time.Now()
	for off := uint64(0); off < total; off += chunk {
		if err := d.WriteAt(buf, first+off/blk.SectorSize); err != nil {
			return err
		}
	}
	if err := d.Flush(); err != nil {
		return err
	}
	el := time.Since(t0)
	fmt.Fprintf(out, "blkbench: seq-write %d MiB in %v: %.1f MB/s (64 KiB calls, flush included)\n", total>>20, el.Round(time.Millisecond), rate(el))

	t0 = time.Now()
	for off := uint64(0); off < total; off += chunk {
		if err := d.ReadAt(buf, first+off/blk.SectorSize); err != nil {
			return err
		}
	}
	el = time.Since(t0)
	fmt.Fprintf(out, "blkbench: seq-read %d MiB in %v: %.1f MB/s (64 KiB calls)\n", total>>20, el.Round(time.Millisecond), rate(el))

	rng := rand.New(rand.NewSource(2))
	blocks := total / 4096
	small := buf[:4096]
	ops := 0
	t0 = time.Now()
	for time.Since(t0) < 2*time.Second && ops < 100000 {
		if err := d.ReadAt(small, first+uint64(rng.Int63n(int64(blocks)))*8); err != nil {
			return err
		}
		ops++
	}
	el = time.Since(t0)
	fmt.Fprintf(out, "blkbench: rand-read-4k %d ops in %v: %.0f IOPS\n", ops, el.Round(time.Millisecond), float64(ops)/el.Seconds())
	return nil
}

package main

import (
	"errors"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/simpleos/simpleos/bench/measure"
	"github.com/simpleos/simpleos/bench/result"
	"github.com/simpleos/simpleos/ipc/blk"
)

// Disk throughput: the same requests on both systems. On Linux the program opens the raw
// block device (-disk /dev/vda) with O_DIRECT, so every request reaches the virtio-blk device
// and the guest's page cache cannot answer for it; on SimpleOS (-disk blk) it calls the ring-1
// driver on endpoint "blk" (package ipc/blk), which has no cache. Without -disk the disk
// benchmarks are skipped: the program never writes to a disk it was not told to use.
//
//   - disk/seq-write: 64 KiB writes at consecutive offsets from sector 0; ns per request.
//   - disk/seq-read: 64 KiB reads of the same region, in the same order; ns per request.
//   - disk/rand-read-4k: 4 KiB reads at random 4 KiB-aligned offsets of that region; ns per
//     read.
//
// Each is measure.Batches: an untimed warm-up batch, then timed batches. The sequential
// region is (1 + batches) × requests × 64 KiB: 17 MiB in a full run, 5 MiB under -quick. The
// flush after the writes is not timed (a request is complete when the device completed it,
// on both systems: O_DIRECT on Linux, the driver's acknowledgement on SimpleOS).

const (
	seqChunk  = 64 << 10 // bytes per sequential request: the largest blk call
	randChunk = 4 << 10
	// blkTimeout bounds one call to the SimpleOS driver (its own device timeout is 2 s).
	blkTimeout = 10 * time.Second
)

// diskSizes are the batches and requests per batch of the disk benchmarks.
func diskSizes(name string, quick bool) (batches, n int) {
	switch {
	case strings.HasPrefix(name, "disk/seq-") && quick:
		return 4, 16 // 4 MiB timed
	case strings.HasPrefix(name, "disk/seq-"):
		return 16, 16 // 16 MiB timed
	case quick:
		return 10, 50 // 500 reads
	default:
		return 20, 100 // 2,000 reads
	}
}

// disk is what the benchmarks need of either system's disk.
type disk interface {
	ReadAt(p []byte, sector uint64) error
	WriteAt(p []byte, sector uint64) error
	Flush() error
	Sectors() uint64
	Close() error
}

// diskState is the disk of this run, opened by the first disk benchmark.
var diskState struct {
	spec    string // -disk
	d       disk
	err     error
	opened  bool
	written uint64 // bytes from sector 0 that seq-write wrote (what the reads read)
}

// theDisk opens -disk once.
func theDisk() (disk, error) {
	s := &diskState
	if !s.opened {
		s.opened = true
		switch s.spec {
		case "":
			s.err = skipError{"no disk given (-disk /dev/vda on Linux, -disk blk on SimpleOS)"}
		case "blk":
			s.d, s.err = openBlk()
		default:
			s.d, s.err = openDevice(s.spec)
		}
	}
	return s.d, s.err
}

// closeDisk closes the disk if a benchmark opened it.
func closeDisk() {
	if diskState.d != nil {
		diskState.d.Close()
	}
}

func diskSeqWrite(name string, count, n int) (result.Result, error) {
	d, err := theDisk()
	if err != nil {
		return result.Result{}, err
	}
	buf := blk.AlignedBuffer(seqChunk)
	rand.New(rand.NewSource(1)).Read(buf)
	total := uint64(count+1) * uint64(n) * seqChunk
	if total > d.Sectors()*blk.SectorSize {
		return result.Result{}, fmt.Errorf("the disk (%d MiB) is smaller than the %d MiB the benchmark writes", d.Sectors()>>11, total>>20)
	}
	off := uint64(0)
	r, err := measure.Batches(name, count, n, func(n int) error {
		for range n {
			if err := d.WriteAt(buf, off/blk.SectorSize); err != nil {
				return err
			}
			off += seqChunk
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	diskState.written = off
	return r, d.Flush()
}

// region makes sure the reads read written data: when seq-write did not run (-only), the
// region is written first, untimed.
func region(d disk, bytes uint64) error {
	if diskState.written >= bytes {
		return nil
	}
	buf := blk.AlignedBuffer(seqChunk)
	for off := diskState.written; off < bytes; off += seqChunk {
		if err := d.WriteAt(buf, off/blk.SectorSize); err != nil {
			return err
		}
	}
	diskState.written = bytes
	return d.Flush()
}

func diskSeqRead(name string, count, n int) (result.Result, error) {
	d, err := theDisk()
	if err != nil {
		return result.Result{}, err
	}
	total := uint64(count+1) * uint64(n) * seqChunk
	if total > d.Sectors()*blk.SectorSize {
		return result.Result{}, fmt.Errorf("the disk (%d MiB) is smaller than the %d MiB the benchmark reads", d.Sectors()>>11, total>>20)
	}
	if err := region(d, total); err != nil {
		return result.Result{}, err
	}
	buf := blk.AlignedBuffer(seqChunk)
	off := uint64(0)
	return measure.Batches(name, count, n, func(n int) error {
		for range n {
			if err := d.ReadAt(buf, off/blk.SectorSize); err != nil {
				return err
			}
			off += seqChunk
		}
		return nil
	})
}

func diskRandRead(name string, count, n int) (result.Result, error) {
	d, err := theDisk()
	if err != nil {
		return result.Result{}, err
	}
	span := diskState.written
	if span == 0 {
		span = 4 << 20
		if err := region(d, span); err != nil {
			return result.Result{}, err
		}
	}
	blocks := int64(span / randChunk)
	rng := rand.New(rand.NewSource(2))
	buf := blk.AlignedBuffer(randChunk)
	return measure.Batches(name, count, n, func(n int) error {
		for range n {
			if err := d.ReadAt(buf, uint64(rng.Int63n(blocks))*randChunk/blk.SectorSize); err != nil {
				return err
			}
		}
		return nil
	})
}

// blkDisk is SimpleOS's disk: the ring-1 driver's endpoint.
type blkDisk struct {
	c    *blk.Client
	info blk.Info
}

func openBlk() (disk, error) {
	c := blk.NewClient(blk.Endpoint, blkTimeout)
	info, err := c.Info()
	if err != nil {
		return nil, fmt.Errorf("blk: capacity: %w", err)
	}
	if info.BlockSize > randChunk {
		return nil, fmt.Errorf("blk: block size %d is over the 4 KiB the random reads use", info.BlockSize)
	}
	return &blkDisk{c: c, info: info}, nil
}

func (b *blkDisk) ReadAt(p []byte, sector uint64) error  { return b.c.ReadAt(p, sector) }
func (b *blkDisk) WriteAt(p []byte, sector uint64) error { return b.c.WriteAt(p, sector) }
func (b *blkDisk) Flush() error                          { return b.c.Flush() }
func (b *blkDisk) Sectors() uint64                       { return b.info.Sectors }
func (b *blkDisk) Close() error                          { return nil }

// fileDisk is a block device (or, in tests, a file) read and written with pread/pwrite.
type fileDisk struct {
	fd      int
	sectors uint64
}

func openDevice(path string) (disk, error) {
	if os.Getpid() == 1 {
		if err := linuxDevices(path); err != nil {
			return nil, skipError{err.Error()}
		}
	}
	fd, err := syscall.Open(path, syscall.O_RDWR|syscall.O_DIRECT|syscall.O_CLOEXEC, 0)
	if errors.Is(err, syscall.EINVAL) {
		// A file system without O_DIRECT (tmpfs: the host tests): the page cache answers.
		fmt.Printf("bench note disk: %s refuses O_DIRECT: buffered I/O\n", path)
		fd, err = syscall.Open(path, syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	}
	if err != nil {
		return nil, skipError{fmt.Sprintf("cannot open %s: %v", path, err)}
	}
	size, err := syscall.Seek(fd, 0, 2) // a block device's size, too
	if err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("size of %s: %w", path, err)
	}
	return &fileDisk{fd: fd, sectors: uint64(size) / blk.SectorSize}, nil
}

func (f *fileDisk) ReadAt(p []byte, sector uint64) error {
	return f.io(syscall.Pread, p, sector)
}

func (f *fileDisk) WriteAt(p []byte, sector uint64) error {
	return f.io(syscall.Pwrite, p, sector)
}

func (f *fileDisk) io(op func(int, []byte, int64) (int, error), p []byte, sector uint64) error {
	for done := 0; done < len(p); {
		n, err := op(f.fd, p[done:], int64(sector*blk.SectorSize)+int64(done))
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("short transfer at sector %d: %w", sector, syscall.EIO)
		}
		done += n
	}
	return nil
}

func (f *fileDisk) Flush() error    { return syscall.Fsync(f.fd) }
func (f *fileDisk) Sectors() uint64 { return f.sectors }
func (f *fileDisk) Close() error    { return syscall.Close(f.fd) }

// noParams is an empty module parameter string.
var noParams = [1]byte{0}

// moduleDir is where the Linux baseline's initramfs holds the virtio modules (bench/linux).
const moduleDir = "/lib/modules/bench" // "/" + bench/linux.ModuleDir

// linuxDevices, as Linux's init (nothing else has run), loads the kernel modules the
// initramfs carries in file-name order (the virtio transport, then virtio_blk) and mounts
// devtmpfs on /dev, then waits for path to appear.
func linuxDevices(path string) error {
	mods, _ := filepath.Glob(filepath.Join(moduleDir, "*.ko"))
	sort.Strings(mods)
	for _, m := range mods {
		fd, err := syscall.Open(m, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			return fmt.Errorf("module %s: %v", m, err)
		}
		_, _, e := syscall.Syscall(unix.SYS_FINIT_MODULE, uintptr(fd), uintptr(unsafe.Pointer(&noParams[0])), 0)
		syscall.Close(fd)
		if e != 0 && e != syscall.EEXIST {
			return fmt.Errorf("loading %s: %v", filepath.Base(m), e)
		}
	}
	if _, err := os.Stat(path); err != nil {
		if err := syscall.Mount("devtmpfs", "/dev", "devtmpfs", 0, ""); err != nil && err != syscall.EBUSY {
			return fmt.Errorf("mount devtmpfs on /dev: %v", err)
		}
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(path); err == nil {
			return nil
		} else if time.Now().After(deadline) {
			return fmt.Errorf("no %s after loading %d modules: %v", path, len(mods), err)
		}
	}
}

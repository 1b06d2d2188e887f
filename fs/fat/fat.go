// Package fat is a FAT32 file system over a block device, implementing fs.FS. It reads any
// FAT32 volume with 512-byte sectors that starts at sector 0 of the device (boot/disk's images)
// and writes what mtools and Linux read, long names included.
//
// go-diskfs (which boot/disk uses to create images) does plug into a custom block device
// (backend.Storage), but its FAT code cannot serve a file system: Remove never frees the file's
// clusters, Rename works only within one directory and never replaces, there is no truncate to
// a size, every cluster allocation rewrites both whole FATs, errors are strings rather than
// codes, and it writes metadata in no order, so a crash can leave a directory entry pointing at
// free clusters. This package is the minimum written here instead.
//
// # Durability and crash consistency
//
// File data goes to the device when written (Device.WriteAt, not yet flushed). Metadata (FAT
// sectors and directory sectors) is kept dirty in memory until Sync (fs.FS.Sync, File.Sync, or
// automatically when too much is dirty), which writes it in an order that keeps the on-disk
// file system consistent at every point a crash may hit:
//
//  1. flush the device (the data written so far is durable);
//  2. write the FAT sectors with every new allocation, but with clusters freed since the last
//     Sync still marked in use; flush;
//  3. write the dirty directory sectors: first those of directory clusters allocated since
//     the last Sync, flush, then the rest in the order they were dirtied; flush;
//  4. write the FAT sectors that free the clusters released since the last Sync, and FSInfo;
//     flush. Only now may those clusters be allocated again.
//
// So a directory entry on disk never points at a free cluster nor at a cluster another file
// uses, and data a program synced is never overwritten by another file's data. A crash before
// Sync leaves the file system as the previous Sync left it (plus the data of overwrites in
// place, which FAT cannot order), mountable and consistent, at worst with lost clusters (in
// use in the FAT, in no file) that fsck reclaims. A crash inside a Sync may also leave a
// truncated file's chain longer than its size (the chain's new end is written with the frees),
// never shorter. TestCrashDuringSync cuts a Sync after each of its device operations and holds
// fsck.fat to exactly that. What FAT does not give: a write inside the
// existing length of a file is not atomic (a crash may leave some sectors old and some new); a
// rename across directories, which writes two directory sectors, may be seen after a crash as
// both names (two entries sharing one cluster chain) though never as neither; Sync is of the
// whole file system (the FAT is shared), so File.Sync costs the same as fs.FS.Sync.
package fat

import (
	"encoding/binary"
	"sync"
	"syscall"
	"time"

	"github.com/simpleos/simpleos/fs"
)

// SectorSize is the only sector size the package supports.
const SectorSize = 512

// Device is a block device of 512-byte sectors. ipc/blk's Client is one through ClientDevice.
type Device interface {
	ReadAt(p []byte, sector uint64) error  // len(p) a multiple of 512
	WriteAt(p []byte, sector uint64) error // len(p) a multiple of 512
	Flush() error
	Sectors() uint64
}

// fat32 entries.
const (
	clusterMask = 0x0FFFFFFF
	eoc         = 0x0FFFFFFF
	eocMin      = 0x0FFFFFF8 // end-of-chain markers are eocMin..eoc
	badCluster  = 0x0FFFFFF7
)

// autoSyncSectors is how many dirty metadata sectors trigger a Sync on their own.
const autoSyncSectors = 4096

// FS is a mounted FAT32 file system.
type FS struct {
	mu  sync.Mutex
	dev Device
	now func() time.Time

	spc          uint32 // sectors per cluster
	clusterBytes int64
	reserved     uint32
	numFATs      uint32
	fatSectors   uint32
	dataStart    uint64 // first sector of cluster 2
	rootCluster  uint32
	fsInfoSector uint32
	clusters     uint32 // data clusters; valid numbers are 2..clusters+1

	fat        []uint32          // the FAT as it is now
	disk       map[uint32]uint32 // freed clusters, and chain ends moved by a truncation, not yet written so: their on-disk value
	fatDirty   map[uint32]bool   // FAT sectors (index within one FAT) to write
	meta       map[uint64][]byte // cached directory sectors
	metaDirty  map[uint64]bool
	metaOrder  []uint64        // dirty directory sectors, in the order they were dirtied
	fresh      map[uint64]bool // sectors of directory clusters allocated since the last Sync
	freeCount  uint32
	nextFree   uint32
	open       map[entryLoc]*node // open files, by the location of their entry
	failed     error              // a device error during Sync: the FS refuses further writes
	readOnlyFS bool
	readHook   func(kind ReadKind, p []byte, sector uint64)
}

var _ fs.FS = (*FS)(nil)

// Option configures Mount.
type Option func(*FS)

// WithClock sets the clock for modification times (time.Now by default).
func WithClock(now func() time.Time) Option { return func(f *FS) { f.now = now } }

// ReadKind says what a device read was for (WithReadHook).
type ReadKind int

const (
	ReadBoot   ReadKind = iota // the boot sector, at mount
	ReadFAT                    // the first FAT, whole, at mount
	ReadDir                    // one sector of a directory, on its first use
	ReadFSInfo                 // the FSInfo sector, during a Sync
	ReadData                   // file data
)

// WithReadHook calls hook after every successful device read with what it was for, the bytes
// read (which hook may change: the fault-injection framework corrupts metadata with it,
// ring3/fs/fsfault) and the first sector.
func WithReadHook(hook func(kind ReadKind, p []byte, sector uint64)) Option {
	return func(f *FS) { f.readHook = hook }
}

// read reads p at sector from the device and passes it to the read hook.
func (f *FS) read(kind ReadKind, p []byte, sector uint64) error {
	if err := f.dev.ReadAt(p, sector); err != nil {
		return err
	}
	if f.readHook != nil {
		f.readHook(kind, p, sector)
	}
	return nil
}

// Mount reads the FAT32 file system at sector 0 of dev.
func Mount(dev Device, opts ...Option) (*FS, error) {
	f := &FS{dev: dev, now: time.Now, disk: map[uint32]uint32{}, fatDirty: map[uint32]bool{},
		meta: map[uint64][]byte{}, metaDirty: map[uint64]bool{}, fresh: map[uint64]bool{}, open: map[entryLoc]*node{}}
	for _, o := range opts {
		o(f)
	}
	b := make([]byte, SectorSize)
	if err := f.read(ReadBoot, b, 0); err != nil {
		return nil, syscall.EIO
	}
	le := binary.LittleEndian
	bps := le.Uint16(b[11:])
	f.spc = uint32(b[13])
	f.reserved = uint32(le.Uint16(b[14:]))
	f.numFATs = uint32(b[16])
	rootEntries := le.Uint16(b[17:])
	total := uint32(le.Uint16(b[19:]))
	if total == 0 {
		total = le.Uint32(b[32:])
	}
	fat16Size := le.Uint16(b[22:])
	f.fatSectors = le.Uint32(b[36:])
	f.rootCluster = le.Uint32(b[44:])
	f.fsInfoSector = uint32(le.Uint16(b[48:]))
	if b[510] != 0x55 || b[511] != 0xAA || bps != SectorSize || f.spc == 0 || f.spc&(f.spc-1) != 0 ||
		f.reserved == 0 || f.numFATs == 0 || rootEntries != 0 || fat16Size != 0 || f.fatSectors == 0 ||
		uint64(total) > dev.Sectors() {
		return nil, syscall.EINVAL // not FAT32 with 512-byte sectors
	}
	f.clusterBytes = int64(f.spc) * SectorSize
	f.dataStart = uint64(f.reserved) + uint64(f.numFATs)*uint64(f.fatSectors)
	if uint64(total) <= f.dataStart {
		return nil, syscall.EINVAL
	}
	f.clusters = uint32((uint64(total) - f.dataStart) / uint64(f.spc))
	if entries := f.fatSectors * SectorSize / 4; entries < f.clusters+2 {
		f.clusters = entries - 2 // a FAT shorter than the volume: use what it maps
	}
	if f.rootCluster < 2 || f.rootCluster >= f.clusters+2 {
		return nil, syscall.EINVAL
	}
	raw := make([]byte, int(f.fatSectors)*SectorSize)
	if err := f.read(ReadFAT, raw, uint64(f.reserved)); err != nil {
		return nil, syscall.EIO
	}
	f.fat = make([]uint32, f.clusters+2)
	for i := range f.fat {
		f.fat[i] = le.Uint32(raw[4*i:]) & clusterMask
		if i >= 2 && f.fat[i] == 0 {
			f.freeCount++
		}
	}
	f.nextFree = 2
	return f, nil
}

// Sectors of the file system, for statfs: total and free clusters and the cluster size.
func (f *FS) Statfs() (clusters, free uint32, clusterBytes int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.clusters, f.freeCount, f.clusterBytes
}

func (f *FS) clusterSector(c uint32) uint64 { return f.dataStart + uint64(c-2)*uint64(f.spc) }

func (f *FS) validCluster(c uint32) bool { return c >= 2 && c < f.clusters+2 }

// chain returns the clusters of the chain starting at first (none for 0).
func (f *FS) chain(first uint32) ([]uint32, error) {
	var out []uint32
	for c := first; c != 0; {
		if !f.validCluster(c) || len(out) > int(f.clusters) {
			return nil, syscall.EIO // a broken or looping chain
		}
		out = append(out, c)
		n := f.fat[c]
		if n >= badCluster {
			break
		}
		c = n
	}
	return out, nil
}

func (f *FS) setFAT(c, v uint32) {
	f.fat[c] = v
	f.fatDirty[c*4/SectorSize] = true
}

// alloc takes n free clusters, chained and terminated, linked after prev (0: none).
func (f *FS) alloc(n int, prev uint32) ([]uint32, error) {
	if n == 0 {
		return nil, nil
	}
	if uint32(n) > f.freeCount {
		return nil, syscall.ENOSPC
	}
	out := make([]uint32, 0, n)
	c := f.nextFree
	for scanned := uint32(0); len(out) < n && scanned < f.clusters; scanned++ {
		if c < 2 || c >= f.clusters+2 {
			c = 2
		}
		if f.fat[c] == 0 {
			if _, pending := f.disk[c]; !pending {
				out = append(out, c)
			}
		}
		c++
	}
	if len(out) < n {
		return nil, syscall.ENOSPC // the rest are freed but not yet synced
	}
	f.nextFree = c
	for i, c := range out {
		if i+1 < len(out) {
			f.setFAT(c, out[i+1])
		} else {
			f.setFAT(c, eoc)
		}
	}
	if prev != 0 {
		f.setFAT(prev, out[0])
	}
	f.freeCount -= uint32(n)
	return out, nil
}

// free releases the clusters; they stay in use on disk until the next Sync's last step.
func (f *FS) free(cs []uint32) {
	for _, c := range cs {
		if _, ok := f.disk[c]; !ok {
			f.disk[c] = f.fat[c]
		}
		f.setFAT(c, 0)
		f.freeCount++
		// its cached directory sectors (if it was a directory) are stale from now on
		for s := f.clusterSector(c); s < f.clusterSector(c)+uint64(f.spc); s++ {
			delete(f.meta, s)
			delete(f.metaDirty, s)
		}
	}
}

// truncateChain keeps the first keep clusters of the chain at first and frees the rest; it
// returns the new first cluster (0 when keep is 0).
func (f *FS) truncateChain(first uint32, keep int) (uint32, error) {
	cs, err := f.chain(first)
	if err != nil {
		return first, err
	}
	if keep >= len(cs) {
		return first, nil
	}
	if keep > 0 {
		// The new end of the chain reaches the disk with the frees (step 4), after the
		// directory entry's new size (step 3): until then the chain on disk is longer than
		// the file, never shorter.
		if _, ok := f.disk[cs[keep-1]]; !ok {
			f.disk[cs[keep-1]] = f.fat[cs[keep-1]]
		}
		f.setFAT(cs[keep-1], eoc)
	}
	f.free(cs[keep:])
	if keep == 0 {
		return 0, nil
	}
	return first, nil
}

// metaSector returns the cached directory sector s, reading it on first use.
func (f *FS) metaSector(s uint64) ([]byte, error) {
	if b, ok := f.meta[s]; ok {
		return b, nil
	}
	b := make([]byte, SectorSize)
	if err := f.read(ReadDir, b, s); err != nil {
		return nil, syscall.EIO
	}
	f.meta[s] = b
	return b, nil
}

// DropCleanCache forgets the cached directory sectors that hold nothing unwritten: they are
// read from the device again on their next use. The fault-injection framework calls it so
// that a corrupted read (ring3/fs/fsfault) can strike a directory after the mount.
func (f *FS) DropCleanCache() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.meta {
		if !f.metaDirty[s] && !f.fresh[s] {
			delete(f.meta, s)
		}
	}
}

func (f *FS) dirtyMeta(s uint64) {
	if !f.metaDirty[s] {
		f.metaDirty[s] = true
		f.metaOrder = append(f.metaOrder, s)
	}
}

// zeroCluster makes cluster c's sectors zero in the metadata cache (a new directory cluster).
func (f *FS) zeroCluster(c uint32) {
	for s := f.clusterSector(c); s < f.clusterSector(c)+uint64(f.spc); s++ {
		f.meta[s] = make([]byte, SectorSize)
		f.fresh[s] = true
		f.dirtyMeta(s)
	}
}

// maybeSync syncs when too much metadata is dirty.
func (f *FS) maybeSync() error {
	if len(f.metaDirty)+len(f.fatDirty) > autoSyncSectors {
		return f.sync()
	}
	return nil
}

// Sync implements fs.FS.
func (f *FS) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sync()
}

func (f *FS) sync() error {
	if f.failed != nil {
		return syscall.EIO
	}
	err := f.doSync()
	if err != nil {
		f.failed = err
		return syscall.EIO
	}
	return nil
}

func (f *FS) doSync() error {
	if err := f.dev.Flush(); err != nil {
		return err
	}
	if len(f.fatDirty) == 0 && len(f.metaDirty) == 0 {
		return nil
	}
	// 2: allocations, with pending frees still as they are on disk
	if err := f.writeFAT(false); err != nil {
		return err
	}
	if err := f.dev.Flush(); err != nil {
		return err
	}
	// 3: directories: new directory clusters first (their "." and ".." and entries), then,
	// after a flush, the sectors that point at them, in the order they were dirtied: an entry
	// on disk never names a directory cluster that does not hold a directory yet.
	for pass := 0; pass < 2; pass++ {
		for _, s := range f.metaOrder {
			if !f.metaDirty[s] || f.fresh[s] != (pass == 0) {
				continue
			}
			if err := f.dev.WriteAt(f.meta[s], s); err != nil {
				return err
			}
		}
		if pass == 0 && len(f.fresh) > 0 {
			if err := f.dev.Flush(); err != nil {
				return err
			}
		}
	}
	f.metaOrder = f.metaOrder[:0]
	clear(f.metaDirty)
	clear(f.fresh)
	if err := f.dev.Flush(); err != nil {
		return err
	}
	// 4: frees
	if len(f.disk) > 0 {
		for c := range f.disk {
			f.fatDirty[c*4/SectorSize] = true
		}
		clear(f.disk)
		if err := f.writeFAT(true); err != nil {
			return err
		}
	}
	if err := f.writeFSInfo(); err != nil {
		return err
	}
	return f.dev.Flush()
}

// writeFAT writes the dirty FAT sectors to every FAT; unless final, clusters freed since the
// last Sync keep their on-disk value (and their sectors stay dirty).
func (f *FS) writeFAT(final bool) error {
	le := binary.LittleEndian
	b := make([]byte, SectorSize)
	const per = SectorSize / 4
	for sec := range f.fatDirty {
		for i := range uint32(per) {
			c := sec*per + i
			v := uint32(0)
			if c < uint32(len(f.fat)) {
				v = f.fat[c]
				if old, ok := f.disk[c]; ok && !final {
					v = old
				}
			}
			le.PutUint32(b[4*i:], v)
		}
		for k := range f.numFATs {
			if err := f.dev.WriteAt(b, uint64(f.reserved)+uint64(k)*uint64(f.fatSectors)+uint64(sec)); err != nil {
				return err
			}
		}
	}
	clear(f.fatDirty)
	if !final {
		for c := range f.disk { // still to be written with the free
			f.fatDirty[c*4/SectorSize] = true
		}
	}
	return nil
}

func (f *FS) writeFSInfo() error {
	if f.fsInfoSector == 0 || f.fsInfoSector == 0xFFFF || f.fsInfoSector >= f.reserved {
		return nil
	}
	b := make([]byte, SectorSize)
	if err := f.read(ReadFSInfo, b, uint64(f.fsInfoSector)); err != nil {
		return err
	}
	le := binary.LittleEndian
	if le.Uint32(b[0:]) != 0x41615252 || le.Uint32(b[484:]) != 0x61417272 {
		return nil // no FSInfo there: leave the sector alone
	}
	le.PutUint32(b[488:], f.freeCount)
	le.PutUint32(b[492:], f.nextFree)
	return f.dev.WriteAt(b, uint64(f.fsInfoSector))
}

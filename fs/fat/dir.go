package fat

import (
	"encoding/binary"
	iofs "io/fs"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode/utf16"

	"github.com/simpleos/simpleos/fs"
)

// Attribute bits of a directory entry.
const (
	attrReadOnly = 0x01
	attrVolume   = 0x08
	attrDir      = 0x10
	attrArchive  = 0x20
	attrLFN      = 0x0F
)

// entryLoc is where a 32-byte directory entry is: a sector and a byte offset in it.
type entryLoc struct {
	sector uint64
	off    int
}

// dirent is a parsed directory entry.
type dirent struct {
	name    string // the long name, or the short one when there is none
	short   [11]byte
	attr    byte
	cluster uint32
	size    uint32
	mtime   time.Time
	loc     entryLoc   // the short entry
	slots   []entryLoc // every slot, long-name ones first
	root    bool
}

func (d *dirent) isDir() bool { return d.root || d.attr&attrDir != 0 }

// dirSectors lists the sectors of the directory whose first cluster is first.
func (f *FS) dirSectors(first uint32) ([]uint64, error) {
	cs, err := f.chain(first)
	if err != nil {
		return nil, err
	}
	if len(cs) > 0 && f.fat[cs[len(cs)-1]] < eocMin {
		// A directory's chain ends in a free or bad cluster: no crash leaves that (a directory
		// grows by a cluster linked in the FAT before its sectors are written, and its chain is
		// freed only after its entry is gone), so the FAT is corrupt. Refuse it rather than
		// list a directory cut short, whose missing entries would look like deleted files.
		return nil, syscall.EIO
	}
	out := make([]uint64, 0, len(cs)*int(f.spc))
	for _, c := range cs {
		for s := f.clusterSector(c); s < f.clusterSector(c)+uint64(f.spc); s++ {
			out = append(out, s)
		}
	}
	return out, nil
}

// readDir parses the directory at first (".", ".." and the volume label left out).
func (f *FS) readDir(first uint32) ([]dirent, error) {
	secs, err := f.dirSectors(first)
	if err != nil {
		return nil, err
	}
	var out []dirent
	var lfn []uint16
	var lfnSlots []entryLoc
	var lfnSum byte
	lfnOK := false
	le := binary.LittleEndian
	for _, s := range secs {
		b, err := f.metaSector(s)
		if err != nil {
			return nil, err
		}
		for off := 0; off < SectorSize; off += 32 {
			e := b[off : off+32]
			loc := entryLoc{s, off}
			switch {
			case e[0] == 0:
				return out, nil
			case e[0] == 0xE5:
				lfnOK = false
				continue
			case e[11]&0x3F == attrLFN:
				ord := int(e[0] & 0x3F)
				if e[0]&0x40 != 0 {
					lfn = make([]uint16, 13*ord)
					lfnSlots = lfnSlots[:0]
					lfnSum = e[13]
					lfnOK = ord > 0
				} else if !lfnOK || e[13] != lfnSum || ord == 0 || 13*ord > len(lfn) {
					lfnOK = false
					continue
				}
				if ord == 0 {
					lfnOK = false
					continue
				}
				i := 13 * (ord - 1)
				for k, p := range []int{1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30} {
					lfn[i+k] = le.Uint16(e[p:])
				}
				lfnSlots = append(lfnSlots, loc)
				continue
			}
			d := dirent{attr: e[11], size: le.Uint32(e[28:]), loc: loc,
				cluster: uint32(le.Uint16(e[20:]))<<16 | uint32(le.Uint16(e[26:])),
				mtime:   dosTime(le.Uint16(e[24:]), le.Uint16(e[22:]))}
			copy(d.short[:], e[:11])
			if lfnOK && checksum(d.short) == lfnSum {
				d.name = lfnString(lfn)
				d.slots = append(append([]entryLoc(nil), lfnSlots...), loc)
			} else {
				d.name = shortString(d.short, e[12])
				d.slots = []entryLoc{loc}
			}
			lfnOK = false
			if d.attr&attrVolume != 0 || d.name == "." || d.name == ".." {
				continue
			}
			out = append(out, d)
		}
	}
	return out, nil
}

func lfnString(u []uint16) string {
	for i, c := range u {
		if c == 0 || c == 0xFFFF {
			u = u[:i]
			break
		}
	}
	return string(utf16.Decode(u))
}

func shortString(s [11]byte, flags byte) string {
	b := s
	if b[0] == 0x05 {
		b[0] = 0xE5
	}
	stem := strings.TrimRight(string(b[:8]), " ")
	ext := strings.TrimRight(string(b[8:]), " ")
	if flags&0x08 != 0 {
		stem = strings.ToLower(stem)
	}
	if flags&0x10 != 0 {
		ext = strings.ToLower(ext)
	}
	if ext == "" {
		return stem
	}
	return stem + "." + ext
}

func checksum(s [11]byte) byte {
	var sum byte
	for _, c := range s {
		sum = (sum&1)<<7 + sum>>1 + c
	}
	return sum
}

func dosTime(date, tm uint16) time.Time {
	if date == 0 {
		return time.Time{}
	}
	return time.Date(1980+int(date>>9), time.Month(date>>5&15), int(date&31),
		int(tm>>11), int(tm>>5&63), int(tm&31)*2, 0, time.UTC)
}

func toDOS(t time.Time) (date, tm uint16) {
	t = t.UTC()
	if t.Year() < 1980 {
		return 0x21, 0 // 1980-01-01
	}
	if t.Year() > 2107 {
		t = time.Date(2107, 12, 31, 23, 59, 58, 0, time.UTC)
	}
	date = uint16(t.Year()-1980)<<9 | uint16(t.Month())<<5 | uint16(t.Day())
	tm = uint16(t.Hour())<<11 | uint16(t.Minute())<<5 | uint16(t.Second()/2)
	return date, tm
}

// find returns the entry called name in the directory at first (names match without regard
// to case, as FAT's do, by long or short name).
func find(entries []dirent, name string) *dirent {
	for i := range entries {
		if strings.EqualFold(entries[i].name, name) || strings.EqualFold(shortString(entries[i].short, 0), name) {
			return &entries[i]
		}
	}
	return nil
}

func (f *FS) rootEntry() dirent {
	return dirent{name: "/", attr: attrDir, cluster: f.rootCluster, root: true}
}

// resolve walks parts from the root and returns the entry they name.
func (f *FS) resolve(parts []string) (dirent, error) {
	d := f.rootEntry()
	for _, p := range parts {
		if !d.isDir() {
			return dirent{}, syscall.ENOTDIR
		}
		entries, err := f.readDir(d.cluster)
		if err != nil {
			return dirent{}, err
		}
		e := find(entries, p)
		if e == nil {
			return dirent{}, syscall.ENOENT
		}
		d = *e
	}
	return d, nil
}

// parent resolves the directory holding parts' last component; it returns that directory, its
// entries, and the entry of the last component (nil when absent). parts must not be empty.
func (f *FS) parent(parts []string) (dir dirent, entries []dirent, e *dirent, err error) {
	dir, err = f.resolve(parts[:len(parts)-1])
	if err != nil {
		return dir, nil, nil, err
	}
	if !dir.isDir() {
		return dir, nil, nil, syscall.ENOTDIR
	}
	entries, err = f.readDir(dir.cluster)
	if err != nil {
		return dir, nil, nil, err
	}
	return dir, entries, find(entries, parts[len(parts)-1]), nil
}

// validName checks a name for a new entry.
func validName(name string) error {
	if name == "." || name == ".." {
		return syscall.EINVAL
	}
	for _, r := range name {
		if r < 0x20 || strings.ContainsRune(`"*/:<>?\|`, r) || r == 0x7F {
			return syscall.EINVAL
		}
	}
	if strings.HasSuffix(name, ".") || strings.HasSuffix(name, " ") {
		return syscall.EINVAL // FAT drops trailing dots and spaces
	}
	if len(utf16.Encode([]rune(name))) > 255 {
		return syscall.ENAMETOOLONG
	}
	return nil
}

const shortChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789$%'-_@~`!(){}^#&"

func shortPart(s string, n int) (string, bool) {
	var b strings.Builder
	lossless := true
	for _, r := range strings.ToUpper(s) {
		if r == ' ' {
			lossless = false
			continue
		}
		if r > 0x7F || !strings.ContainsRune(shortChars, r) {
			r, lossless = '_', false
		}
		b.WriteRune(r)
	}
	out := b.String()
	if len(out) > n {
		out, lossless = out[:n], false
	}
	return out, lossless
}

// shortName makes the 8.3 name for name, unique among entries; plain reports that name is
// its own short name (then no long-name slots are needed).
func shortName(name string, entries []dirent) (s [11]byte, plain bool) {
	stemIn, extIn := name, ""
	if i := strings.LastIndexByte(name, '.'); i > 0 {
		stemIn, extIn = name[:i], name[i+1:]
	}
	stemIn = strings.TrimLeft(stemIn, ".")
	stem, ok1 := shortPart(stemIn, 8)
	ext, ok2 := shortPart(extIn, 3)
	if stem == "" {
		stem, ok1 = "_", false
	}
	plain = ok1 && ok2 && name == strings.ToUpper(name) && name == shortString(pad(stem, ext), 0)
	taken := func(c [11]byte) bool {
		for _, e := range entries {
			if e.short == c {
				return true
			}
		}
		return false
	}
	if plain && !taken(pad(stem, ext)) {
		return pad(stem, ext), true
	}
	for i := 1; ; i++ {
		tail := "~" + strconv.Itoa(i)
		st := stem
		if len(st) > 8-len(tail) {
			st = st[:8-len(tail)]
		}
		if c := pad(st+tail, ext); !taken(c) {
			return c, false
		}
	}
}

func pad(stem, ext string) [11]byte {
	var s [11]byte
	copy(s[:], "           ")
	copy(s[:8], stem)
	copy(s[8:], ext)
	return s
}

// createEntry adds an entry called name to the directory dir.
func (f *FS) createEntry(dir dirent, entries []dirent, name string, attr byte, cluster, size uint32) (dirent, error) {
	if err := validName(name); err != nil {
		return dirent{}, err
	}
	short, plain := shortName(name, entries)
	var units []uint16
	n := 1
	if !plain {
		units = utf16.Encode([]rune(name))
		n += (len(units) + 12) / 13
	}
	slots, err := f.freeSlots(dir.cluster, n)
	if err != nil {
		return dirent{}, err
	}
	le := binary.LittleEndian
	sum := checksum(short)
	lfnCount := n - 1
	for i := 0; i < lfnCount; i++ {
		ord := lfnCount - i // slots[0] holds the last part
		e := make([]byte, 32)
		e[0] = byte(ord)
		if i == 0 {
			e[0] |= 0x40
		}
		e[11], e[13] = attrLFN, sum
		for k, p := range []int{1, 3, 5, 7, 9, 14, 16, 18, 20, 22, 24, 28, 30} {
			j := 13*(ord-1) + k
			v := uint16(0xFFFF)
			switch {
			case j < len(units):
				v = units[j]
			case j == len(units):
				v = 0
			}
			le.PutUint16(e[p:], v)
		}
		if err := f.putSlot(slots[i], e); err != nil {
			return dirent{}, err
		}
	}
	now := f.now()
	d := dirent{name: name, short: short, attr: attr, cluster: cluster, size: size, mtime: now,
		loc: slots[n-1], slots: slots}
	e := make([]byte, 32)
	copy(e, short[:])
	e[11] = attr
	date, tm := toDOS(now)
	le.PutUint16(e[14:], tm)
	le.PutUint16(e[16:], date)
	le.PutUint16(e[18:], date)
	le.PutUint16(e[22:], tm)
	le.PutUint16(e[24:], date)
	le.PutUint16(e[20:], uint16(cluster>>16))
	le.PutUint16(e[26:], uint16(cluster))
	le.PutUint32(e[28:], size)
	if err := f.putSlot(d.loc, e); err != nil {
		return dirent{}, err
	}
	return d, nil
}

func (f *FS) putSlot(l entryLoc, e []byte) error {
	b, err := f.metaSector(l.sector)
	if err != nil {
		return err
	}
	copy(b[l.off:l.off+32], e)
	f.dirtyMeta(l.sector)
	return nil
}

// freeSlots finds n consecutive free slots in the directory at first, growing it by a
// cluster when it has none.
func (f *FS) freeSlots(first uint32, n int) ([]entryLoc, error) {
	for {
		secs, err := f.dirSectors(first)
		if err != nil {
			return nil, err
		}
		var run []entryLoc
		for _, s := range secs {
			b, err := f.metaSector(s)
			if err != nil {
				return nil, err
			}
			for off := 0; off < SectorSize; off += 32 {
				if b[off] == 0 || b[off] == 0xE5 {
					run = append(run, entryLoc{s, off})
					if len(run) == n {
						return run, nil
					}
				} else {
					run = run[:0]
				}
			}
		}
		if len(secs) >= 65536*32/SectorSize {
			return nil, syscall.ENOSPC // FAT's limit of 65536 entries per directory
		}
		cs, _ := f.chain(first)
		nc, err := f.alloc(1, cs[len(cs)-1])
		if err != nil {
			return nil, err
		}
		f.zeroCluster(nc[0])
	}
}

// removeEntry marks every slot of d free.
func (f *FS) removeEntry(d dirent) error {
	for _, l := range d.slots {
		b, err := f.metaSector(l.sector)
		if err != nil {
			return err
		}
		b[l.off] = 0xE5
		f.dirtyMeta(l.sector)
	}
	return nil
}

// updateEntry writes cluster, size and mtime into the short entry at l.
func (f *FS) updateEntry(l entryLoc, cluster, size uint32, mtime time.Time) error {
	b, err := f.metaSector(l.sector)
	if err != nil {
		return err
	}
	e := b[l.off : l.off+32]
	le := binary.LittleEndian
	le.PutUint16(e[20:], uint16(cluster>>16))
	le.PutUint16(e[26:], uint16(cluster))
	le.PutUint32(e[28:], size)
	date, tm := toDOS(mtime)
	le.PutUint16(e[22:], tm)
	le.PutUint16(e[24:], date)
	if e[11]&attrDir == 0 {
		e[11] |= attrArchive
	}
	f.dirtyMeta(l.sector)
	return nil
}

func statOf(d dirent) fs.Stat {
	s := fs.Stat{Name: d.name, ModTime: d.mtime}
	if d.isDir() {
		s.Mode = iofs.ModeDir | 0o755
		return s
	}
	s.Size = int64(d.size)
	s.Mode = 0o644
	if d.attr&attrReadOnly != 0 {
		s.Mode = 0o444
	}
	return s
}

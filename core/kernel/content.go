package kernel

// The content store: the data files security modules load (rules, signatures, channel files),
// kept by the core so that a module cannot lose them by crashing and the supervisor can roll
// them back. It stands for the files on disk: the launcher passes each file as a Multiboot
// module at boot, and every change is printed on the console as a "disk: write" line that the
// launcher applies to its copy, so the next boot starts from what this one left (which is how
// a bad file survives a reboot and makes a boot loop).
//
// A module reads and writes the content files its policy names (content PATH rollback PATH);
// the core (ring 0) may use any. Each file keeps its current bytes and its last-known-good
// copy. A write makes the new bytes current and unconfirmed; the supervisor confirms them
// once the module has run with them for a while, rolls them back to last-known-good when the
// module crashes first, and quarantines their hash after repeated crashes, after which the
// store refuses them (EKEYREJECTED).
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"unsafe"

	"github.com/simpleos/simpleos/abi"
)

const (
	maxContentFiles = 4
	maxContentSize  = 64 << 10
	maxQuarantined  = 16

	EKEYREJECTED = 129 // content_write: these bytes are quarantined
)

type contentFile struct {
	used      bool
	name      abi.Name
	cur, lkg  [maxContentSize]byte
	curLen    int
	lkgLen    int
	curHash   uint64
	lkgHash   uint64
	confirmed bool  // cur is proven (it came from disk at boot, or the supervisor confirmed it)
	writtenAt int64 // when cur was written, monotonic ns
	writer    int32 // pid that wrote cur, 0 = the boot disk
	gen       uint64
}

var contentFiles [maxContentFiles]contentFile

var quarantine struct {
	hash [maxQuarantined]uint64
	n    int
}

// contentAccess[p] lists the content files process p's policy module names.
var contentAccess [maxProcs]nameList

// contentHash is FNV-1a (64-bit) over b[:n]: identifies a file's bytes for quarantine.
//
//go:nosplit
func contentHash(b *[maxContentSize]byte, n int) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < n && i < maxContentSize; i++ {
		h ^= uint64(b[i])
		h *= 1099511628211
	}
	return h
}

//go:nosplit
func contentFind(name *abi.Name) int {
	for i := range contentFiles {
		f := &contentFiles[i]
		if f.used && f.name.Equal(name) {
			return i
		}
	}
	return -1
}

//go:nosplit
func isQuarantined(h uint64) bool {
	for i := 0; i < quarantine.n && i < maxQuarantined; i++ {
		if quarantine.hash[i] == h {
			return true
		}
	}
	return false
}

// contentAllowed reports whether the calling process may use the named file.
//
//go:nosplit
func contentAllowed(name *abi.Name) bool {
	p := cur().proc & (maxProcs - 1)
	return procs[p].ring == 0 || contentAccess[p].has(name)
}

// sysContentRead(name, len, buf, size) copies up to size bytes of the current content of a
// file to buf and returns the file's length (larger than size: call again with more room).
//
//go:nosplit
func sysContentRead(tf *TrapFrame) int64 {
	var name abi.Name
	if !readName(uintptr(tf.RDI), uintptr(tf.RSI), &name) {
		return -EINVAL
	}
	if !contentAllowed(&name) {
		audit("read content", &name, "content")
		return -EPERM
	}
	i := contentFind(&name)
	if i < 0 {
		return -ENOENT
	}
	f := &contentFiles[i&(maxContentFiles-1)]
	size := uintptr(tf.R10)
	if size > uintptr(f.curLen) {
		size = uintptr(f.curLen)
	}
	if size > 0 && !curSpace().copyOut(uintptr(tf.RDX), uintptr(unsafe.Pointer(&f.cur[0])), size) {
		return -EFAULT
	}
	return int64(f.curLen)
}

// sysContentWrite(name, len, buf, n) replaces the current content of a file with n bytes at
// buf. The replaced bytes become last-known-good if they were confirmed. Quarantined bytes are
// refused with EKEYREJECTED.
//
//go:nosplit
func sysContentWrite(tf *TrapFrame) int64 {
	var name abi.Name
	if !readName(uintptr(tf.RDI), uintptr(tf.RSI), &name) {
		return -EINVAL
	}
	if !contentAllowed(&name) {
		audit("write content", &name, "content")
		return -EPERM
	}
	size := uintptr(tf.R10)
	if size > maxContentSize {
		return -EFBIG
	}
	i := contentFind(&name)
	if i < 0 {
		return -ENOENT
	}
	f := &contentFiles[i&(maxContentFiles-1)]
	// Stage into lkg's slot only after deciding what lkg keeps: copy in to a scratch area
	// first so that a bad pointer changes nothing.
	if size > 0 && !curSpace().copyIn(uintptr(unsafe.Pointer(&contentScratch[0])), uintptr(tf.RDX), size) {
		return -EFAULT
	}
	h := contentHash(&contentScratch, int(size))
	if isQuarantined(h) {
		kputLineStart()
		kputs("disk: refused ")
		kputName(&name)
		kputs(": quarantined content\n")
		return -EKEYREJECTED
	}
	if f.confirmed {
		f.lkg = f.cur
		f.lkgLen, f.lkgHash = f.curLen, f.curHash
	}
	copy(f.cur[:size], contentScratch[:size])
	f.curLen, f.curHash = int(size), h
	f.confirmed = false
	f.writtenAt = nanotime()
	f.writer = procs[cur().proc&(maxProcs-1)].pid
	f.gen++
	diskWrite(f)
	return 0
}

var contentScratch [maxContentSize]byte

// diskWrite prints the "disk: write NAME BYTES base64 DATA" line the launcher applies to its
// copy of the file.
//
//go:nosplit
func diskWrite(f *contentFile) {
	kputLineStart()
	kputs("disk: write ")
	kputName(&f.name)
	kputc(' ')
	kputDec(uint64(f.curLen))
	kputs(" base64 ")
	const enc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	const m = maxContentSize - 1
	n := f.curLen
	for i := 0; i < n; i += 3 {
		v := uint32(f.cur[i&m]) << 16
		if i+1 < n {
			v |= uint32(f.cur[(i+1)&m]) << 8
		}
		if i+2 < n {
			v |= uint32(f.cur[(i+2)&m])
		}
		kputc(enc[(v>>18)&63])
		kputc(enc[(v>>12)&63])
		if i+1 < n {
			kputc(enc[(v>>6)&63])
		} else {
			kputc('=')
		}
		if i+2 < n {
			kputc(enc[v&63])
		} else {
			kputc('=')
		}
	}
	kputc('\n')
}

// sysInjectReport(outcome) records what a fault injected into the calling task did (package
// inject/fault): 1 handled, 2 breach. The core's campaign runner reads it.
//
//go:nosplit
func sysInjectReport(tf *TrapFrame) int64 {
	if tf.RDI == 0 || tf.RDI > 2 {
		return -EINVAL
	}
	injectReports[cur().proc&(maxProcs-1)] = tf.RDI
	return 0
}

var injectReports [maxProcs]uint64

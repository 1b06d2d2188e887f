// Runs in trap context: nosplit, no allocation, no heap pointer writes.

package elfsym

import "unsafe"

const (
	typeFunc  = 2        // STT_FUNC
	maxName   = 512      // names are truncated here
	maxUnsize = 64 << 10 // how far a size-0 symbol may reach
)

// none marks "no symbol found" in the scans below.
const none = ^uintptr(0)

// entry returns the address of symbol n. Accessors read single fields so the linear
// scans keep small stack frames.
//
//go:nosplit
func (t *Table) entry(n uintptr) uintptr { return t.symtab + n*t.entsize }

//go:nosplit
func nameOff(e uintptr) uint32 { return read32(e) }

//go:nosplit
func value(e uintptr) uintptr { return uintptr(read64(e + 8)) }

//go:nosplit
func size(e uintptr) uintptr { return uintptr(read64(e + 16)) }

// defined skips undefined symbols (section index 0).
//
//go:nosplit
func defined(e uintptr) bool { return read16(e+6) != 0 }

//go:nosplit
func isFunc(e uintptr) bool { return read8(e+4)&0xf == typeFunc && defined(e) }

// name returns the symbol's name in place: up to the NUL, maxName bytes, or the end of
// the string table, whichever comes first. A bad offset gives "".
//
//go:nosplit
func (t Table) name(off uint32) string {
	if uintptr(off) >= t.strsize {
		return ""
	}
	start := t.strtab + uintptr(off)
	limit := min(t.strsize-uintptr(off), maxName)
	n := uintptr(0)
	for n < limit && read8(start+n) != 0 {
		n++
	}
	if n == 0 {
		return ""
	}
	// Built by its header: unsafe.String checks n, with a panic behind the check, and this
	// runs in the kernel's trap context.
	var str string
	h := (*[2]uintptr)(unsafe.Pointer(&str))
	h[0], h[1] = start, uintptr(int(n))
	return str
}

// Lookup returns the function containing pc and pc's offset into it. A sized symbol
// with value <= pc < value+size wins (the innermost if several overlap). Otherwise the
// nearest size-0 function at or below pc (assembly without a size) is used if it is
// within 64 KiB and no sized function starts between it and pc: pc after a sized
// function's end is in padding, not in the size-0 symbol.
//
//go:nosplit
func (t Table) Lookup(pc uintptr) (name string, offset uintptr, ok bool) {
	e := t.innermostSized(pc)
	if e == none {
		e = t.nearestUnsized(pc)
		if e == none || pc-value(e) >= maxUnsize || t.sizedStartIn(value(e), pc) {
			return "", 0, false
		}
	}
	return t.name(nameOff(e)), pc - value(e), true
}

// innermostSized returns the entry of the sized function containing pc with the
// highest start, or none.
//
//go:nosplit
func (t *Table) innermostSized(pc uintptr) uintptr {
	best := none
	for n := uintptr(0); n < t.count; n++ {
		e := t.entry(n)
		if !isFunc(e) || value(e) > pc || pc-value(e) >= size(e) {
			continue
		}
		if best == none || value(e) > value(best) {
			best = e
		}
	}
	return best
}

// nearestUnsized returns the entry of the size-0 function with the highest start <= pc,
// or none.
//
//go:nosplit
func (t *Table) nearestUnsized(pc uintptr) uintptr {
	best := none
	for n := uintptr(0); n < t.count; n++ {
		e := t.entry(n)
		if !isFunc(e) || size(e) != 0 || value(e) > pc {
			continue
		}
		if best == none || value(e) > value(best) {
			best = e
		}
	}
	return best
}

// sizedStartIn reports whether a sized function starts in [lo, hi].
//
//go:nosplit
func (t *Table) sizedStartIn(lo, hi uintptr) bool {
	for n := uintptr(0); n < t.count; n++ {
		e := t.entry(n)
		if isFunc(e) && size(e) != 0 && lo <= value(e) && value(e) <= hi {
			return true
		}
	}
	return false
}

// SymbolAddr returns the value of the first defined symbol (of any type) named name.
//
//go:nosplit
func (t Table) SymbolAddr(name string) (uintptr, bool) {
	if len(name) == 0 || len(name) >= maxName {
		return 0, false
	}
	for n := uintptr(0); n < t.count; n++ {
		e := t.entry(n)
		if defined(e) && t.nameIs(nameOff(e), name) {
			return value(e), true
		}
	}
	return 0, false
}

// nameIs compares the NUL-terminated string at off with want, inside the table.
//
//go:nosplit
func (t Table) nameIs(off uint32, want string) bool {
	if uintptr(off) >= t.strsize || t.strsize-uintptr(off) <= uintptr(len(want)) {
		return false // no room for want plus its NUL
	}
	at := t.strtab + uintptr(off)
	for k := 0; k < len(want); k++ {
		if read8(at+uintptr(k)) != want[k] {
			return false
		}
	}
	return read8(at+uintptr(len(want))) == 0
}

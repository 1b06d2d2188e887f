package arch

// The screen: the console mirrored on the machine's VGA text display, when it has one, and
// the crash screen.
//
// Every byte the console gets — Putc's, and package console's buffered output through
// ScreenPutc — is also written into a shadow of the screen in kernel memory: one store, no
// device access. The timer tick copies the cells that changed to the display at most ten
// times a second (ScreenTick), so the emulated device's slow writes are paid per repaint,
// never per byte, and the polled serial port stays the console of record. Rows 0-23 scroll
// like a terminal; row 24 is a status line.
//
// A crash report turns the screen into the crash screen (CrashScreen, called as the report
// begins): white on blue, a title, then the report itself as it is printed, as far as it
// fits. Halt shows it at once, with the machine's fate in the last row, and keeps it up for
// a moment (SetCrashScreenHold; 1.5 s by default) before it stops or resets the machine:
// long enough for a person, or the launcher's screendump, to see it.
//
// Without a display (QEMU's -vga none, the default machine) InitScreen finds no text buffer
// and every function here returns at its first test.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes. Indices into the
// shadow are masked to its size.

import (
	"github.com/simpleos/simpleos/core/x86"
	"github.com/simpleos/simpleos/core/x86/vga"
)

const (
	textRows  = vga.Rows - 1 // rows 0-23: console text; row 24: the status line
	ringRows  = 32           // rows of the shadow, a ring: screen row r is ring row first+r
	rowStride = 128          // cells per shadow row, 80 used: a row index and a column mask to the array
	cellsMask = ringRows*rowStride - 1
	shownMask = 2048 - 1 // vga.Cells rounded up to a power of two

	paintEvery = 100_000_000 // ns between repaints, at most

	// The crash screen: title in row 1, the report from row 5 to row 22, fate in row 24.
	crashBodyFirst = 5
	crashBodyEnd   = 23
	crashMargin    = 2

	wrapIndent = 2 // a wrapped line's continuation is indented by this much
)

// The colours. Constants: the boot, before the Go runtime has run any initialiser, uses them.
const (
	attrText   uint16 = vga.LightGrey<<vga.FgShift | vga.Black<<vga.BgShift
	attrStatus uint16 = vga.Black<<vga.FgShift | vga.LightGrey<<vga.BgShift
	attrCrash  uint16 = vga.White<<vga.FgShift | vga.Blue<<vga.BgShift
	attrTitle  uint16 = vga.Blue<<vga.FgShift | vga.LightGrey<<vga.BgShift
)

// screenState is the screen: the shadow of its cells and where the cursor is.
type screenState struct {
	base      uintptr // kernel address of the text buffer; 0: no display
	crash     bool    // the crash screen is up
	full      bool    // the crash screen's body is full: the rest of the report is not shown
	attr      uint16  // colours of the text being written
	first     uint32  // ring row at the top of the screen
	row, col  uint32  // where the next character goes: screen row, column
	margin    uint32  // column a new line starts at
	nextPaint int64   // Nanotime of the next repaint
	holdNs    int64   // how long Halt keeps the crash screen up
	cells     [ringRows * rowStride]uint16
	status    [rowStride]uint16
	shown     [shownMask + 1]uint16 // what the display holds, cell row*80+column
}

var screen screenState

// InitScreen looks for a VGA text buffer at base (the direct map of vga.TextPhys) and, if one
// answers, clears it and mirrors the console on it from now on. Boot context.
//
//go:nosplit
func InitScreen(base uintptr) {
	if hosted || !vga.Probe(base) {
		return
	}
	vga.HideCursor()
	screenStart(base)
}

// screenStart starts mirroring the console on the text buffer at base: a blank screen.
//
//go:nosplit
func screenStart(base uintptr) {
	s := &screen
	s.base = base
	s.attr = attrText
	s.holdNs = 1_500_000_000
	for i := range s.cells {
		s.cells[i] = attrText | ' '
	}
	screenStatus(0)
	for i := range s.shown {
		s.shown[i] = 0xffff // no cell has this value: the first paint writes every cell
	}
	screenPaint()
}

// ScreenOn reports whether the console is mirrored on a display.
//
//go:nosplit
func ScreenOn() bool { return screen.base != 0 }

// SetCrashScreenHold sets how long Halt keeps the crash screen up before it stops or resets
// the machine (crashscreen=MS on the kernel command line; 0: not at all).
//
//go:nosplit
func SetCrashScreenHold(ns int64) { screen.holdNs = ns }

// ScreenPutc mirrors one byte of console output on the screen.
//
//go:nosplit
func ScreenPutc(c byte) {
	if screen.base != 0 {
		screenPut(c)
	}
}

// screenPut writes one byte at the cursor: a newline, a carriage return, a printable ASCII
// character, or '?' for the first byte of a UTF-8 sequence (its other bytes are skipped);
// other control characters are ignored. A line that does not fit wraps at its last space,
// the rest indented by two; the last line scrolls, except on the crash screen, whose body
// keeps its first lines.
//
// One function without calls, on purpose: the crash path's deepest nosplit chains end here.
//
//go:nosplit
func screenPut(c byte) {
	s := &screen
	switch {
	case c == '\n':
	case c == '\r':
		s.col = s.margin
		return
	case c == '\t':
		c = ' '
	case c >= 0xc0:
		c = '?'
	case c < ' ' || c >= 0x7f:
		return
	}
	if s.full {
		return
	}
	if c == '\n' || s.col >= vga.Cols {
		// The line ends. A character that does not fit takes the word it continues along.
		old := ((s.first + s.row) % ringRows) * rowStride
		from := uint32(vga.Cols)
		if c != '\n' && c != ' ' {
			for p := uint32(vga.Cols - 1); p > s.margin+wrapIndent; p-- {
				if s.cells[(old+p)&cellsMask]&0xff == ' ' {
					from = p + 1
					break
				}
			}
		}
		switch {
		case s.crash:
			if s.row+1 >= crashBodyEnd {
				s.full = true
				return
			}
			s.row++
		case s.row+1 < textRows:
			s.row++
		default:
			s.first++ // scroll: the ring row below the screen becomes its last row
			r := ((s.first + textRows - 1) % ringRows) * rowStride
			for i := uint32(0); i < vga.Cols; i++ {
				s.cells[(r+i)&cellsMask] = s.attr | ' '
			}
		}
		s.col = s.margin
		if c == '\n' {
			return
		}
		s.col += wrapIndent
		next := ((s.first + s.row) % ringRows) * rowStride
		for p := from; p < vga.Cols; p++ {
			s.cells[(next+s.col)&cellsMask] = s.cells[(old+p)&cellsMask]
			s.cells[(old+p)&cellsMask] = s.attr | ' '
			s.col++
		}
		if c == ' ' {
			return
		}
	}
	s.cells[(((s.first+s.row)%ringRows)*rowStride+s.col)&cellsMask] = s.attr | uint16(c)
	s.col++
}

// screenText writes s into screen row r from column col, in colours attr, and returns the
// column after it.
//
//go:nosplit
func screenText(r, col uint32, s string, attr uint16) uint32 {
	base := ((screen.first + r) % ringRows) * rowStride
	for i := 0; i < len(s) && col < vga.Cols; i++ {
		screen.cells[(base+col)&cellsMask] = attr | uint16(s[i])
		col++
	}
	return col
}

// screenStatus writes the status line: the uptime in seconds.
//
//go:nosplit
func screenStatus(now int64) {
	s := &screen
	for i := range s.status {
		s.status[i] = attrStatus | ' '
	}
	const head = " SimpleOS | up "
	col := uint32(0)
	for i := 0; i < len(head); i++ {
		s.status[col&(rowStride-1)] = attrStatus | uint16(head[i])
		col++
	}
	sec := uint64(now / 1_000_000_000)
	d := uint64(1)
	for sec/10 >= d {
		d *= 10
	}
	for ; d > 0; d /= 10 {
		s.status[col&(rowStride-1)] = attrStatus | uint16('0'+sec/d%10)
		col++
	}
	const tail = " s | the console, mirrored; the serial port has the full log"
	for i := 0; i < len(tail) && col < vga.Cols; i++ {
		s.status[col&(rowStride-1)] = attrStatus | uint16(tail[i])
		col++
	}
}

// screenPaint copies the cells that changed since the last paint to the display.
//
//go:nosplit
func screenPaint() {
	s := &screen
	i := 0
	for r := uint32(0); r < vga.Rows; r++ {
		base := ((s.first + r) % ringRows) * rowStride
		for c := uint32(0); c < vga.Cols; c++ {
			v := s.status[c&(rowStride-1)]
			if r < textRows {
				v = s.cells[(base+c)&cellsMask]
			}
			if s.shown[i&shownMask] != v {
				s.shown[i&shownMask] = v
				vga.Put(s.base, i, v)
			}
			i++
		}
	}
}

// ScreenTick repaints the display when it is due (the timer interrupt calls it every tick).
//
//go:nosplit
func ScreenTick() {
	s := &screen
	if s.base == 0 || s.crash {
		return
	}
	now := Nanotime()
	if now < s.nextPaint {
		return
	}
	s.nextPaint = now + paintEvery
	screenStatus(now)
	screenPaint()
}

// CrashScreen puts up the crash screen: blue, a title, and the cursor at the top of its
// body, where the crash report about to be printed goes. A second call (a crash while
// reporting one) changes nothing.
//
//go:nosplit
func CrashScreen() {
	s := &screen
	if s.base == 0 || s.crash {
		return
	}
	s.crash = true
	for i := range s.cells {
		s.cells[i] = attrCrash | ' '
	}
	for i := range s.status {
		s.status[i] = attrCrash | ' '
	}
	const title = " SimpleOS "
	screenText(1, (vga.Cols-uint32(len(title)))/2, title, attrTitle)
	screenText(3, crashMargin, "The core crashed: a fault in ring 0, where nothing contains it.", attrCrash)
	s.attr = attrCrash
	s.row, s.col, s.margin = crashBodyFirst, crashMargin, crashMargin
}

// screenFate writes the crash screen's last row: what the machine does next.
//
//go:nosplit
func screenFate() {
	s := &screen
	for i := range s.status {
		s.status[i] = attrCrash | ' '
	}
	fate := "The machine stops. The full report is on the serial console."
	if resetOnCrash {
		fate = "The machine restarts (crash=reboot). The full report is on the serial console."
	}
	col := uint32(crashMargin)
	for i := 0; i < len(fate) && col < vga.Cols; i++ {
		s.status[col&(rowStride-1)] = attrCrash | uint16(fate[i])
		col++
	}
}

// screenHold waits for the crash screen's time on the display, with interrupts off. It
// counts TSC cycles itself: the crash path's deepest chains end here, with no room for a
// call to Nanotime.
//
//go:nosplit
func screenHold() {
	end := x86.Rdtsc() + uint64(screen.holdNs/1_000_000)*(tscHz/1000)
	for x86.Rdtsc() < end {
		x86.Pause()
	}
}

// screenFinal paints the screen as the machine stops; for a crash, the crash screen with the
// machine's fate in its last row. It reports whether Halt is to keep it up for the hold time
// (screenHold).
//
//go:nosplit
func screenFinal(status int) bool {
	crash := status == StatusCrash
	if crash {
		CrashScreen()
		screenFate()
	}
	screenPaint()
	return crash && screen.holdNs > 0
}

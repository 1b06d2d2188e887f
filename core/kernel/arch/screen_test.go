package arch

import (
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/core/x86/vga"
)

// display stands in for the VGA text buffer in host tests.
var display [vga.Cells]uint16

// startFakeScreen mirrors the console on display, as InitScreen does on the machine.
func startFakeScreen(t *testing.T) {
	t.Helper()
	screen = screenState{}
	display = [vga.Cells]uint16{}
	screenStart(uintptr(unsafe.Pointer(&display[0])))
	t.Cleanup(func() { screen = screenState{} })
}

func put(s string) {
	for i := 0; i < len(s); i++ {
		screenPut(s[i])
	}
}

// row is the text of display row r, trailing blanks cut.
func row(r int) string {
	var b strings.Builder
	for c := 0; c < vga.Cols; c++ {
		b.WriteByte(byte(display[r*vga.Cols+c]))
	}
	return strings.TrimRight(b.String(), " ")
}

func attrOf(r, c int) uint16 { return display[r*vga.Cols+c] & 0xff00 }

func TestScreenMirrorsLines(t *testing.T) {
	startFakeScreen(t)
	put("SimpleOS core: 64-bit entry\n[sensor] caf\xc3\xa9\tok\r\nx")
	screenPaint()
	assert.Equal(t, "SimpleOS core: 64-bit entry", row(0))
	assert.Equal(t, "[sensor] caf? ok", row(1), "a UTF-8 character is one '?', a tab a space")
	assert.Equal(t, "x", row(2))
	assert.Equal(t, attrText, attrOf(0, 0))
	assert.Equal(t, " SimpleOS | up 0 s | the console, mirrored; the serial port has the full log", row(vga.Rows-1))
	assert.Equal(t, attrStatus, attrOf(vga.Rows-1, 0))
}

func TestScreenWrapsAtASpaceAndScrolls(t *testing.T) {
	startFakeScreen(t)
	long := strings.Repeat("word ", 15) + "tail-of-the-line-that-does-not-fit"
	put(long + "\n")
	screenPaint()
	first, second := row(0), row(1)
	assert.LessOrEqual(t, len(first), vga.Cols)
	assert.Equal(t, strings.TrimSpace(long), strings.TrimSpace(first)+" "+strings.TrimSpace(second), "nothing lost at the wrap")
	assert.True(t, strings.HasPrefix(second, "  tail-of"), "the continuation is indented: %q", second)

	for i := 0; i < 40; i++ {
		put("line " + string(rune('A'+i%26)) + "\n")
	}
	screenPaint()
	// 42 lines written, 24 rows of text: the last line written is on row 22, an empty line below.
	assert.Equal(t, "line "+string(rune('A'+39%26)), row(textRows-2))
	assert.Equal(t, "", row(textRows-1))
	assert.Equal(t, "line "+string(rune('A'+(39-22)%26)), row(0))
}

func TestScreenPaintsOnlyChangedCells(t *testing.T) {
	startFakeScreen(t)
	put("abc")
	screenPaint()
	display[0] = 0 // the display lost a cell the shadow still has: an unchanged cell is not rewritten
	put("d")
	screenPaint()
	assert.Equal(t, uint16(0), display[0])
	assert.Equal(t, attrText|'d', display[3])
}

func TestCrashScreen(t *testing.T) {
	startFakeScreen(t)
	put("[app] app: 30/120 pipes created\n")
	CrashScreen()
	put("CORE CRASH: page fault (#PF) in github.com/simpleos/simpleos/tier2/sensor/content.GlobMatch+0x52: unexpected fault address 0xdead0000\n")
	for i := 0; i < 30; i++ {
		put("  frame\n")
	}
	require.True(t, screen.full, "the body keeps its first lines")
	screenFate()
	screenPaint()

	assert.Equal(t, "SimpleOS", strings.TrimSpace(row(1)))
	assert.Equal(t, attrTitle, attrOf(1, (vga.Cols-10)/2))
	assert.Contains(t, row(3), "The core crashed")
	assert.Equal(t, "  CORE CRASH: page fault (#PF) in", row(crashBodyFirst))
	assert.Equal(t, "    github.com/simpleos/simpleos/tier2/sensor/content.GlobMatch+0x52: unexpected", row(crashBodyFirst+1))
	assert.Equal(t, "    fault address 0xdead0000", row(crashBodyFirst+2))
	assert.Equal(t, "", row(crashBodyEnd), "nothing below the body")
	assert.Contains(t, row(vga.Rows-1), "The machine stops.")
	blue := 0
	for _, v := range display {
		if v&0xff00 == attrCrash {
			blue++
		}
	}
	assert.Greater(t, blue, vga.Cells*9/10, "white on blue")
	for r := 0; r < vga.Rows; r++ {
		assert.NotContains(t, row(r), "pipes created", "the console's text is gone")
	}

	CrashScreen() // a crash while reporting one: the same screen
	screenPaint()
	assert.Equal(t, "  CORE CRASH: page fault (#PF) in", row(crashBodyFirst))
}

func TestNoScreenNoMirror(t *testing.T) {
	screen = screenState{}
	ScreenPutc('x') // no display: nothing happens, nothing is touched
	ScreenTick()
	CrashScreen()
	assert.False(t, screen.crash)
	assert.False(t, ScreenOn())
}

package boot

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ppmBytes encodes a w x h PPM image whose pixel (x, y) is c(x, y), with a comment in its header.
func ppmBytes(w, h, maxval int, c func(x, y int) [3]int) []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "P6\n# made by a test\n%d %d\n%d\n", w, h, maxval)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for _, v := range c(x, y) {
				if maxval > 255 {
					b.WriteByte(byte(v >> 8))
				}
				b.WriteByte(byte(v))
			}
		}
	}
	return b.Bytes()
}

func TestDecodePPM(t *testing.T) {
	img, err := DecodePPM(bytes.NewReader(ppmBytes(3, 2, 255, func(x, y int) [3]int { return [3]int{x * 100, y * 200, 0xaa} })))
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 3, 2), img.Bounds())
	assert.Equal(t, color.RGBA{200, 200, 0xaa, 0xff}, img.At(2, 1))

	// 16-bit samples, and a maximum below 255, are scaled to 8 bits.
	img, err = DecodePPM(bytes.NewReader(ppmBytes(1, 1, 65535, func(x, y int) [3]int { return [3]int{65535, 0, 0x8080} })))
	require.NoError(t, err)
	assert.Equal(t, color.RGBA{0xff, 0, 0x80, 0xff}, img.At(0, 0))
	img, err = DecodePPM(bytes.NewReader(ppmBytes(1, 1, 63, func(x, y int) [3]int { return [3]int{0, 0, 42} })))
	require.NoError(t, err)
	assert.Equal(t, color.RGBA{0, 0, 0xaa, 0xff}, img.At(0, 0), "the VGA palette's blue, 42 of 63")

	for name, in := range map[string]string{
		"not ppm":         "P3\n1 1\n255\n0 0 0\n",
		"no size":         "P6\n",
		"zero size":       "P6 0 1 255\n",
		"bad maximum":     "P6 1 1 0\n",
		"junk in header":  "P6 1 x 255\n",
		"missing pixels":  "P6 2 2 255\nabc",
		"huge":            "P6 100000 100000 255\n",
		"number too long": "P6 99999999999999999999 1 255\n",
	} {
		_, err := DecodePPM(strings.NewReader(in))
		assert.Error(t, err, name)
	}
}

func TestPPMToPNG(t *testing.T) {
	dir := t.TempDir()
	in, out := filepath.Join(dir, "a.ppm"), filepath.Join(dir, "a.png")
	require.NoError(t, os.WriteFile(in, ppmBytes(4, 3, 255, func(x, y int) [3]int { return [3]int{0, 0, 0xaa} }), 0o644))
	require.NoError(t, PPMToPNG(in, out))
	f, err := os.Open(out)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	assert.Equal(t, image.Rect(0, 0, 4, 3), img.Bounds())
	r, g, b, _ := img.At(3, 2).RGBA()
	assert.Equal(t, [3]uint32{0, 0, 0xaaaa}, [3]uint32{r, g, b})
}

// fakeQMP serves QMP on a Unix socket as QEMU does, answering screendump by writing a small
// PPM file, with an event before each answer. It records the commands it got.
func fakeQMP(t *testing.T, socket string) <-chan string {
	t.Helper()
	l, err := net.Listen("unix", socket)
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	commands := make(chan string, 16)
	go func() {
		conn, err := l.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		fmt.Fprintln(conn, `{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}}, "capabilities": ["oob"]}}`)
		r := bufio.NewScanner(conn)
		for r.Scan() {
			var cmd struct {
				Execute   string            `json:"execute"`
				Arguments map[string]string `json:"arguments"`
			}
			if json.Unmarshal(r.Bytes(), &cmd) != nil {
				fmt.Fprintln(conn, `{"error": {"class": "GenericError", "desc": "bad JSON"}}`)
				continue
			}
			commands <- cmd.Execute
			fmt.Fprintln(conn, `{"event": "RESUME", "timestamp": {"seconds": 1, "microseconds": 2}}`)
			switch cmd.Execute {
			case "qmp_capabilities":
				fmt.Fprintln(conn, `{"return": {}}`)
			case "screendump":
				ppm := ppmBytes(8, 8, 255, func(x, y int) [3]int { return [3]int{0, 0, 0xaa} })
				if os.WriteFile(cmd.Arguments["filename"], ppm, 0o644) != nil {
					fmt.Fprintln(conn, `{"error": {"class": "GenericError", "desc": "cannot write"}}`)
					continue
				}
				fmt.Fprintln(conn, `{"return": {}}`)
			default:
				fmt.Fprintf(conn, `{"error": {"class": "CommandNotFound", "desc": "The command %s has not been found"}}`+"\n", cmd.Execute)
			}
		}
	}()
	return commands
}

func TestQMP(t *testing.T) {
	socket := filepath.Join(t.TempDir(), "qmp.sock")
	commands := fakeQMP(t, socket)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := dialQMP(ctx, socket)
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, "qmp_capabilities", <-commands)

	ppm := filepath.Join(t.TempDir(), "s.ppm")
	require.NoError(t, c.screendump(ppm))
	assert.FileExists(t, ppm)
	err = c.execute("no-such-command", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "CommandNotFound")
}

func TestQMPNoSocket(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err := dialQMP(ctx, filepath.Join(t.TempDir(), "none.sock"))
	require.Error(t, err)
}

func TestShooterTakesScreenshotsAtTheirCues(t *testing.T) {
	out := t.TempDir()
	start := time.Now()
	s, err := newShooter([]Screenshot{
		{Cue: CrashScreenCue, File: filepath.Join(out, "crash.png")},
		{Cue: "supervisor: sensor serving again", Delay: 10 * time.Millisecond, File: filepath.Join(out, "tiered.png")},
		{Cue: "never printed", File: filepath.Join(out, "never.png")},
		{Cue: "serving again", After: "quarantined after", File: filepath.Join(out, "after.png")},
		{Cue: "serving again", After: "not printed either", File: filepath.Join(out, "unarmed.png")},
	}, func() time.Duration { return time.Since(start) })
	require.NoError(t, err)
	fakeQMP(t, s.socket())
	s.connect(context.Background())

	// Cues arrive in pieces, and each is taken once.
	for _, chunk := range []string{"boot\nkernel: crash scr", "een on the display\r\n", "supervisor: sensor serving again 290ms after its crash\n",
		"supervisor: content sensor.chan quarantined after 3 crashes\n",
		"supervisor: sensor serving again 300ms after its crash\n", "kernel: crash screen on the display\n"} {
		_, err := s.Write([]byte(chunk))
		require.NoError(t, err)
	}
	shots := s.finish()
	require.Len(t, shots, 5)
	byFile := map[string]Shot{}
	for _, sh := range shots {
		byFile[filepath.Base(sh.File)] = sh
	}
	for _, name := range []string{"crash.png", "tiered.png", "after.png"} {
		require.NoError(t, byFile[name].Err, name)
		assert.Positive(t, byFile[name].At, name)
		f, err := os.Open(filepath.Join(out, name))
		require.NoError(t, err)
		_, err = png.Decode(f)
		f.Close()
		require.NoError(t, err, name)
	}
	require.Error(t, byFile["never.png"].Err)
	assert.Contains(t, byFile["never.png"].Err.Error(), "never came")
	assert.EqualError(t, byFile["unarmed.png"].Err, `its cue "serving again" after "not printed either" never came`)
	assert.NoDirExists(t, s.dir, "the socket's directory is removed")
}

func TestDisplayArgs(t *testing.T) {
	args, err := Options{Image: "img", Display: true}.Args("tcg")
	require.NoError(t, err)
	joined := strings.Join(args, " ")
	assert.Contains(t, joined, "-display none ")
	assert.Contains(t, joined, "-vga std ")
	assert.NotContains(t, joined, "-vga none")
	assert.NotContains(t, joined, "-qmp", "no socket: Run adds its own")

	args, err = Options{Image: "img", Display: true}.args("tcg", "/tmp/q,1/qmp.sock")
	require.NoError(t, err)
	assert.Contains(t, strings.Join(args, " "), "-vga std -qmp unix:/tmp/q,,1/qmp.sock,server=on,wait=off -nic none")

	_, err = Run(context.Background(), Options{Image: "/nonexistent", Screenshots: []Screenshot{{Cue: "x", File: "x.png"}}})
	require.Error(t, err)
}

package demo

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDiskWritesRoundTrip(t *testing.T) {
	tr := []byte("disk: write sensor.chan 5 base64 aGVsbG8=\nnoise disk: write sensor.chan 3 base64 YWJj\ndisk: write sensor.chan 3 base64 YWJj\n")
	ws, err := DiskWrites(tr)
	require.NoError(t, err)
	require.Len(t, ws, 2, "only whole lines count")
	assert.Equal(t, DiskWrite{"sensor.chan", []byte("hello")}, ws[0])
	assert.Equal(t, []byte("abc"), ws[1].Data)

	dir := t.TempDir()
	_, err = ApplyDiskWrites(dir, tr, map[string]bool{"sensor.chan": true})
	require.NoError(t, err)
	b, err := os.ReadFile(filepath.Join(dir, "sensor.chan"))
	require.NoError(t, err)
	assert.Equal(t, "abc", string(b), "the last write wins")
}

func TestDiskWritesRefuseDamageAndStrangers(t *testing.T) {
	_, err := DiskWrites([]byte("x\ndisk: write sensor.chan 9 base64 aGVsbG8=\n"))
	assert.EqualError(t, err, "transcript line 2: disk write of sensor.chan is damaged (9 bytes announced)")
	_, err = ApplyDiskWrites(t.TempDir(), []byte("disk: write passwd 3 base64 YWJj\n"), map[string]bool{"sensor.chan": true})
	assert.EqualError(t, err, `disk write to "passwd": not a content file of the manifest`)
}

func TestAnalyseTiered(t *testing.T) {
	lines := []Line{
		{100, "core: Go runtime main 60 ms after kernel entry"},
		{200, "[sensor] sensor: ready: content sensor.chan (channel 291, sequence 0, 3 instances)"},
		{300, "[sensor] sensor: content updated: C-00000291-00000002.sys (channel 291, sequence 2, 7 instances)"},
		{400, "supervisor: sensor crashed 12ms after writing content sensor.chan (channel 291 sequence 2, 534 bytes): rolled back to last-known-good (channel 291 sequence 1, 475 bytes); crash 3 of 3 with this content"},
		{401, "supervisor: content sensor.chan (channel 291 sequence 2, 534 bytes) quarantined after 3 crashes: the core refuses it from now on"},
		{402, "app sensor faulted: page fault (#PF) at x+0x1 addr=0xdead0000 [ring 2, pid 4, cpu 1ms; restart]"},
		{500, "supervisor: sensor serving again 120ms after its crash"},
		{900, "[app] app: done: 120/120 pipes created"},
	}
	r := &Result{Mode: "tiered", Boots: []*Boot{{Mode: "tiered", N: 1, Lines: lines, Duration: 1000}}}
	analyse(r)
	assert.True(t, r.Expected, r.Unmet)
	assert.Equal(t, 1, r.Crashes)
	assert.Equal(t, "120ms median, 120ms worst (crash to sensor serving again, kernel clock)", r.Recovery)
	assert.Equal(t, "120/120 pipes", r.AppWork)
	assert.Contains(t, Table([]*Result{r}), "| as expected | yes |")
}

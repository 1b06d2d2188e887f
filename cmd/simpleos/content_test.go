package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/simpleos/simpleos/tier2/sensor/content"
)

func TestContentCheck(t *testing.T) {
	dir := t.TempDir()
	good, bad := content.Fixtures()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		assert.NoError(t, os.WriteFile(p, b, 0o644))
		return p
	}
	g := write("good.sys", content.Encode(good))
	b := write("bad.sys", content.Encode(bad))
	cut := write("cut.sys", content.Encode(good)[:40])

	var out, errs bytes.Buffer
	assert.Equal(t, 0, contentMain([]string{"check", g}, &out, &errs))
	assert.Equal(t, g+": ok (channel 291, sequence 1, 6 instances)\n", out.String())

	out.Reset()
	assert.Equal(t, 1, contentMain([]string{"check", b, cut}, &out, &errs))
	assert.Contains(t, errs.String(), b+`: instance 7 ("NamedPipeC2") of template type 3 ("IPC") has a non-wildcard criterion on field 21, but the sensor supplies only 20 values`)
	assert.Contains(t, errs.String(), cut+": offset ")
	assert.Empty(t, out.String())

	assert.Equal(t, exitUsage, contentMain([]string{"check"}, &out, &errs))
}

package main

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/bench"
)

func TestParseBenchArgsDefaults(t *testing.T) {
	a, err := parseBenchArgs(nil)
	require.NoError(t, err)
	assert.Equal(t, benchArgs{
		Out:   filepath.Join("build", "bench"),
		Accel: "auto",
		Parts: bench.AllParts,
	}, a)
}

func TestParseBenchArgsFlags(t *testing.T) {
	a, err := parseBenchArgs([]string{"--full", "--out", "/tmp/b", "--accel", "tcg", "--no-linux"})
	require.NoError(t, err)
	assert.True(t, a.Full)
	assert.Equal(t, "/tmp/b", a.Out)
	assert.Equal(t, "tcg", a.Accel)
	assert.NotContains(t, a.Parts, bench.PartLinux)
	assert.Len(t, a.Parts, len(bench.AllParts)-1)

	a, err = parseBenchArgs([]string{"--quick", "--only", "micro, guest"})
	require.NoError(t, err)
	assert.False(t, a.Full)
	assert.Equal(t, []string{"micro", "guest"}, a.Parts)
}

func TestParseBenchArgsErrors(t *testing.T) {
	for want, args := range map[string][]string{
		"--quick and --full exclude each other":           {"--quick", "--full"},
		`unknown part "nope"`:                             {"--only", "micro,nope"},
		"--accel must be auto, kvm or tcg":                {"--accel", "hvf"},
		`unexpected argument "x"`:                         {"x"},
		"QEMU cannot pass files under a path with spaces": {"--out", "a b"},
		"flag provided but not defined: -fast":            {"--fast"},
	} {
		_, err := parseBenchArgs(args)
		require.Error(t, err, "%q", args)
		assert.Contains(t, err.Error(), want, "%q", args)
		assert.ErrorAs(t, err, new(usageError))
	}
}

func TestBenchEnvs(t *testing.T) {
	assert.Equal(t, []bench.Env{bench.EnvTCG, bench.EnvTCGIcount}, benchEnvs("tcg"))
	assert.Equal(t, []bench.Env{bench.EnvKVM, bench.EnvTCGIcount}, benchEnvs("kvm"), "-icount needs TCG")
}

func TestBenchIsACommand(t *testing.T) {
	found := false
	for _, c := range commands {
		found = found || c.name == "bench"
	}
	assert.True(t, found)
}

package main

import (
	"errors"
	"flag"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/boot"
)

func TestParseRunArgsDefaults(t *testing.T) {
	o, err := parseRunArgs(nil)
	require.NoError(t, err)
	assert.Equal(t, boot.Options{MemMB: 256, SMP: 1, Accel: "auto"}, o)
}

func TestParseRunArgsAllFlags(t *testing.T) {
	o, err := parseRunArgs([]string{
		"--append", "selftest=primes:100000", "--timeout", "90s", "--mem", "512", "--smp=2",
		"--gdb", "--accel", "tcg", "-icount", "shift=0",
	})
	require.NoError(t, err)
	assert.Equal(t, boot.Options{
		Append:  "selftest=primes:100000",
		Timeout: 90 * time.Second,
		MemMB:   512,
		SMP:     2,
		GDB:     true,
		Accel:   "tcg",
		Icount:  "shift=0",
	}, o)
}

func TestParseRunArgsRejectsBadInput(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--mem", "abc"}, "-mem"},
		{[]string{"--mem", "0"}, "--mem"},
		{[]string{"--smp", "-1"}, "--smp"},
		{[]string{"--accel", "foo"}, `"foo"`},
		{[]string{"--timeout", "xyz"}, "-timeout"},
		{[]string{"--timeout", "-5s"}, "--timeout"},
		{[]string{"--bogus"}, "bogus"},
		{[]string{"extra"}, `"extra"`},
		{[]string{"--gdb", "extra"}, `"extra"`},
		{[]string{"--accel", "kvm", "--icount", "shift=0"}, "icount"},
		{[]string{"--append"}, "append"},
	} {
		_, err := parseRunArgs(c.args)
		if assert.Error(t, err, "%q", c.args) {
			assert.ErrorAs(t, err, new(usageError), "%q exits 2", c.args)
			assert.Contains(t, err.Error(), c.want, "%q", c.args)
		}
	}
}

func TestParseRunArgsHelp(t *testing.T) {
	_, err := parseRunArgs([]string{"-h"})
	assert.True(t, errors.Is(err, flag.ErrHelp))
}

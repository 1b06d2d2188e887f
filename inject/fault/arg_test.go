package fault

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseArgRoundTrip(t *testing.T) {
	for _, s := range []Spec{
		{Class: Panic},
		{Class: OOBRead, Delay: 1500 * time.Millisecond},
		{Class: SyscallStorm, Delay: 10 * time.Millisecond, Seed: 18446744073709551615},
		{Class: WildWriteCore, Seed: 7, Targets: Targets{CoreAddr: 0x200000}},
		{Class: WildWriteTask, Delay: time.Second, Targets: Targets{TaskAddr: 0xffff800000100000}},
		{Class: Kill, Delay: 3 * time.Millisecond, Seed: 1, Targets: Targets{CoreAddr: 0x201000, TaskAddr: 0xffff800001234000}},
	} {
		arg := s.Arg()
		got, ok, err := ParseArg(arg)
		require.NoError(t, err, arg)
		assert.True(t, ok, arg)
		assert.Equal(t, s, got, arg)
	}
}

func TestParseArgForms(t *testing.T) {
	for arg, want := range map[string]Spec{
		"-inject=panic,0":                     {Class: Panic},
		"-inject=div-zero,250,42":             {Class: DivZero, Delay: 250 * time.Millisecond, Seed: 42},
		"-inject=wild-write-core,5,1,0x1000":  {Class: WildWriteCore, Delay: 5 * time.Millisecond, Seed: 1, Targets: Targets{CoreAddr: 0x1000}},
		"-inject=kill,0,0,0X0,0xFFFF80000000": {Class: Kill, Targets: Targets{TaskAddr: 0xffff80000000}},
	} {
		got, ok, err := ParseArg(arg)
		require.NoError(t, err, arg)
		assert.True(t, ok, arg)
		assert.Equal(t, want, got, arg)
	}
	assert.Equal(t, "-inject=panic,0", Spec{Class: Panic, Delay: -time.Second}.Arg())
	assert.Equal(t, "-inject=panic,1", Spec{Class: Panic, Delay: 1999 * time.Microsecond}.Arg())
	assert.Equal(t, "-inject=bad-ipc,0,0,0x0,0x10", Spec{Class: BadIPC, Targets: Targets{TaskAddr: 0x10}}.Arg())
}

func TestParseArgNotOurs(t *testing.T) {
	for _, arg := range []string{"", "-v", "inject=panic,0", "--inject=panic,0", "-injects=panic,0", "-inject"} {
		_, ok, err := ParseArg(arg)
		assert.False(t, ok, arg)
		assert.NoError(t, err, arg)
	}
}

func TestParseArgMalformed(t *testing.T) {
	for arg, problem := range map[string]string{
		"-inject=":                              "missing class",
		"-inject=,5":                            "missing class",
		"-inject=nosuch,5":                      `unknown class "nosuch"`,
		"-inject=Panic,5":                       `unknown class "Panic"`,
		"-inject=panic":                         "missing delay",
		"-inject=panic,":                        `bad delay ""`,
		"-inject=panic,abc":                     `bad delay "abc"`,
		"-inject=panic,1.5":                     `bad delay "1.5"`,
		"-inject=panic,+5":                      `bad delay "+5"`,
		"-inject=panic,0x10":                    `bad delay "0x10"`,
		"-inject=panic,-5":                      "negative delay -5 ms",
		"-inject=panic,99999999999999999999":    "delay 99999999999999999999 ms too large",
		"-inject=panic,9223372036855":           "delay 9223372036855 ms too large",
		"-inject=panic,0,x":                     `bad seed "x"`,
		"-inject=panic,0,-1":                    `bad seed "-1"`,
		"-inject=panic,0,18446744073709551616":  `bad seed "18446744073709551616"`,
		"-inject=panic,0,1,200000":              `bad core address "200000"`,
		"-inject=panic,0,1,0x":                  `bad core address "0x"`,
		"-inject=panic,0,1,0xg":                 `bad core address "0xg"`,
		"-inject=panic,0,1,0x-1":                `bad core address "0x-1"`,
		"-inject=panic,0,1,0x10000000000000000": `bad core address "0x10000000000000000"`,
		"-inject=panic,0,1,0x1,zz":              `bad task address "zz"`,
		"-inject=panic,0,1,0x1,0x2,0x3":         "too many fields (6",
		"-inject=panic,0,1,0x1,0x2,":            "too many fields (6",
	} {
		s, ok, err := ParseArg(arg)
		assert.True(t, ok, arg)
		assert.Equal(t, Spec{}, s, arg)
		if assert.Error(t, err, arg) {
			assert.Contains(t, err.Error(), problem, arg)
			assert.Contains(t, err.Error(), arg, "the error names the argument")
		}
	}
}

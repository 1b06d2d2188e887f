package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestDispatchUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"help"}, {"--help"}, {"frobnicate"}} {
		var stderr bytes.Buffer
		assert.Equal(t, 2, dispatch(args, &stderr), "%q", args)
		assert.Contains(t, stderr.String(), "usage: simpleos <command>", "%q", args)
		for _, c := range commands {
			assert.Contains(t, stderr.String(), c.name)
		}
	}
	var stderr bytes.Buffer
	dispatch([]string{"frobnicate"}, &stderr)
	assert.Contains(t, stderr.String(), `unknown command "frobnicate"`)
}

func TestDispatchRunsCommand(t *testing.T) {
	saved := commands
	t.Cleanup(func() { commands = saved })
	var got []string
	commands = append(commands, command{"probe", "test only", func(args []string) int { got = args; return 7 }})

	assert.Equal(t, 7, dispatch([]string{"probe", "a", "b"}, &bytes.Buffer{}))
	assert.Equal(t, []string{"a", "b"}, got)
}

package supervisor

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOnlyExitZeroIsClean(t *testing.T) {
	assert.True(t, End{Reason: Exited, Code: 0}.Clean())
	assert.False(t, End{Reason: Exited, Code: 1}.Clean())
	assert.False(t, End{Reason: Faulted}.Clean())
	assert.False(t, End{Reason: Panicked, Code: 2}.Clean())
	assert.False(t, End{Reason: Killed}.Clean(), "a kill with code 0 is still a kill")
}

func TestEndStringNamesTheCause(t *testing.T) {
	assert.Equal(t, "exited 3", End{Reason: Exited, Code: 3}.String())
	assert.Equal(t, "faulted: page fault at pc 0x401000, address 0xdead", End{Reason: Faulted, Fault: "page fault", PC: 0x401000, Addr: 0xdead}.String())
	assert.Equal(t, "panicked (exit 2): runtime error: index out of range", End{Reason: Panicked, Code: 2, Detail: "runtime error: index out of range"}.String())
	assert.Equal(t, "killed: heartbeat missed", End{Reason: Killed, Detail: "heartbeat missed"}.String())
	for r, name := range map[EndReason]string{Exited: "exited", Faulted: "faulted", Panicked: "panicked", Killed: "killed", 9: "EndReason(9)"} {
		assert.Equal(t, name, r.String())
	}
}

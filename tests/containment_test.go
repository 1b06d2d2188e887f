package tests

// Containment against hostile tasks: each test here attacks one interface of the core the way
// a malicious module would, from rings 1, 2 and 3, and checks that the core survives, the
// attacker gets an error or a fault, and bystanders are untouched. Each started as the
// reproduction of a hole (docs/security.md lists them).

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// Hole 1: trap entry took "came from the kernel" from bit 63 of the interrupted RSP, which the
// task chooses, and built its trap frame at that address of the core's direct map.
func TestTrapWithAKernelStackPointerIsTheTasks(t *testing.T) {
	t.Parallel()
	var apps []string
	for _, ring := range []int{1, 2, 3} {
		apps = append(apps,
			fmt.Sprintf("ring=%d attack ksp 0xffff800000400000", ring),
			fmt.Sprintf("ring=%d attack kspin 0xffff800000400000", ring),
			fmt.Sprintf("ring=%d attack ksp 0xffffff800000a000", ring), // the top of its own entry stack
		)
	}
	res := bootApps(t, "", 2*time.Minute, nil, append(apps, "hello")...)
	for i := range apps {
		name := "attack"
		if i > 0 {
			name = fmt.Sprintf("attack-%d", i+1)
		}
		assert.Equal(t, "app "+name+" exited 0", summary(t, res.Output, name), apps[i])
	}
	assert.Regexp(t, `\[attack-2\] attack: ring 1: 1 attacks, 1 passed, 0 breaches, 0 mismatches`, string(res.Output))
	assert.Equal(t, "app hello exited 0", summary(t, res.Output, "hello"))
}

// The instruction-level attacks of inject/attack (hostile stacks with every trap, every INT n,
// RFLAGS bits, privileged and I/O instructions, accesses and jumps into the kernel, segment
// loads and far returns), from every ring at once.
func TestInstructionLevelAttacksFromEveryRing(t *testing.T) {
	t.Parallel()
	res := bootApps(t, "", 3*time.Minute, nil, "ring=1 attack insns", "ring=2 attack insns", "ring=3 attack insns", "hello")
	out := string(res.Output)
	for i, ring := range []int{1, 2, 3} {
		name := "attack"
		if i > 0 {
			name = fmt.Sprintf("attack-%d", i+1)
		}
		assert.Regexp(t, fmt.Sprintf(`\[%s\] attack: ring %d: (\d+) attacks, (\d+) passed, 0 breaches, 0 mismatches`, name, ring), out)
		assert.Equal(t, "app "+name+" exited 0", summary(t, res.Output, name))
	}
	assert.NotContains(t, out, "attack: breach")
	assert.Equal(t, "app hello exited 0", summary(t, res.Output, "hello"))
}

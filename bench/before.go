package bench

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// BeforeIPCWork holds the -icount figures (guest instructions per operation) of the kernel as
// issue 15 ("IPC at seL4's level") found it, measured by this harness on the same QEMU:
// the rows the report keeps beside today's. Rows that did not exist then (four words, the
// runtime-free loops, IPC buffers, ring 2 to ring 1) have none.
var BeforeIPCWork = map[string]float64{
	"IPCCallReply/r3-r2/fast":          6091,
	"IPCCallReply/r3-r1/fast":          6143,
	"IPCCallReply/r3-r2-filtered/fast": 6350,
	"IPCCallReply/r3-r2/slow":          8929,
	"IPCCallReply/r3-r1/slow":          9136,
	"Syscall/getppid/r3":               284,
	"Guest/sched/yield/simpleos":       3051,
	"ThreadSwitch/futex":               2703,
}

// beforeGroups are the benchmark groups the before/after table shows.
var beforeGroups = []string{"IPCCallReply/", "Syscall/", "ThreadSwitch/", "Guest/sched/yield/simpleos"}

// beforeTable writes, for each -icount environment, every IPC, system-call and switch figure
// beside its value before issue 15.
func (r *Report) beforeTable(b *strings.Builder) {
	var rows []string
	for _, f := range r.Figures {
		e := r.envOf(f)
		if f.System != SimpleOS || !f.Instructions(e) {
			continue
		}
		if !slices.ContainsFunc(beforeGroups, func(g string) bool { return strings.HasPrefix(f.Name, g) }) {
			continue
		}
		before, change := "— (new)", "—"
		if v, ok := BeforeIPCWork[f.Name]; ok {
			before = num(v)
			change = "0%"
			if pct := math.Round(100 * (f.NsPerOp/v - 1)); pct != 0 {
				change = fmt.Sprintf("%+.0f%%", pct)
			}
		}
		rows = append(rows, fmt.Sprintf("| %s | %s | %s | %s | %s |", f.Name, e.Name, before, num(f.NsPerOp), change))
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("## Before and after issue 15 (IPC at seL4's level)\n\n" +
		"Guest instructions per operation under -icount: the kernel as issue 15 found it, and this run. " +
		"docs/benchmarks.md has the steps between.\n\n" +
		"| benchmark | environment | before | now | change |\n|---|---|--:|--:|--:|\n")
	for _, row := range rows {
		b.WriteString(row + "\n")
	}
	b.WriteString("\n")
}

package campaign

// The plan: scenarios expanded into numbered injections, sharded, cut into per-boot chunks and
// written out for the core.

import (
	"bytes"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// PlanMarker is the second word of the Multiboot module string that carries a plan
// ("PATH simpleos-inject").
const PlanMarker = "simpleos-inject"

// Injection is one planned fault.
type Injection struct {
	ID       int // 1..N in plan order
	Scenario string
	Class    string
	Target   string
	After    time.Duration
}

// Expand numbers the scenarios' injections 1..N, spreading them evenly over the plan: each
// fault class takes every (N/its count)-th place or so, and within a class each of its
// scenarios does the same. So any consecutive stretch of the plan (a boot's chunk) samples
// every class in proportion to its count, even the rare ones; scenarios with equal counts and
// different classes simply take turns (round robin).
func Expand(scs []Scenario) []Injection {
	var order []string // classes in order of first appearance
	byClass := map[string][]int{}
	for i, s := range scs {
		if byClass[s.Class] == nil {
			order = append(order, s.Class)
		}
		byClass[s.Class] = append(byClass[s.Class], i)
	}
	// Within each class: the sequence of its scenarios.
	seq := map[string][]int{}
	classCounts := make([]int, len(order))
	for ci, c := range order {
		members := byClass[c]
		counts := make([]int, len(members))
		for k, i := range members {
			counts[k] = scs[i].Count
		}
		for _, sl := range spread(counts) {
			seq[c] = append(seq[c], members[sl.i])
		}
		classCounts[ci] = len(seq[c])
	}
	var plan []Injection
	for _, sl := range spread(classCounts) {
		s := scs[seq[order[sl.i]][sl.k]]
		plan = append(plan, Injection{ID: len(plan) + 1, Scenario: s.Name, Class: s.Class, Target: s.Target, After: s.After})
	}
	return plan
}

// slot is the k-th item of the i-th list.
type slot struct{ i, k int }

// spread interleaves lists of the given lengths evenly: the k-th of c items sits at fraction
// (k+½)/c, ties going to the earlier list, compared exactly by cross-multiplication.
func spread(counts []int) []slot {
	var slots []slot
	for i, c := range counts {
		for k := range c {
			slots = append(slots, slot{i, k})
		}
	}
	sort.Slice(slots, func(a, b int) bool {
		x, y := slots[a], slots[b]
		l := int64(2*x.k+1) * int64(counts[y.i])
		r := int64(2*y.k+1) * int64(counts[x.i])
		if l != r {
			return l < r
		}
		return x.i < y.i
	})
	return slots
}

// Shard selects every Count-th injection starting with the Index-th (1-based): ids with
// (id-1) % Count == Index-1. The zero Shard is the whole plan, like 1/1.
type Shard struct {
	Index int `json:"index"`
	Count int `json:"count"`
}

// ParseShard parses "i/n" with 1 <= i <= n.
func ParseShard(s string) (Shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || strings.HasPrefix(a, "+") || strings.HasPrefix(b, "+") {
		return Shard{}, fmt.Errorf("shard %q: want i/n, e.g. 2/4", s)
	}
	if n < 1 || i < 1 || i > n {
		return Shard{}, fmt.Errorf("shard %q: want 1 <= i <= n", s)
	}
	return Shard{Index: i, Count: n}, nil
}

func (s Shard) norm() Shard {
	if s.Count == 0 {
		return Shard{Index: 1, Count: 1}
	}
	return s
}

// Whole reports whether s is the whole plan (1/1).
func (s Shard) Whole() bool { return s.norm().Count == 1 }

func (s Shard) String() string {
	s = s.norm()
	return fmt.Sprintf("%d/%d", s.Index, s.Count)
}

// Keep reports whether the injection with this id belongs to the shard.
func (s Shard) Keep(id int) bool {
	s = s.norm()
	return (id-1)%s.Count == s.Index-1
}

// Select returns the injections of plan that belong to the shard.
func (s Shard) Select(plan []Injection) []Injection {
	var out []Injection
	for _, in := range plan {
		if s.Keep(in.ID) {
			out = append(out, in)
		}
	}
	return out
}

// Chunks cuts plan into consecutive pieces of at most perBoot injections: one per boot.
func Chunks(plan []Injection, perBoot int) [][]Injection {
	if perBoot < 1 {
		perBoot = 1
	}
	var out [][]Injection
	for len(plan) > 0 {
		n := min(perBoot, len(plan))
		out = append(out, plan[:n:n])
		plan = plan[n:]
	}
	return out
}

// PlanText is the plan module's contents: one "ID CLASS TARGET DELAY_MS" line per injection.
func PlanText(plan []Injection) []byte {
	var b bytes.Buffer
	for _, in := range plan {
		fmt.Fprintf(&b, "%d %s %s %d\n", in.ID, in.Class, in.Target, in.After.Milliseconds())
	}
	return b.Bytes()
}

// PlanModule is the Multiboot module string for a plan file at path (absolute, no spaces).
func PlanModule(path string) (string, error) {
	if strings.ContainsAny(path, " \t\n") {
		return "", fmt.Errorf("plan file %s: QEMU cannot pass a path with spaces as a module; use an output folder without spaces", path)
	}
	return path + " " + PlanMarker, nil
}

// Cmdline is the kernel command line words that start the in-guest runner: the deployment and
// the campaign's seed, from which the core derives each injection's random choices (such as
// which bit flips) together with the injection's id. The monolithic deployment also links the
// block driver into the core (blk=monolithic) and leaves the IOMMU off (iommu=off), as a
// monolithic kernel runs: its device's DMA is not confined. Crash dumps are kept short
// (crashdump=short): the goroutine that crashed, not every goroutine of every crash.
func Cmdline(deployment string, seed uint64) string {
	if deployment == Monolithic {
		return fmt.Sprintf("inject=on sensor=%s blk=monolithic iommu=off crashdump=short inject.seed=%d", deployment, seed)
	}
	return fmt.Sprintf("inject=on sensor=%s crashdump=short inject.seed=%d", deployment, seed)
}

package campaign

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func sc(name, class, target string, count int) Scenario {
	return Scenario{Name: name, Class: class, Target: target, Count: count, After: 5 * time.Millisecond, Expect: []string{Restarted}}
}

func TestExpandRoundRobin(t *testing.T) {
	plan := Expand([]Scenario{sc("a", "panic", "sensor", 2), sc("b", "kill", "console", 2), sc("c", "null-deref", "pipesvc", 2)})
	var got []string
	for i, in := range plan {
		assert.Equal(t, i+1, in.ID)
		got = append(got, in.Scenario)
	}
	assert.Equal(t, []string{"a", "b", "c", "a", "b", "c"}, got)
	assert.Equal(t, Injection{ID: 2, Scenario: "b", Class: "kill", Target: "console", After: 5 * time.Millisecond}, plan[1])
}

func TestExpandSpreadsClassesEvenly(t *testing.T) {
	scs := []Scenario{
		sc("big", "panic", "sensor", 90),
		sc("rare", "endless-loop", "sensor", 3),
		sc("k1", "kill", "sensor", 4), sc("k2", "kill", "console", 2), // one class, two scenarios
	}
	plan := Expand(scs)
	require.Len(t, plan, 99)
	counts := map[string]int{}
	var rare, kills []int
	for _, in := range plan {
		counts[in.Scenario]++
		switch in.Class {
		case "endless-loop":
			rare = append(rare, in.ID)
		case "kill":
			kills = append(kills, in.ID)
		}
	}
	assert.Equal(t, map[string]int{"big": 90, "rare": 3, "k1": 4, "k2": 2}, counts)
	assert.Equal(t, []int{17, 50, 83}, rare, "every third of the plan")
	assert.Len(t, kills, 6)
	for i := 1; i < len(kills); i++ {
		gap := kills[i] - kills[i-1]
		assert.True(t, gap >= 15 && gap <= 18, "kills evenly spaced: %v", kills)
	}
	// Within the kill class the two scenarios alternate in proportion: k1 k2 k1 k1 k2 k1 or so.
	var kindOrder []string
	for _, in := range plan {
		if in.Class == "kill" {
			kindOrder = append(kindOrder, in.Scenario)
		}
	}
	assert.Equal(t, []string{"k1", "k2", "k1", "k1", "k2", "k1"}, kindOrder)
	assert.Empty(t, Expand(nil))
}

func TestShardsPartitionThePlan(t *testing.T) {
	plan := Expand([]Scenario{sc("a", "panic", "sensor", 37), sc("b", "kill", "console", 20)})
	for _, n := range []int{1, 2, 3, 7, 57, 100} {
		seen := map[int]int{}
		total := 0
		for i := 1; i <= n; i++ {
			s := Shard{Index: i, Count: n}
			part := s.Select(plan)
			total += len(part)
			for _, in := range part {
				seen[in.ID]++
				assert.Equal(t, i-1, (in.ID-1)%n)
			}
			assert.InDelta(t, float64(len(plan))/float64(n), float64(len(part)), 1, "shard %v balanced", s)
		}
		assert.Equal(t, len(plan), total, "n=%d", n)
		for id := 1; id <= len(plan); id++ {
			assert.Equal(t, 1, seen[id], "n=%d id=%d in exactly one shard", n, id)
		}
	}
	assert.Equal(t, plan, Shard{}.Select(plan), "the zero shard is everything")
	assert.True(t, Shard{}.Whole())
	assert.Equal(t, "1/1", Shard{}.String())
}

func TestParseShard(t *testing.T) {
	s, err := ParseShard("2/4")
	require.NoError(t, err)
	assert.Equal(t, Shard{Index: 2, Count: 4}, s)
	assert.Equal(t, "2/4", s.String())
	assert.False(t, s.Whole())
	for _, bad := range []string{"", "2", "2/", "/4", "0/4", "5/4", "-1/4", "1/0", "a/b", "+1/2", "1/+2", "1/2/3", " 1/2"} {
		_, err := ParseShard(bad)
		assert.Error(t, err, "%q", bad)
	}
}

func TestChunks(t *testing.T) {
	plan := Expand([]Scenario{sc("a", "panic", "sensor", 7)})
	chunks := Chunks(plan, 3)
	require.Len(t, chunks, 3)
	assert.Equal(t, []int{3, 3, 1}, []int{len(chunks[0]), len(chunks[1]), len(chunks[2])})
	assert.Equal(t, 4, chunks[1][0].ID)
	assert.Len(t, Chunks(plan, 0), 7, "at least one per boot")
	assert.Empty(t, Chunks(nil, 5))
	// Appending to a chunk never overwrites the next.
	_ = append(chunks[0], Injection{ID: 99})
	assert.Equal(t, 4, chunks[1][0].ID)
}

func TestPlanTextAndModule(t *testing.T) {
	plan := []Injection{
		{ID: 3, Class: "null-deref", Target: "sensor", After: 20 * time.Millisecond},
		{ID: 9, Class: "kill", Target: "pipesvc", After: 0},
		{ID: 12, Class: "bitflip-code", Target: "console", After: 10 * time.Second},
	}
	assert.Equal(t, "3 null-deref sensor 20\n9 kill pipesvc 0\n12 bitflip-code console 10000\n", string(PlanText(plan)))
	m, err := PlanModule("/out/plans/tiered-boot-001.plan")
	require.NoError(t, err)
	assert.Equal(t, "/out/plans/tiered-boot-001.plan simpleos-inject", m)
	_, err = PlanModule("/my dir/p.plan")
	assert.ErrorContains(t, err, "spaces")
	assert.Equal(t, "inject=on sensor=tiered crashdump=short inject.seed=7", Cmdline(Tiered, 7))
	assert.Equal(t, "inject=on sensor=monolithic blk=monolithic iommu=off crashdump=short inject.seed=1", Cmdline(Monolithic, 1))
}

func TestBootTimeoutGrowsWithThePlan(t *testing.T) {
	small := BootTimeout([]Injection{{ID: 1}})
	var big []Injection
	for i := range 150 {
		big = append(big, Injection{ID: i + 1, After: time.Second})
	}
	assert.Equal(t, 93*time.Second, small)
	assert.Equal(t, 90*time.Second+150*4*time.Second, BootTimeout(big))
	assert.Equal(t, fmt.Sprint(90*time.Second), fmt.Sprint(BootTimeout(nil)))
}

package campaign

import (
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// env is a getenv over a map.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// slurmArray is the environment of task id of an array with these indices, as Slurm 22.05
// sets it (checked on a one-node cluster: --array=1,3,5 gives MIN 1, MAX 5, STEP 1, COUNT 3).
func slurmArray(id, lo, hi, step, count int) map[string]string {
	itoa := strconv.Itoa
	return map[string]string{
		"SLURM_JOB_ID":           "107",
		"SLURM_ARRAY_JOB_ID":     "100",
		"SLURM_ARRAY_TASK_ID":    itoa(id),
		"SLURM_ARRAY_TASK_MIN":   itoa(lo),
		"SLURM_ARRAY_TASK_MAX":   itoa(hi),
		"SLURM_ARRAY_TASK_STEP":  itoa(step),
		"SLURM_ARRAY_TASK_COUNT": itoa(count),
	}
}

func TestAutoShardSlurmRanges(t *testing.T) {
	for _, c := range []struct {
		spec                 string
		id, lo, hi, step, n  int
		wantIndex, wantCount int
	}{
		{"0-3", 0, 0, 3, 1, 4, 1, 4},
		{"0-3", 3, 0, 3, 1, 4, 4, 4},
		{"1-4", 1, 1, 4, 1, 4, 1, 4},
		{"1-4", 4, 1, 4, 1, 4, 4, 4},
		{"1-4", 2, 1, 4, 1, 4, 2, 4},
		{"0-6:2", 4, 0, 6, 2, 4, 3, 4},
		{"5-5", 5, 5, 5, 1, 1, 1, 1},
		{"10-19", 15, 10, 19, 1, 10, 6, 10},
	} {
		s, note, err := AutoShard(env(slurmArray(c.id, c.lo, c.hi, c.step, c.n)), 0)
		require.NoError(t, err, "--array=%s task %d", c.spec, c.id)
		assert.Equal(t, Shard{Index: c.wantIndex, Count: c.wantCount}, s, "--array=%s task %d", c.spec, c.id)
		assert.Contains(t, note, "Slurm array job 100")
	}

	// Every task of an array gets a different shard, and together they are the whole plan.
	for _, spec := range [][3]int{{0, 7, 1}, {1, 8, 1}, {3, 17, 2}} {
		seen := map[int]bool{}
		for id := spec[0]; id <= spec[1]; id += spec[2] {
			s, _, err := AutoShard(env(slurmArray(id, spec[0], spec[1], spec[2], 8)), 0)
			require.NoError(t, err)
			assert.Equal(t, 8, s.Count)
			assert.False(t, seen[s.Index], "shard %d twice", s.Index)
			seen[s.Index] = true
		}
		assert.Len(t, seen, 8)
	}

	// --shard-count, when given, must agree with the array.
	s, _, err := AutoShard(env(slurmArray(2, 1, 4, 1, 4)), 4)
	require.NoError(t, err)
	assert.Equal(t, Shard{Index: 2, Count: 4}, s)
	_, _, err = AutoShard(env(slurmArray(2, 1, 4, 1, 4)), 8)
	assert.EqualError(t, err, "--shard auto: --shard-count 8, but the Slurm array has 4 tasks (indices 1-4)")

	// Without SLURM_ARRAY_TASK_STEP (1) or SLURM_ARRAY_TASK_COUNT (the range's size).
	m := slurmArray(3, 1, 4, 1, 4)
	delete(m, "SLURM_ARRAY_TASK_STEP")
	delete(m, "SLURM_ARRAY_TASK_COUNT")
	s, _, err = AutoShard(env(m), 0)
	require.NoError(t, err)
	assert.Equal(t, Shard{Index: 3, Count: 4}, s)
}

func TestAutoShardSlurmRefusals(t *testing.T) {
	for _, c := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"a list (1,3,5)", slurmArray(3, 1, 5, 1, 3), "the Slurm array is not a range (3 tasks with indices from 1 to 5, step 1)"},
		{"a subset (1-4 without 2)", slurmArray(3, 1, 4, 1, 3), "the Slurm array is not a range"},
		{"an index off the step", slurmArray(3, 0, 6, 2, 4), "the Slurm array is not a range"},
		{"an index outside", slurmArray(9, 1, 4, 1, 4), "Slurm array task 9 is outside the array's indices 1-4"},
		{"max below min", slurmArray(1, 4, 1, 1, 4), "Slurm array indices 4-1:1 make no sense"},
		{"step 0", slurmArray(1, 1, 4, 0, 4), "Slurm array indices 1-4:0 make no sense"},
		{"no min", map[string]string{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MAX": "4"}, "in a Slurm array task (SLURM_ARRAY_TASK_ID=1) but SLURM_ARRAY_TASK_MIN is not set"},
		{"no max", map[string]string{"SLURM_ARRAY_TASK_ID": "1", "SLURM_ARRAY_TASK_MIN": "1"}, "SLURM_ARRAY_TASK_MAX is not set"},
		{"not a number", map[string]string{"SLURM_ARRAY_TASK_ID": "one"}, `SLURM_ARRAY_TASK_ID="one" is not an array index`},
		{"negative", map[string]string{"SLURM_ARRAY_TASK_ID": "-1"}, `SLURM_ARRAY_TASK_ID="-1" is not an array index`},
		{"signed", map[string]string{"SLURM_ARRAY_TASK_ID": "+1"}, `SLURM_ARRAY_TASK_ID="+1" is not an array index`},
		{"bad count", func() map[string]string {
			m := slurmArray(1, 1, 4, 1, 4)
			m["SLURM_ARRAY_TASK_COUNT"] = "x"
			return m
		}(), `SLURM_ARRAY_TASK_COUNT="x" is not an array index`},
		{"a plain batch job", map[string]string{"SLURM_JOB_ID": "42"}, "Slurm job 42 is not an array job (SLURM_ARRAY_TASK_ID is not set): submit it with sbatch --array=1-N, or give --shard i/n"},
	} {
		_, _, err := AutoShard(env(c.env), 0)
		if assert.Error(t, err, c.name) {
			assert.Contains(t, err.Error(), c.want, c.name)
			assert.Contains(t, err.Error(), "--shard auto", c.name)
		}
	}
}

func TestAutoShardKubernetes(t *testing.T) {
	for i := range 4 {
		s, note, err := AutoShard(env(map[string]string{"JOB_COMPLETION_INDEX": strconv.Itoa(i)}), 4)
		require.NoError(t, err)
		assert.Equal(t, Shard{Index: i + 1, Count: 4}, s)
		assert.Contains(t, note, "Kubernetes Indexed Job")
	}
	for _, c := range []struct {
		index string
		count int
		want  string
	}{
		{"0", 0, "in a Kubernetes Indexed Job (JOB_COMPLETION_INDEX=0), the number of shards must be given: --shard-count N, N being the Job's completions"},
		{"4", 4, "JOB_COMPLETION_INDEX=4, but --shard-count is 4: the Job's completions and --shard-count differ"},
		{"x", 4, `JOB_COMPLETION_INDEX="x" is not a completion index`},
		{"-1", 4, `JOB_COMPLETION_INDEX="-1" is not a completion index`},
		{"1", -2, "--shard-count must be positive, got -2"},
	} {
		_, _, err := AutoShard(env(map[string]string{"JOB_COMPLETION_INDEX": c.index}), c.count)
		if assert.Error(t, err, "%s of %d", c.index, c.count) {
			assert.Contains(t, err.Error(), c.want)
		}
	}
}

func TestAutoShardNoEngine(t *testing.T) {
	_, _, err := AutoShard(env(nil), 0)
	assert.EqualError(t, err, "--shard auto: this is neither a task of a Slurm array job (no SLURM_ARRAY_TASK_ID) "+
		"nor a pod of a Kubernetes Indexed Job (no JOB_COMPLETION_INDEX); give --shard i/n")
	_, _, err = AutoShard(env(nil), 4)
	assert.Error(t, err, "--shard-count alone is not an engine")

	both := slurmArray(1, 1, 4, 1, 4)
	both["JOB_COMPLETION_INDEX"] = "0"
	_, _, err = AutoShard(env(both), 4)
	assert.EqualError(t, err, "--shard auto: both SLURM_ARRAY_TASK_ID (Slurm) and JOB_COMPLETION_INDEX (Kubernetes) are set; give --shard i/n")
}

package campaign

// --shard auto: the shard of a job of a cluster engine, from the environment the engine gives
// it.

import (
	"errors"
	"fmt"
	"strconv"
)

// Environment variables AutoShard reads.
const (
	// Slurm sets these in every task of an array job (sbatch --array): the task's index and
	// the array's size, lowest and highest index and step (sbatch(1), OUTPUT ENVIRONMENT
	// VARIABLES). Indices are what --array said: 0-3 and 1-4 are both four tasks.
	EnvSlurmArrayTaskID    = "SLURM_ARRAY_TASK_ID"
	EnvSlurmArrayTaskCount = "SLURM_ARRAY_TASK_COUNT"
	EnvSlurmArrayTaskMin   = "SLURM_ARRAY_TASK_MIN"
	EnvSlurmArrayTaskMax   = "SLURM_ARRAY_TASK_MAX"
	EnvSlurmArrayTaskStep  = "SLURM_ARRAY_TASK_STEP"
	EnvSlurmArrayJobID     = "SLURM_ARRAY_JOB_ID"
	EnvSlurmJobID          = "SLURM_JOB_ID"

	// Kubernetes sets this in the pods of an Indexed Job (completionMode: Indexed): the
	// pod's completion index, 0 to completions-1. Nothing in a pod says how many completions
	// the Job has; that comes from --shard-count.
	EnvJobCompletionIndex = "JOB_COMPLETION_INDEX"
)

// AutoShard works out the shard of this process from the environment of a cluster engine
// (getenv, normally os.Getenv): a task of a Slurm array job, or a pod of a Kubernetes Indexed
// Job. count is the number of shards given on the command line (--shard-count), 0 if none:
// Kubernetes needs it (the Job's completions); for Slurm, where the array's size says, it is
// only checked against it. It returns the shard (1-based, as in i/n) and a sentence saying
// where it came from.
//
// A Slurm array's tasks are numbered by its --array spec, so shard i of n is the i-th index of
// the array: index MIN+(i-1)*STEP. --array=0-3, 1-4 and 0-6:2 all make shards 1/4 to 4/4. A
// list that is no such progression (--array=1,3,5: Slurm reports STEP 1) is refused, because
// its tasks' places cannot be told from the environment.
func AutoShard(getenv func(string) string, count int) (Shard, string, error) {
	if count < 0 {
		return Shard{}, "", fmt.Errorf("--shard-count must be positive, got %d", count)
	}
	slurm := getenv(EnvSlurmArrayTaskID)
	k8s := getenv(EnvJobCompletionIndex)
	switch {
	case slurm != "" && k8s != "":
		return Shard{}, "", fmt.Errorf("--shard auto: both %s (Slurm) and %s (Kubernetes) are set; give --shard i/n", EnvSlurmArrayTaskID, EnvJobCompletionIndex)
	case slurm != "":
		return slurmShard(getenv, count)
	case k8s != "":
		return indexedJobShard(k8s, count)
	case getenv(EnvSlurmJobID) != "":
		return Shard{}, "", fmt.Errorf("--shard auto: Slurm job %s is not an array job (%s is not set): submit it with sbatch --array=1-N, or give --shard i/n", getenv(EnvSlurmJobID), EnvSlurmArrayTaskID)
	}
	return Shard{}, "", errors.New("--shard auto: this is neither a task of a Slurm array job (no " + EnvSlurmArrayTaskID +
		") nor a pod of a Kubernetes Indexed Job (no " + EnvJobCompletionIndex + "); give --shard i/n")
}

// slurmShard is AutoShard in a task of a Slurm array job.
func slurmShard(getenv func(string) string, count int) (Shard, string, error) {
	num := func(name string, dflt int) (int, error) {
		s := getenv(name)
		if s == "" {
			if dflt >= 0 {
				return dflt, nil
			}
			return 0, fmt.Errorf("--shard auto: in a Slurm array task (%s=%s) but %s is not set", EnvSlurmArrayTaskID, getenv(EnvSlurmArrayTaskID), name)
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || s[0] == '+' {
			return 0, fmt.Errorf("--shard auto: %s=%q is not an array index", name, s)
		}
		return n, nil
	}
	id, err := num(EnvSlurmArrayTaskID, -1)
	if err != nil {
		return Shard{}, "", err
	}
	lo, err := num(EnvSlurmArrayTaskMin, -1)
	if err != nil {
		return Shard{}, "", err
	}
	hi, err := num(EnvSlurmArrayTaskMax, -1)
	if err != nil {
		return Shard{}, "", err
	}
	step, err := num(EnvSlurmArrayTaskStep, 1) // 1 if unset
	if err != nil {
		return Shard{}, "", err
	}
	if step < 1 || hi < lo {
		return Shard{}, "", fmt.Errorf("--shard auto: Slurm array indices %d-%d:%d make no sense", lo, hi, step)
	}
	progression := (hi-lo)/step + 1 // tasks of lo-hi:step, if that is what the array is
	n, err := num(EnvSlurmArrayTaskCount, progression)
	if err != nil {
		return Shard{}, "", err
	}
	spec := fmt.Sprintf("%d-%d", lo, hi)
	if step > 1 {
		spec += fmt.Sprintf(":%d", step)
	}
	switch {
	case id < lo || id > hi:
		return Shard{}, "", fmt.Errorf("--shard auto: Slurm array task %d is outside the array's indices %s", id, spec)
	case (hi-lo)%step != 0 || (id-lo)%step != 0 || n != progression:
		return Shard{}, "", fmt.Errorf("--shard auto: the Slurm array is not a range (%d tasks with indices from %d to %d, step %d): "+
			"submit --array=1-N (or 0-(N-1)) so that each task's shard follows from its index, or give --shard i/n", n, lo, hi, step)
	case count != 0 && count != n:
		return Shard{}, "", fmt.Errorf("--shard auto: --shard-count %d, but the Slurm array has %d tasks (indices %s)", count, n, spec)
	}
	s := Shard{Index: (id-lo)/step + 1, Count: n}
	job := getenv(EnvSlurmArrayJobID)
	if job == "" {
		job = "?"
	}
	return s, fmt.Sprintf("Slurm array job %s, task %d of indices %s: shard %s", job, id, spec, s), nil
}

// indexedJobShard is AutoShard in a pod of a Kubernetes Indexed Job.
func indexedJobShard(index string, count int) (Shard, string, error) {
	i, err := strconv.Atoi(index)
	if err != nil || i < 0 || index[0] == '+' {
		return Shard{}, "", fmt.Errorf("--shard auto: %s=%q is not a completion index", EnvJobCompletionIndex, index)
	}
	if count == 0 {
		return Shard{}, "", fmt.Errorf("--shard auto: in a Kubernetes Indexed Job (%s=%d), the number of shards must be given: --shard-count N, N being the Job's completions",
			EnvJobCompletionIndex, i)
	}
	if i >= count {
		return Shard{}, "", fmt.Errorf("--shard auto: %s=%d, but --shard-count is %d: the Job's completions and --shard-count differ", EnvJobCompletionIndex, i, count)
	}
	s := Shard{Index: i + 1, Count: count}
	return s, fmt.Sprintf("Kubernetes Indexed Job, completion index %d of %d: shard %s", i, count, s), nil
}

package campaign

// Results files: one JSON file per deployment (and shard), and merging shard files.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"
)

// Results is everything one deployment of a campaign (or one shard of it) produced.
type Results struct {
	Campaign   Campaign     `json:"campaign"`
	Boots      []BootRecord `json:"boot_log"`
	Injections []Record     `json:"injections"` // by id

	source string // the file it was read from, for messages
}

// Campaign is the metadata of a results file.
type Campaign struct {
	ScenarioFiles []ScenarioFile `json:"scenario_files"`
	Deployment    string         `json:"deployment"`
	Accel         string         `json:"accel"` // "tcg" or "kvm" ("kvm+tcg" after merging mixed shards)
	ShardCount    int            `json:"shard_count"`
	Shards        []int          `json:"shards"` // which of the ShardCount shards this file holds
	Seed          uint64         `json:"seed"`
	PerBoot       int            `json:"per_boot"`
	PlanTotal     int            `json:"plan_total"` // injections in the whole plan, all shards
	Planned       int            `json:"planned"`    // injections in this file's shards
	Start         time.Time      `json:"start"`
	WallSeconds   float64        `json:"wall_seconds"` // after merging: the shards' sum
	// CoreSeconds is the host core time the run had: its wall time times the cores its
	// parallel boots kept busy (min(parallel, CPUs); each TCG guest is one busy core); after
	// merging, the shards' sum. Faults per core second compare machines and shardings.
	CoreSeconds float64  `json:"core_seconds,omitempty"`
	Boots       int      `json:"boots"`
	Errors      []string `json:"errors,omitempty"` // problems of the run (such as injections not run)
}

// Record is what happened to one injection.
type Record struct {
	ID         int    `json:"id"`
	Scenario   string `json:"scenario"`
	Class      string `json:"class"`
	Target     string `json:"target"`
	AfterMS    int64  `json:"after_ms"`
	Outcome    string `json:"outcome"`
	RecoveryUS int64  `json:"recovery_us"`
	TookUS     int64  `json:"took_us,omitempty"` // start to result in the guest: what the injection cost the campaign
	Expected   bool   `json:"expected"`          // the outcome is one the scenario expects
	Boot       int    `json:"boot"`              // the boot it ran in (0: not run)
	Detail     string `json:"detail,omitempty"`
}

// BootRecord is one boot of the campaign.
type BootRecord struct {
	Boot    int     `json:"boot"`
	FirstID int     `json:"first_id"`
	Planned int     `json:"planned"` // injections handed to it
	Results int     `json:"results"` // outcomes it produced (the kernel's plus a host-side core-crash or hang)
	Status  int     `json:"status"`
	End     string  `json:"end"` // done, core-crash, hang, timeout, stall, ended, interrupted
	Seconds float64 `json:"seconds"`
	Note    string  `json:"note,omitempty"`
	Log     string  `json:"log,omitempty"` // the serial console transcript
}

// FileName is the results file of r: results-DEPLOYMENT.json for a whole campaign,
// results-DEPLOYMENT-shard-I-of-N.json for one shard, results-DEPLOYMENT-shards-I+J-of-N.json
// for several.
func (r *Results) FileName() string {
	c := r.Campaign
	switch {
	case c.ShardCount <= 1 || len(c.Shards) == c.ShardCount:
		return "results-" + c.Deployment + ".json"
	case len(c.Shards) == 1:
		return fmt.Sprintf("results-%s-shard-%d-of-%d.json", c.Deployment, c.Shards[0], c.ShardCount)
	}
	return fmt.Sprintf("results-%s-shards-%s.json", c.Deployment, strings.ReplaceAll(shardList(c.Shards, c.ShardCount), "/", "-of-"))
}

// ReportName is the file name of the Markdown report of rs: results.md, or for one shard
// (or set of shards) of a campaign results-shard-I-of-N.md (results-shards-I+J-of-N.md), like
// the JSON files, so that the shards of a campaign can write into one folder (a cluster's
// shared volume) without overwriting each other's report.
func ReportName(rs []*Results) string {
	shardPart := func(r *Results) string { // "" or "-shard-I-of-N"
		return strings.TrimSuffix(strings.TrimPrefix(r.FileName(), "results-"+r.Campaign.Deployment), ".json")
	}
	if len(rs) == 0 {
		return "results.md"
	}
	part := shardPart(rs[0])
	for _, r := range rs[1:] {
		if shardPart(r) != part {
			return "results.md"
		}
	}
	return "results" + part + ".md"
}

// WriteReport writes each deployment's JSON file (FileName), the charts (WriteCharts) and the
// Markdown report (ReportName), which links them, into dir, and returns the paths written.
func WriteReport(dir string, rs []*Results) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	var paths []string
	for _, r := range rs {
		p := filepath.Join(dir, r.FileName())
		if err := r.WriteFile(p); err != nil {
			return paths, err
		}
		paths = append(paths, p)
	}
	charts, err := WriteCharts(dir, rs)
	paths = append(paths, charts...)
	if err != nil {
		return paths, err
	}
	p := filepath.Join(dir, ReportName(rs))
	if err := writeFileAtomic(p, Markdown(rs)); err != nil {
		return paths, err
	}
	return append(paths, p), nil
}

// WriteFile writes r as indented JSON. The file appears complete or not at all (a temporary
// file renamed into place), so that a merge step that waits for the shards' files never reads
// half of one.
func (r *Results) WriteFile(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'))
}

// writeFileAtomic writes data to a temporary file next to path and renames it to path.
func writeFileAtomic(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		os.Remove(f.Name())
	}
	return err
}

// ReadResults reads a results file and checks that it is one.
func ReadResults(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: not a results file: %v", path, err)
	}
	r.source = path
	c := r.Campaign
	switch {
	case !ValidDeployment(c.Deployment):
		return nil, fmt.Errorf("%s: not a results file: deployment %q", path, c.Deployment)
	case c.ShardCount < 1 || len(c.Shards) == 0:
		return nil, fmt.Errorf("%s: not a results file: no shard information", path)
	case len(c.ScenarioFiles) == 0:
		return nil, fmt.Errorf("%s: not a results file: no scenario files", path)
	}
	for _, s := range c.Shards {
		if s < 1 || s > c.ShardCount {
			return nil, fmt.Errorf("%s: shard %d of %d", path, s, c.ShardCount)
		}
	}
	for _, in := range r.Injections {
		if !r.holds(in.ID) {
			return nil, fmt.Errorf("%s: injection %d does not belong to shard(s) %s", path, in.ID, shardList(c.Shards, c.ShardCount))
		}
	}
	return &r, nil
}

// MissingShards returns the shards of r's campaign (1..ShardCount) that r does not hold: after
// merging, the shards whose results files were not given.
func (r *Results) MissingShards() []int {
	var missing []int
	for i := 1; i <= r.Campaign.ShardCount; i++ {
		if !slices.Contains(r.Campaign.Shards, i) {
			missing = append(missing, i)
		}
	}
	return missing
}

func (r *Results) holds(id int) bool {
	for _, s := range r.Campaign.Shards {
		if (Shard{Index: s, Count: r.Campaign.ShardCount}).Keep(id) {
			return true
		}
	}
	return false
}

func (r *Results) name() string {
	if r.source != "" {
		return r.source
	}
	return "results of " + r.Campaign.Deployment + " shard " + shardList(r.Campaign.Shards, r.Campaign.ShardCount)
}

func shardList(shards []int, count int) string {
	s := make([]string, len(shards))
	for i, n := range shards {
		s[i] = fmt.Sprint(n)
	}
	return strings.Join(s, "+") + "/" + fmt.Sprint(count)
}

// sameScenarios reports whether two campaigns ran the same scenario files (by contents, in
// order: the order numbers the plan).
func sameScenarios(a, b []ScenarioFile) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].SHA256 != b[i].SHA256 {
			return false
		}
	}
	return true
}

func describeScenarios(fs []ScenarioFile) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = fmt.Sprintf("%s (sha256 %.12s)", f.Path, f.SHA256)
	}
	return strings.Join(s, ", ")
}

// Merge combines results files of one campaign: shards of the same scenario files and seed,
// for one or both deployments. It returns one Results per deployment, tiered first. It refuses
// files of different campaigns, or that hold the same shard or the same injection.
func Merge(rs ...*Results) ([]*Results, error) {
	if len(rs) == 0 {
		return nil, fmt.Errorf("merge: no results files")
	}
	first := rs[0]
	for _, r := range rs[1:] {
		switch {
		case !sameScenarios(first.Campaign.ScenarioFiles, r.Campaign.ScenarioFiles):
			return nil, fmt.Errorf("merge: %s and %s ran different scenario files: %s vs %s",
				first.name(), r.name(), describeScenarios(first.Campaign.ScenarioFiles), describeScenarios(r.Campaign.ScenarioFiles))
		case first.Campaign.Seed != r.Campaign.Seed:
			return nil, fmt.Errorf("merge: %s and %s used different seeds (%d and %d)", first.name(), r.name(), first.Campaign.Seed, r.Campaign.Seed)
		case first.Campaign.ShardCount != r.Campaign.ShardCount:
			return nil, fmt.Errorf("merge: %s and %s were cut into different shard counts (%d and %d)",
				first.name(), r.name(), first.Campaign.ShardCount, r.Campaign.ShardCount)
		case first.Campaign.PlanTotal != r.Campaign.PlanTotal:
			return nil, fmt.Errorf("merge: %s and %s have plans of different sizes (%d and %d)",
				first.name(), r.name(), first.Campaign.PlanTotal, r.Campaign.PlanTotal)
		}
	}
	var out []*Results
	for _, dep := range []string{Tiered, Monolithic} {
		var group []*Results
		for _, r := range rs {
			if r.Campaign.Deployment == dep {
				group = append(group, r)
			}
		}
		if len(group) == 0 {
			continue
		}
		m, err := mergeDeployment(group)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

func mergeDeployment(group []*Results) (*Results, error) {
	shardOf := map[int]*Results{}
	idOf := map[int]*Results{}
	for _, r := range group {
		for _, s := range r.Campaign.Shards {
			if prev, dup := shardOf[s]; dup {
				return nil, fmt.Errorf("merge: %s and %s both hold shard %d/%d of the %s deployment",
					prev.name(), r.name(), s, r.Campaign.ShardCount, r.Campaign.Deployment)
			}
			shardOf[s] = r
		}
		for _, in := range r.Injections {
			if prev, dup := idOf[in.ID]; dup {
				return nil, fmt.Errorf("merge: %s and %s both hold injection %d of the %s deployment",
					prev.name(), r.name(), in.ID, r.Campaign.Deployment)
			}
			idOf[in.ID] = r
		}
	}
	first := group[0].Campaign
	m := &Results{Campaign: Campaign{
		ScenarioFiles: first.ScenarioFiles,
		Deployment:    first.Deployment,
		ShardCount:    first.ShardCount,
		Seed:          first.Seed,
		PerBoot:       first.PerBoot,
		PlanTotal:     first.PlanTotal,
		Start:         first.Start,
	}}
	var accels []string
	bootBase := 0
	for _, r := range group {
		c := r.Campaign
		if !slices.Contains(accels, c.Accel) {
			accels = append(accels, c.Accel)
		}
		m.Campaign.Shards = append(m.Campaign.Shards, c.Shards...)
		m.Campaign.Planned += c.Planned
		m.Campaign.WallSeconds += c.WallSeconds
		m.Campaign.CoreSeconds += c.CoreSeconds
		m.Campaign.Boots += c.Boots
		if c.Start.Before(m.Campaign.Start) {
			m.Campaign.Start = c.Start
		}
		if c.PerBoot != m.Campaign.PerBoot {
			m.Campaign.PerBoot = 0 // mixed
		}
		for _, e := range c.Errors {
			if c.ShardCount > 1 {
				e = fmt.Sprintf("shard %s: %s", shardList(c.Shards, c.ShardCount), e)
			}
			m.Campaign.Errors = append(m.Campaign.Errors, e)
		}
		// Boot numbers are per file: renumber them after the previous files'.
		maxBoot := 0
		for _, b := range r.Boots {
			b.Boot += bootBase
			m.Boots = append(m.Boots, b)
			maxBoot = max(maxBoot, b.Boot)
		}
		for _, in := range r.Injections {
			if in.Boot > 0 {
				in.Boot += bootBase
				maxBoot = max(maxBoot, in.Boot)
			}
			m.Injections = append(m.Injections, in)
		}
		bootBase = max(bootBase, maxBoot)
	}
	sort.Strings(accels)
	m.Campaign.Accel = strings.Join(accels, "+")
	sort.Ints(m.Campaign.Shards)
	sort.Slice(m.Injections, func(i, j int) bool { return m.Injections[i].ID < m.Injections[j].ID })
	return m, nil
}

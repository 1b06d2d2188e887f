package campaign

// Aggregation: counts per class and outcome, recovery times, and the run's verdict.

import (
	"fmt"
	"math"
	"slices"
	"sort"
)

// Summary aggregates one deployment's results.
type Summary struct {
	Deployment        string
	Accel             string
	Total             int                       // injections in the file
	Run               int                       // those that ran (not NotRun)
	ByClass           map[string]map[string]int // class -> outcome -> count
	ByOutcome         map[string]int
	UnexpectedByClass map[string]int
	Unexpected        int
	Classes           []string // classes present, in Classes() order, then any others sorted
	Recovery          Recovery // over restarted injections with a recovery time
	WallSeconds       float64
	FaultsPerSecond   float64            // injections run per wall second
	FaultsPerCore     float64            // injections run per host core second (0: not recorded)
	TookMS            map[string]float64 // class -> mean guest time of an injection, start to result (ms)
	Boots             int
	Errors            []string
}

// Recovery summarises recovery times in microseconds.
type Recovery struct {
	N        int
	MedianUS float64
	P99US    int64
}

// Summarize aggregates r.
func Summarize(r *Results) Summary {
	s := Summary{
		Deployment:        r.Campaign.Deployment,
		Accel:             r.Campaign.Accel,
		Total:             len(r.Injections),
		ByClass:           map[string]map[string]int{},
		ByOutcome:         map[string]int{},
		UnexpectedByClass: map[string]int{},
		TookMS:            map[string]float64{},
		WallSeconds:       r.Campaign.WallSeconds,
		Boots:             r.Campaign.Boots,
		Errors:            r.Campaign.Errors,
	}
	var rec []int64
	took, tookN := map[string]int64{}, map[string]int64{}
	for _, in := range r.Injections {
		if in.TookUS > 0 {
			took[in.Class] += in.TookUS
			tookN[in.Class]++
		}
		if s.ByClass[in.Class] == nil {
			s.ByClass[in.Class] = map[string]int{}
		}
		s.ByClass[in.Class][in.Outcome]++
		s.ByOutcome[in.Outcome]++
		if in.Outcome != NotRun {
			s.Run++
		}
		if !in.Expected {
			s.Unexpected++
			s.UnexpectedByClass[in.Class]++
		}
		if in.Outcome == Restarted && in.RecoveryUS > 0 {
			rec = append(rec, in.RecoveryUS)
		}
	}
	for _, c := range classes {
		if s.ByClass[c] != nil {
			s.Classes = append(s.Classes, c)
		}
	}
	var others []string
	for c := range s.ByClass {
		if !KnownClass(c) {
			others = append(others, c)
		}
	}
	sort.Strings(others)
	s.Classes = append(s.Classes, others...)
	if len(rec) > 0 {
		s.Recovery = Recovery{N: len(rec), MedianUS: Median(rec), P99US: Percentile(rec, 99)}
	}
	if s.WallSeconds > 0 {
		s.FaultsPerSecond = float64(s.Run) / s.WallSeconds
	}
	if c := r.Campaign.CoreSeconds; c > 0 {
		s.FaultsPerCore = float64(s.Run) / c
	}
	for c, n := range tookN {
		s.TookMS[c] = float64(took[c]) / float64(n) / 1e3
	}
	return s
}

// Median is the middle value (the mean of the two middle ones for an even count); 0 for none.
func Median(xs []int64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return float64(s[n/2])
	}
	return (float64(s[n/2-1]) + float64(s[n/2])) / 2
}

// Percentile is the nearest-rank p-th percentile (0 < p <= 100): the smallest value with at
// least p% of the values at or below it; 0 for none.
func Percentile(xs []int64, p float64) int64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[min(max(rank, 1), len(s))-1]
}

// Verdict decides the run: it passes when, in the tiered deployment, every injection ended in
// an outcome its scenario expects, none crashed the core or breached isolation, and the run
// had no errors. Monolithic results never fail it: they are the comparison. reasons says why
// it failed.
func Verdict(rs []*Results) (pass bool, reasons []string) {
	for _, r := range rs {
		if r.Campaign.Deployment != Tiered {
			continue
		}
		s := Summarize(r)
		if n := s.ByOutcome[CoreCrash]; n > 0 {
			reasons = append(reasons, fmt.Sprintf("tiered: %d core crashes", n))
		}
		if n := s.ByOutcome[Breach]; n > 0 {
			reasons = append(reasons, fmt.Sprintf("tiered: %d isolation breaches", n))
		}
		if n := s.ByOutcome[NotRun]; n > 0 {
			reasons = append(reasons, fmt.Sprintf("tiered: %d injections did not run", n))
		}
		if s.Unexpected > 0 {
			reasons = append(reasons, fmt.Sprintf("tiered: %d unexpected outcomes", s.Unexpected))
		}
		if n := len(r.Campaign.Errors); n > 0 {
			reasons = append(reasons, fmt.Sprintf("tiered: %d errors of the run", n))
		}
	}
	return len(reasons) == 0, reasons
}

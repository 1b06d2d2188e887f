package campaign

// The Markdown report (results.md).

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"unicode/utf8"
)

// maxListed caps the unexpected outcomes and errors listed one by one.
const maxListed = 20

// Markdown renders the results of one campaign (one Results per deployment): links to the
// charts WriteReport writes beside it, a table of class x outcome counts per deployment with
// totals, throughput and recovery times, and, when both deployments are present, a comparison
// table.
func Markdown(rs []*Results) []byte {
	var b bytes.Buffer
	b.WriteString("# Fault-injection campaign\n\n")
	if len(rs) == 0 {
		b.WriteString("No results.\n")
		return b.Bytes()
	}
	c := rs[0].Campaign
	files := make([]string, len(c.ScenarioFiles))
	for i, f := range c.ScenarioFiles {
		files[i] = fmt.Sprintf("`%s` (%d scenarios, %d faults, sha256 %.12s)", f.Path, f.Scenarios, f.Faults, f.SHA256)
	}
	fmt.Fprintf(&b, "Scenarios: %s. Seed %d. Started %s.\n", strings.Join(files, ", "), c.Seed, c.Start.UTC().Format("2006-01-02 15:04 UTC"))
	if c.ShardCount > 1 {
		fmt.Fprintf(&b, "Shards %s of the plan's %d injections.\n", shardList(c.Shards, c.ShardCount), c.PlanTotal)
	}
	outcomes, recovery := ChartNames(rs)
	fmt.Fprintf(&b, "\n![Outcomes per fault class](%s)\n\n"+
		"`%s`: for each fault class, one bar per deployment (T tiered, M monolithic), split by outcome, as a share of the class's injections.\n\n"+
		"![Recovery times](%s)\n\n"+
		"`%s`: how long restarted modules took from their crash to serving again (measured by the core), in bins, per deployment.\n",
		outcomes, outcomes, recovery, recovery)
	for _, r := range rs {
		deploymentSection(&b, r)
	}
	var tiered, mono *Results
	for _, r := range rs {
		switch r.Campaign.Deployment {
		case Tiered:
			tiered = r
		case Monolithic:
			mono = r
		}
	}
	if tiered != nil && mono != nil {
		comparison(&b, Summarize(tiered), Summarize(mono))
	}
	return b.Bytes()
}

func deploymentSection(b *bytes.Buffer, r *Results) {
	s := Summarize(r)
	fmt.Fprintf(b, "\n## %s deployment\n\n", titleCase(s.Deployment))
	perCore := ""
	if s.FaultsPerCore > 0 {
		perCore = fmt.Sprintf(" (%.1f per core)", s.FaultsPerCore)
	}
	fmt.Fprintf(b, "%d injections (%d run) in %d boots, %.1f s wall: %.1f faults/s%s on %s. "+
		"%d core crashes, %d breaches, %d hangs, %d unexpected outcomes.\n",
		s.Total, s.Run, s.Boots, s.WallSeconds, s.FaultsPerSecond, perCore, accelName(s.Accel),
		s.ByOutcome[CoreCrash], s.ByOutcome[Breach], s.ByOutcome[Hang], s.Unexpected)
	if s.Recovery.N > 0 {
		fmt.Fprintf(b, "Recovery time of restarted modules (n=%d): median %s, p99 %s.\n",
			s.Recovery.N, micros(s.Recovery.MedianUS), micros(float64(s.Recovery.P99US)))
	} else {
		b.WriteString("No restarted module reported a recovery time.\n")
	}
	if s.Deployment == Monolithic {
		b.WriteString("(The monolithic deployment is the comparison: its outcomes never fail the run.)\n")
	}

	cols := Outcomes()
	if s.ByOutcome[NotRun] > 0 {
		cols = append(cols, NotRun)
	}
	b.WriteString("\n| class |")
	for _, o := range cols {
		fmt.Fprintf(b, " %s |", o)
	}
	b.WriteString(" total | unexpected |\n|---|")
	b.WriteString(strings.Repeat("---:|", len(cols)+2) + "\n")
	for _, class := range s.Classes {
		fmt.Fprintf(b, "| %s |", class)
		for _, o := range cols {
			fmt.Fprintf(b, " %d |", s.ByClass[class][o])
		}
		fmt.Fprintf(b, " %d | %d |\n", rowTotal(s.ByClass[class]), s.UnexpectedByClass[class])
	}
	b.WriteString("| **total** |")
	for _, o := range cols {
		fmt.Fprintf(b, " **%d** |", s.ByOutcome[o])
	}
	fmt.Fprintf(b, " **%d** | **%d** |\n", s.Total, s.Unexpected)
	if len(s.TookMS) > 0 {
		b.WriteString("\nGuest time per injection, start to result, mean by class (the campaign's cost):")
		for i, class := range s.Classes {
			if ms, ok := s.TookMS[class]; ok {
				sep := ","
				if i == 0 {
					sep = ""
				}
				fmt.Fprintf(b, "%s %s %.0f ms", sep, class, ms)
			}
		}
		b.WriteString(".\n")
	}

	var unexpected []Record
	for _, in := range r.Injections {
		if !in.Expected && in.Outcome != NotRun {
			unexpected = append(unexpected, in)
		}
	}
	if len(unexpected) > 0 {
		fmt.Fprintf(b, "\nUnexpected outcomes (%d", len(unexpected))
		if len(unexpected) > maxListed {
			fmt.Fprintf(b, ", the first %d", maxListed)
		}
		b.WriteString("):\n\n| id | scenario | class | target | outcome | boot | detail |\n|--:|---|---|---|---|--:|---|\n")
		for _, in := range unexpected[:min(len(unexpected), maxListed)] {
			fmt.Fprintf(b, "| %d | %s | %s | %s | %s | %d | %s |\n", in.ID, in.Scenario, in.Class, in.Target, in.Outcome, in.Boot, cell(in.Detail))
		}
	}
	if len(s.Errors) > 0 {
		fmt.Fprintf(b, "\nErrors of the run (%d):\n\n", len(s.Errors))
		for _, e := range s.Errors[:min(len(s.Errors), maxListed)] {
			fmt.Fprintf(b, "- %s\n", cell(e))
		}
		if len(s.Errors) > maxListed {
			fmt.Fprintf(b, "- ... %d more in the JSON file\n", len(s.Errors)-maxListed)
		}
	}
}

func rowTotal(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func comparison(b *bytes.Buffer, t, m Summary) {
	b.WriteString("\n## Tiered vs monolithic\n\n| class | tiered | monolithic |\n|---|---|---|\n")
	seen := map[string]bool{}
	var order []string
	for _, c := range append(append([]string{}, t.Classes...), m.Classes...) {
		if !seen[c] {
			seen[c] = true
			order = append(order, c)
		}
	}
	for _, c := range order {
		fmt.Fprintf(b, "| %s | %s | %s |\n", c, outcomeCell(t.ByClass[c]), outcomeCell(m.ByClass[c]))
	}
	fmt.Fprintf(b, "| **total** | %s | %s |\n", outcomeCell(t.ByOutcome), outcomeCell(m.ByOutcome))
}

// outcomeCell lists the outcomes of one class, most frequent first: "38 restarted, 2 quarantined".
func outcomeCell(counts map[string]int) string {
	type oc struct {
		o string
		n int
	}
	var list []oc
	rank := map[string]int{}
	for i, o := range append(Outcomes(), NotRun) {
		rank[o] = i
	}
	for o, n := range counts {
		if n > 0 {
			list = append(list, oc{o, n})
		}
	}
	if len(list) == 0 {
		return "—"
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].n != list[j].n {
			return list[i].n > list[j].n
		}
		return rank[list[i].o] < rank[list[j].o]
	})
	parts := make([]string, len(list))
	for i, x := range list {
		parts[i] = fmt.Sprintf("%d %s", x.n, x.o)
	}
	return strings.Join(parts, ", ")
}

func micros(us float64) string {
	if us >= 1e6 {
		return fmt.Sprintf("%.2f s", us/1e6)
	}
	return fmt.Sprintf("%.1f ms", us/1e3)
}

func accelName(a string) string {
	if a == "" {
		return "an unknown accelerator"
	}
	return strings.ToUpper(a)
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// cell makes text safe for one Markdown table cell or list item.
func cell(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		cut := 157
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "..."
	}
	return strings.ReplaceAll(s, "|", `\|`)
}

package tests

// The block driver campaign (scenarios/disk.scn), CI-sized: the driver classes against the
// virtio-blk driver while the data-integrity client (blktest --soak) writes, flushes and
// reads back. Tiered: every wild or stale DMA is blocked by the IOMMU and reported, the
// driver is restarted, and no acknowledged data is lost. Monolithic (the same driver in the
// core, iommu=off): the wild DMA lands in the core's canary page.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/inject/campaign"
)

// diskScenarios loads scenarios/disk.scn with at most count injections per scenario (per
// class, if given).
func diskScenarios(t *testing.T, count map[string]int) ([]campaign.Scenario, []campaign.ScenarioFile) {
	scs, files, err := campaign.LoadScenarios(filepath.Join(appRepoRoot(t), "scenarios", "disk.scn"))
	require.NoError(t, err)
	kept := scs[:0]
	for _, s := range scs {
		if n := count[s.Class]; n > 0 {
			s.Count = min(s.Count, n)
			kept = append(kept, s)
		}
	}
	return kept, files
}

// transcripts returns the serial console transcripts of a campaign's boots.
func transcripts(t *testing.T, out string) string {
	logs, err := filepath.Glob(filepath.Join(out, "logs", "*.log"))
	require.NoError(t, err)
	var all strings.Builder
	for _, l := range logs {
		b, err := os.ReadFile(l)
		require.NoError(t, err)
		all.Write(b)
	}
	return all.String()
}

// logTails logs the end of each boot's transcript (what led to a core crash).
func logTails(t *testing.T, out string) {
	logs, _ := filepath.Glob(filepath.Join(out, "logs", "*.log"))
	for _, l := range logs {
		b, _ := os.ReadFile(l)
		lines := strings.Split(string(b), "\n")
		t.Logf("%s, last lines:\n%s", filepath.Base(l), strings.Join(lines[max(0, len(lines)-60):], "\n"))
	}
}

func TestInjectBlkTiered(t *testing.T) {
	t.Parallel()
	scs, files := diskScenarios(t, map[string]int{"dma-wild": 3, "dma-stale": 2, "device-hang": 1, "crash-mid-write": 2})
	rs, out := runCampaign(t, campaign.Tiered, scs, files, 3*time.Minute)
	require.Len(t, rs, 1)
	s := campaign.Summarize(rs[0])
	if s.ByOutcome[campaign.CoreCrash] > 0 {
		logTails(t, out)
	}
	assert.Equal(t, 8, s.Run, "injections run")
	assert.Zero(t, s.ByOutcome[campaign.Breach], "breaches: a DMA landed, or the soak client lost acknowledged data")
	assert.Zero(t, s.ByOutcome[campaign.CoreCrash])
	assert.Zero(t, s.ByOutcome[campaign.Hang])
	assert.Empty(t, rs[0].Campaign.Errors)
	blocked := 0
	for _, in := range rs[0].Injections {
		assert.Contains(t, []string{campaign.Restarted, campaign.Quarantined}, in.Outcome, "id %d %s: %s", in.ID, in.Class, in.Detail)
		switch in.Class {
		case "dma-wild", "dma-stale":
			// The driver's end is the blocked DMA, unless the watchdog ended it first (its
			// CPU budget, on a slow TCG host) before the fault struck.
			if strings.Contains(in.Detail, "its device's DMA was blocked by the IOMMU") {
				blocked++
			}
		}
	}
	log := transcripts(t, out)
	issued := strings.Count(log, "] blk: fault: dma-wild: read of sector ") + strings.Count(log, "] blk: fault: dma-stale: read of sector ")
	assert.Positive(t, issued, "wild or stale DMA issued")
	assert.Equal(t, issued, strings.Count(log, "iommu: blocked DMA write by 00:03.0"), "every wild or stale DMA blocked and reported")
	assert.Equal(t, issued, blocked, "every driver that issued one ended for it")
	assert.Contains(t, log, "[blktest] blktest: soak over ")
	assert.NotContains(t, log, "BREACH")
	pass, reasons := campaign.Verdict(rs)
	assert.True(t, pass, reasons)
}

func TestInjectBlkMonolithic(t *testing.T) {
	t.Parallel()
	scs, files := diskScenarios(t, map[string]int{"dma-wild": 2, "dma-stale": 1, "device-hang": 1, "crash-mid-write": 1})
	rs, out := runCampaign(t, campaign.Monolithic, scs, files, 3*time.Minute)
	require.Len(t, rs, 1)
	by := map[string]map[string]int{}
	for _, in := range rs[0].Injections {
		if by[in.Class] == nil {
			by[in.Class] = map[string]int{}
		}
		by[in.Class][in.Outcome]++
	}
	assert.Equal(t, 2, by["dma-wild"][campaign.Breach], "the wild DMA lands in the core's canary page")
	assert.Equal(t, 1, by["dma-stale"][campaign.Breach], "the stale DMA lands in a freed frame")
	assert.Equal(t, 1, by["device-hang"][campaign.Handled], "the core's driver resets the device and carries on")
	assert.Equal(t, 1, by["crash-mid-write"][campaign.CoreCrash], "a driver bug in the core is a core crash")
	log := transcripts(t, out)
	assert.Contains(t, log, "core: blk driver linked into the core (monolithic)")
	assert.NotContains(t, log, "iommu: blocked DMA")
}

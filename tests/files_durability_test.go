package tests

// Durability (issue 13): what a program fsynced survives the file-system server's crash, the
// disk driver's crash under it, and a crash of the server in the middle of a write; the image
// then passes fsck.fat (or, after a crash mid-fsync, shows only what FAT32's ordered sync
// allows: lost clusters). And the file-system campaign (scenarios/files.scn), CI-sized.

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/simpleos/simpleos/boot/disk"
	"github.com/simpleos/simpleos/inject/campaign"
)

// fsModuleWith is the file-system server's policy entry with extra statements.
func fsModuleWith(extra string) string {
	return strings.Replace(fsModule, "end\n", extra+"\nend\n", 1)
}

// checkPatternFile reads path from the image on the host and compares it with filetest's
// pattern.
func checkPatternFile(t *testing.T, image, path string, seed uint64, size int) {
	t.Helper()
	im, err := disk.Open(image, false)
	require.NoError(t, err)
	defer im.Close()
	b, err := im.ReadFile(path)
	require.NoError(t, err, "%s is gone from the image", path)
	require.Len(t, b, size)
	for i := range b {
		x := uint64(i)*31 + seed
		if b[i] != byte(x^x>>8^x>>16) {
			t.Fatalf("byte %d of %s is wrong on the image", i, path)
		}
	}
}

// (a) A file fsynced, then the server crashes (--crash-on-open, a deterministic trigger for
// tests), the supervisor restarts it, and a new open reads the fsynced bytes.
func TestFsyncedDataSurvivesTheFileServersCrash(t *testing.T) {
	t.Parallel()
	image := formattedDisk(t)
	manifest := blkModule("    dma 1MiB") + fsModuleWith("    args     --crash-on-open=/data/crash")
	res := bootDisk(t, manifest, "", image, 90*time.Second, blkDriver, fileServer,
		"./ring3/filetest durable /data/a 5 200000 open:/data/crash")
	out := string(res.Output)
	assert.Contains(t, out, "fs: --crash-on-open: asked to open /data/crash: crashing")
	assert.Regexp(t, `filetest: open /data/crash: .*input/output error`, out, "the call in flight gets EIO")
	assert.Regexp(t, `(?m)^app fs faulted: .*restart (in|now)`, out)
	assert.Contains(t, out, "filetest: /data/a intact after the server's crash")
	assert.Equal(t, 0, res.Status)
	checkPatternFile(t, image, "/data/a", 5, 200000)
	checkImage(t, image)
}

// (b) The disk driver crashes after every 6th write (before answering it), under a file
// being written and fsynced: the server's block client resubmits, the server never sees an
// error, and the file is on the image.
func TestFsyncedDataSurvivesTheDiskDriversCrash(t *testing.T) {
	t.Parallel()
	image := formattedDisk(t)
	manifest := blkModule("    dma 1MiB\n    args --crash-after=6\n    restart always\n    crashes 50/30s") + fsModule
	res := bootDisk(t, manifest, "", image, 90*time.Second, blkDriver, fileServer,
		"./ring3/filetest write /data/b 9 300000")
	out := string(res.Output)
	crashes := regexp.MustCompile(`(?m)^app blk .*(faulted|SIGSEGV).*restart (in|now)`).FindAllString(out, -1)
	assert.GreaterOrEqual(t, len(crashes), 1, "the driver crashed mid-write and was restarted")
	assert.Contains(t, out, "filetest: wrote and fsynced /data/b (300000 bytes)")
	assert.NotRegexp(t, `(?m)^app fs (faulted|killed)`, out, "the file-system server never noticed")
	assert.Equal(t, 0, res.Status)
	checkPatternFile(t, image, "/data/b", 9, 300000)
	checkImage(t, image)
}

// (c) fs-crash-mid-write, armed in the server by the policy (seed 2: the crash follows the
// 3rd device write of the instance). Boot 1 fsyncs /data/a. Boot 2 creates /data/c with 1 KiB
// and fsyncs: write 1 is the data, writes 2 and 3 the new allocation in FAT 1 and FAT 2 (the
// ordered sync's step 2), and the server dies before the directory entry is written. So the
// image holds a cluster in use in the FAT and in no file: fsck.fat -n reports it (exit 1)
// and nothing else. Everything fsynced is intact; the restarted server mounts the image and
// reads /data/a back.
func TestFileServerCrashMidWriteLeavesAConsistentImage(t *testing.T) {
	t.Parallel()
	image := formattedDisk(t)
	res := bootFiles(t, image, "", 90*time.Second, "./ring3/filetest write /data/a 5 200000")
	require.Contains(t, string(res.Output), "filetest: wrote and fsynced /data/a (200000 bytes)")

	manifest := blkModule("    dma 1MiB") + fsModuleWith("    args     -inject=fs-crash-mid-write,0,2")
	res = bootDisk(t, manifest, "", image, 90*time.Second, blkDriver, fileServer,
		"./ring3/filetest crash /data/a 5 200000 write:/data/c")
	out := string(res.Output)
	assert.Contains(t, out, "fs: fault: fs-crash-mid-write: device write 3 (1 sectors at ")
	assert.Regexp(t, `filetest: write and fsync /data/c: .*input/output error`, out)
	assert.Contains(t, out, "filetest: /data/a intact after the server's crash")
	assert.Equal(t, 0, res.Status)
	checkPatternFile(t, image, "/data/a", 5, 200000)

	im, err := disk.Open(image, false)
	require.NoError(t, err, "the image mounts on the host")
	_, err = im.ReadFile("/data/c")
	im.Close()
	assert.Error(t, err, "/data/c's entry was never written")
	if _, err := os.Stat("/usr/sbin/fsck.fat"); err != nil {
		t.Skip("no fsck.fat")
	}
	fsck, err := exec.Command("/usr/sbin/fsck.fat", "-n", image).CombinedOutput()
	t.Logf("fsck.fat -n (%v):\n%s", err, fsck)
	lost := false
	for _, line := range strings.Split(string(fsck), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || strings.HasPrefix(line, "fsck.fat ") || strings.HasPrefix(line, "/") ||
			strings.HasPrefix(line, "Leaving filesystem unchanged") || strings.HasPrefix(line, "Checking we can access the last sector"):
		case strings.HasPrefix(line, "Reclaimed ") || strings.HasPrefix(line, "Free cluster summary wrong") ||
			strings.Contains(line, "lost cluster") || strings.HasPrefix(line, "Auto-correcting") ||
			strings.HasPrefix(line, "  ") || regexp.MustCompile(`^\d+ files?, \d+/\d+ clusters`).MatchString(line):
			lost = lost || strings.HasPrefix(line, "Reclaimed ")
		default:
			t.Errorf("fsck.fat: unexpected finding %q", line)
		}
	}
	assert.True(t, lost, "the cluster allocated before the crash is lost (in the FAT, in no file)")
}

// filesScenarios loads scenarios/files.scn with at most count injections per class.
func filesScenarios(t *testing.T, count map[string]int) ([]campaign.Scenario, []campaign.ScenarioFile) {
	scs, files, err := campaign.LoadScenarios(filepath.Join(appRepoRoot(t), "scenarios", "files.scn"))
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

// The file-system classes against the server while the data-integrity client (filetest
// --soak) writes, fsyncs and reads back: every fault stays in the server, which is restarted
// (a hang is found by the server's own heartbeat and the supervisor's watchdog), and nothing
// fsynced is lost.
func TestInjectFilesTiered(t *testing.T) {
	t.Parallel()
	scs, files := filesScenarios(t, map[string]int{"fs-crash-mid-write": 2, "fs-corrupt-read": 1, "fs-hang": 1})
	rs, out := runCampaign(t, campaign.Tiered, scs, files, 4*time.Minute)
	require.Len(t, rs, 1)
	s := campaign.Summarize(rs[0])
	if s.ByOutcome[campaign.CoreCrash] > 0 || s.ByOutcome[campaign.Hang] > 0 {
		logTails(t, out)
	}
	assert.Equal(t, 5, s.Run, "injections run")
	assert.Zero(t, s.ByOutcome[campaign.CoreCrash])
	assert.Zero(t, s.ByOutcome[campaign.Hang])
	assert.Empty(t, rs[0].Campaign.Errors)
	for _, in := range rs[0].Injections {
		if in.Class == "fs-corrupt-read" {
			// FAT32 has no checksums: a flipped bit in a FAT entry or a directory entry may
			// lead the server to another file's clusters or a wrong size, which nothing in the
			// format can tell. The soak client reports that as a breach; it is logged here,
			// and counted in the campaign's figures (docs/fault-injection.md).
			t.Logf("fs-corrupt-read id %d: %s: %s", in.ID, in.Outcome, in.Detail)
			continue
		}
		assert.Contains(t, []string{campaign.Restarted, campaign.Quarantined}, in.Outcome, "id %d %s: %s", in.ID, in.Class, in.Detail)
	}
	log := transcripts(t, out)
	assert.Contains(t, log, "[filetest] filetest: soak in /data/soak")
	assert.Contains(t, log, "fs: serving / (FAT32 on blk, 64 MiB)", "each boot has a FAT32 volume")
	assert.Contains(t, log, "fs: fault: fs-crash-mid-write: device write ")
	assert.Contains(t, log, "fs: fault: fs-hang: the server stops answering")
	assert.Contains(t, log, "watchdog: killing pid ")
	// Crashes and kills leave at most lost clusters. A corrupted FAT read can leave more: the
	// server writes its copy of a FAT sector back whole when it allocates in it, flipped bit
	// included (docs/files.md, "Corrupted reads").
	fatFlipped := strings.Contains(log, "of the FAT read at sector")
	fscks, _ := filepath.Glob(filepath.Join(out, "disks", "*.fsck"))
	require.NotEmpty(t, fscks, "each boot's image was checked")
	for _, f := range fscks {
		b, err := os.ReadFile(f)
		require.NoError(t, err)
		t.Logf("%s:\n%s", filepath.Base(f), b)
		if !fatFlipped {
			assert.True(t, strings.HasPrefix(string(b), "fsck.fat -n: exit 0") || campaign.OnlyLostClusters(string(b)),
				"%s: fsck.fat found more than lost clusters:\n%s", f, b)
		}
	}
}

package bench

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/simpleos/simpleos/bench/linux"
	"github.com/simpleos/simpleos/bench/result"
	"github.com/simpleos/simpleos/boot"
	"github.com/simpleos/simpleos/boot/disk"
)

// The file-system benchmarks: bench/guest's files/ benchmarks (small-file create, read, stat
// and unlink; sequential write+fsync and read in 64 KiB and 1 MiB calls) through the Linux
// file API, on SimpleOS (the core's VFS, the ring-3 server ring3/fs, FAT32 on the ring-1
// driver at /data, memory at /tmp) and on Linux (Debian's cloud kernel: the same FAT32 image
// mounted as vfat, and a tmpfs), each booted on its own copy of one freshly made image.

// FilesPolicy is the policy of the SimpleOS files boots (bench/policy/files.policy).
//
//go:embed policy/files.policy
var FilesPolicy []byte

// FilesBenchmarks are bench/guest's files benchmarks, in the order they run in each
// directory; the results are named files/LABEL/KIND (files/data/stat).
var FilesBenchmarks = []string{
	"files/create-4k", "files/read-4k", "files/stat", "files/unlink",
	"files/seq-write-64k", "files/seq-read-64k", "files/seq-write-1m", "files/seq-read-1m",
}

// FilesImageSize is the FAT32 image both systems get: the size `simpleos run` makes.
const FilesImageSize = 64 << 20

// FilesTmpSize is the ring-3 server's /tmp in the files boots.
const FilesTmpSize = "48MiB"

// The directories the guest uses: SimpleOS's (the server makes /data on the volume) and
// Linux's (the image mounted on /vol, so that the files sit in the volume's /data as well).
var (
	filesDirsSimpleOS = "/data,/tmp"
	filesDirsLinux    = "/vol/data,/tmp"
	filesMountsLinux  = "vfat:/dev/vda:/vol,tmpfs:tmpfs:/tmp"
)

// filesFigure turns one of bench/guest's files results into a figure named
// Files/LABEL/KIND/system: guest time per operation (a file, or a chunk of a sequential
// file: with MB/s). Figures on the disk are marked Elapsed (they include waiting for the
// device: under -icount not an instruction count); those in memory are not.
func filesFigure(r result.Result, e Env, system, source string) (Figure, bool) {
	rest, ok := strings.CutPrefix(r.Name, "files/")
	label, kind, ok2 := strings.Cut(rest, "/")
	if !ok || !ok2 || label == "" || kind == "" || strings.Contains(kind, "/") {
		return Figure{}, false
	}
	f := figureOf(r, "Files/"+label+"/"+kind+"/"+system, e, systemOf(system), source)
	f.Elapsed = label != "tmp"
	if chunk := filesChunk(kind); chunk > 0 && r.NsPerOp > 0 {
		f.Extra = []Metric{{Unit: "MB/s", Value: float64(chunk) / r.NsPerOp * 1e3}}
	}
	return f, true
}

// filesChunk is the bytes per operation of a sequential kind (seq-write-64k: 65536), else 0.
func filesChunk(kind string) int {
	if !strings.HasPrefix(kind, "seq-") {
		return 0
	}
	switch {
	case strings.HasSuffix(kind, "-64k"):
		return 64 << 10
	case strings.HasSuffix(kind, "-1m"):
		return 1 << 20
	}
	return 0
}

// runFiles makes one FAT32 image and boots SimpleOS and (unless the run leaves Linux out)
// Linux on copies of it.
func (s *suite) runFiles(ctx context.Context, e Env) {
	dir := filepath.Join(s.cfg.Out, "files")
	image := filepath.Join(dir, e.Name+"-fat32.img")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		s.errorf("%s-files: %v", e.Name, err)
		return
	}
	_ = os.Remove(image)
	if err := disk.Create(image, FilesImageSize); err != nil {
		s.errorf("%s-files: %v", e.Name, err)
		return
	}
	s.runFilesSimpleOS(ctx, e, image)
	if !s.cfg.NoLinux {
		s.runFilesLinux(ctx, e, image)
	}
}

// filesCopy copies the pristine image for one boot (sparse copies are not needed: 64 MiB).
func filesCopy(image, system string) (string, error) {
	to := strings.TrimSuffix(image, "-fat32.img") + "-" + system + ".img"
	in, err := os.Open(image)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return "", err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return "", err
	}
	return to, out.Close()
}

// filesGuestArgs are bench/guest's arguments besides the directories.
func (s *suite) filesGuestArgs() []string {
	var args []string
	if s.cfg.Sizes.GuestQuick {
		args = append(args, "-quick")
	}
	if s.cfg.Sizes.FilesMiB > 0 {
		args = append(args, "-files-mib", strconv.Itoa(s.cfg.Sizes.FilesMiB))
	}
	return args
}

func (s *suite) runFilesSimpleOS(ctx context.Context, e Env, image string) {
	name := e.Name + "-files"
	s.progress.boot(e.Name + ": files through the ring-3 file-system server (FAT32 /data, memory /tmp)")
	if s.guest == "" || s.blk == "" || s.fsd == "" {
		s.errorf("%s: %s, tier1/blk or ring3/fs was not built", name, GuestPackage)
		return
	}
	policyFile := filepath.Join(s.cfg.Out, "policy", "files.policy")
	if err := os.WriteFile(policyFile, FilesPolicy, 0o644); err != nil {
		s.errorf("%s: %v", name, err)
		return
	}
	img, err := filesCopy(image, SimpleOS)
	if err != nil {
		s.errorf("%s: %v", name, err)
		return
	}
	args := append(s.filesGuestArgs(), "-only", strings.Join(FilesBenchmarks, ","), "-files", filesDirsSimpleOS)
	o, err := boot.System(s.cfg.Paths, boot.SystemSpec{
		Apps: []boot.AppSpec{
			{Ring: 1, Path: s.blk},
			{Ring: 3, Path: s.fsd, Args: []string{"--tmp-size=" + FilesTmpSize}},
			{Ring: 3, Path: s.guest, Args: args},
		},
		NoModules: true,
		Policy:    policyFile,
	}, s.cfg.Log)
	if err != nil {
		s.errorf("%s: %v", name, err)
		return
	}
	o.Accel, o.Icount, o.Disk = e.Accel, e.Icount, img
	o.Timeout = s.bootTimeout(15 * time.Minute)
	res, err := s.runBoot(ctx, name, o)
	if err != nil {
		s.errorf("%s: %v", name, err)
		return
	}
	source := "bench/guest " + strings.Join(args, " ") + " as a ring-3 task: the core's VFS, the ring-3 server ring3/fs " +
		"(FAT32 on the ring-1 driver at /data, memory at /tmp)"
	problems := s.addFiles(res.Output, e, SimpleOS, source)
	if !bytes.Contains(res.Output, []byte("bench done")) {
		problems = append(problems, "no \"bench done\" line")
	}
	if why := bootEnded(res); why != "" {
		problems = append(problems, "the boot "+why)
	}
	if len(problems) > 0 {
		s.errorf("%s: %s (transcript: %s)", name, strings.Join(problems, "; "), s.logPath(name))
	}
}

func (s *suite) runFilesLinux(ctx context.Context, e Env, image string) {
	name := e.Name + "-files-linux"
	s.progress.boot(e.Name + ": files on Linux (the same FAT32 image as vfat, tmpfs)")
	img, err := filesCopy(image, Linux)
	if err != nil {
		s.errorf("%s: %v", name, err)
		return
	}
	dir := s.cfg.LinuxDir
	if dir == "" {
		dir = filepath.Join(s.cfg.Out, "linux")
	}
	guestArgs := []string{"-mount", filesMountsLinux, "-files", filesDirsLinux}
	if s.cfg.Sizes.FilesMiB > 0 {
		guestArgs = append(guestArgs, "-files-mib", strconv.Itoa(s.cfg.Sizes.FilesMiB))
	}
	o := linux.RunOptions{
		Dir:       dir,
		Root:      s.cfg.Paths.Root,
		Quick:     s.cfg.Sizes.GuestQuick,
		Only:      FilesBenchmarks,
		Accel:     e.Accel,
		Icount:    e.Icount,
		Disk:      img,
		GuestArgs: guestArgs,
		Timeout:   s.cfg.Sizes.LinuxTimeout,
		Log:       s.cfg.Log,
	}
	_, out, err := LinuxRun(ctx, o)
	if len(out) > 0 {
		_ = os.WriteFile(filepath.Join(s.cfg.Out, "logs", name+".log"), out, 0o644)
	}
	shown := append([]string{"-poweroff"}, guestArgs...)
	if o.Quick {
		shown = append(shown, "-quick")
	}
	source := "bench/guest " + strings.Join(shown, " ") +
		" as /init of Debian's cloud kernel: the image mounted as vfat (modules fat, vfat, nls_cp437, nls_ascii), tmpfs at /tmp"
	problems := s.addFiles(out, e, Linux, source)
	if err != nil {
		problems = append(problems, strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	if len(problems) > 0 {
		s.report.Linux = mergeStatus(s.report.Linux, e.Name+" files: failed")
		s.errorf("%s: %s (transcript: %s)", name, strings.Join(problems, "; "), s.logPath(name))
		return
	}
	s.report.Linux = mergeStatus(s.report.Linux, e.Name+" files: measured")
}

// addFiles adds the files figures of a transcript and returns what is wrong with it: results
// missing, unexpected or failed, skips.
func (s *suite) addFiles(out []byte, e Env, system, source string) []string {
	rs, problems := guestResults(out)
	want := map[string]bool{}
	for _, label := range []string{"data", "tmp"} {
		for _, b := range FilesBenchmarks {
			want["files/"+label+"/"+strings.TrimPrefix(b, "files/")] = true
		}
	}
	for _, r := range rs {
		f, ok := filesFigure(r, e, system, source)
		if !ok || !want[r.Name] {
			problems = append(problems, "unexpected result "+r.Name)
			continue
		}
		delete(want, r.Name)
		s.add(f)
	}
	var missing []string
	for name := range want {
		missing = append(missing, name)
	}
	if len(missing) > 0 && len(rs) > 0 {
		problems = append(problems, fmt.Sprintf("no result for %d benchmarks", len(missing)))
	}
	for _, m := range skipRE.FindAllStringSubmatch(string(out), -1) {
		problems = append(problems, fmt.Sprintf("%s skipped: %s", m[1], strings.TrimSpace(m[2])))
	}
	if len(rs) == 0 && len(problems) == 0 {
		problems = append(problems, "no results")
	}
	return problems
}

// filesRows are the files table's rows: kind and label.
var filesRows = []struct{ kind, label string }{
	{"create-4k", "create + write 4 KiB + close"},
	{"read-4k", "open + read 4 KiB + close"},
	{"stat", "stat"},
	{"unlink", "unlink"},
	{"seq-write-64k", "sequential write + fsync, 64 KiB calls"},
	{"seq-read-64k", "sequential read, 64 KiB calls"},
	{"seq-write-1m", "sequential write + fsync, 1 MiB calls"},
	{"seq-read-1m", "sequential read, 1 MiB calls"},
}

// filesTable compares SimpleOS and Linux file by file system, in every environment: per
// operation (µs, or instructions under -icount in memory) or MB/s, and SimpleOS's time over
// Linux's.
func (r *Report) filesTable(b *strings.Builder) {
	var rows []string
	for _, e := range r.Envs {
		for _, fsys := range []struct{ label, what string }{{"data", "FAT32 disk"}, {"tmp", "memory"}} {
			for _, row := range filesRows {
				name := "Files/" + fsys.label + "/" + row.kind + "/"
				so, okS := r.Find(name+SimpleOS, e.Name, SimpleOS)
				lx, okL := r.Find(name+Linux, e.Name, Linux)
				if !okS && !okL {
					continue
				}
				cell := func(f Figure, ok bool) string {
					switch {
					case !ok:
						return "not measured"
					case filesChunk(row.kind) > 0:
						v, _ := f.Metric("MB/s")
						return num(v) + " MB/s"
					}
					return perOp(f.NsPerOp, f.Instructions(e))
				}
				ratio := "—"
				if okS && okL && lx.NsPerOp > 0 {
					ratio = fmt.Sprintf("%.2f", so.NsPerOp/lx.NsPerOp)
				}
				rows = append(rows, fmt.Sprintf("| %s | /%s (%s) | %s | %s | %s | %s |", e.Name, fsys.label, fsys.what,
					row.label, cell(so, okS), cell(lx, okL), ratio))
			}
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("## Files\n\n")
	b.WriteString("bench/guest's files benchmarks through the Linux file API, the same program on both systems: " +
		"SimpleOS's /data (FAT32 through the core's VFS, the ring-3 server and the ring-1 disk driver) and /tmp " +
		"(the server's memory file system); Linux's vfat mount of the same freshly made FAT32 image and a tmpfs. " +
		"Small-file figures are per file; sequential ones in MB/s (fsync included in writes; Linux's page cache " +
		"dropped with POSIX_FADV_DONTNEED before each read pass, its small files stay cached). Disk figures are guest " +
		"time including waiting for the device (under -icount not instruction counts); memory figures under " +
		"-icount are instructions. *SimpleOS ÷ Linux* divides times: above 1 is slower.\n\n")
	b.WriteString("| env | file system | operation | SimpleOS | Linux | SimpleOS ÷ Linux |\n")
	b.WriteString("|---|---|---|--:|--:|--:|\n")
	for _, row := range rows {
		b.WriteString(row + "\n")
	}
	b.WriteString("\n")
}

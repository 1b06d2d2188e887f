package linux

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// MetaPackage is Debian's package that always depends on the current cloud kernel image.
const MetaPackage = "linux-image-cloud-amd64"

// Kernel is an unpacked Debian kernel image.
type Kernel struct {
	Path           string // DIR/boot/vmlinuz-RELEASE
	Release        string // what uname -r says, e.g. "6.1.0-56-cloud-amd64"
	Package        string // e.g. "linux-image-6.1.0-56-cloud-amd64"
	PackageVersion string // Debian's version of the package, e.g. "6.1.192-2" ("" if unknown)
}

// ErrNoAptLists is wrapped by Fetch's error when apt knows no such package: the host's package
// lists are missing or stale.
var ErrNoAptLists = errors.New("apt has no package lists for it (run `sudo apt-get update`)")

// Fetch gets the kernel image package MetaPackage points to into dir with `apt-get download`
// (as the current user, installing nothing) and unpacks it there with `dpkg-deb -x`. A kernel
// already unpacked in dir is reused, also when apt cannot be asked. Progress goes to w (may be
// nil).
func Fetch(ctx context.Context, dir string, w io.Writer) (Kernel, error) {
	if w == nil {
		w = io.Discard
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Kernel{}, fmt.Errorf("linux: %w", err)
	}
	pkg, err := resolveImage(ctx)
	if err != nil {
		if k, ok := newestCached(dir); ok {
			fmt.Fprintf(w, "linux: %v; reusing the kernel already in %s: %s\n", err, dir, k.Release)
			return k, nil
		}
		return Kernel{}, err
	}
	k := cachedKernel(dir, pkg)
	if k.Path != "" {
		fmt.Fprintf(w, "linux: reusing %s (%s) in %s\n", k.Package, k.Release, dir)
		return k, nil
	}
	fmt.Fprintf(w, "linux: downloading %s (for %s) into %s\n", pkg, MetaPackage, dir)
	if err := aptDownload(ctx, dir, pkg, w); err != nil {
		return Kernel{}, err
	}
	deb, err := findDeb(dir, pkg)
	if err != nil {
		return Kernel{}, err
	}
	out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", deb, dir).CombinedOutput()
	if err != nil {
		return Kernel{}, fmt.Errorf("linux: dpkg-deb -x %s: %v: %s", deb, err, bytes.TrimSpace(out))
	}
	k = Kernel{Path: vmlinuz(dir, pkg), Release: release(pkg), Package: pkg, PackageVersion: debVersion(deb)}
	if _, err := os.Stat(k.Path); err != nil {
		return Kernel{}, fmt.Errorf("linux: %s has no kernel at boot/vmlinuz-%s: %w", deb, k.Release, err)
	}
	// Only a complete unpack counts as cached (dpkg-deb may have been killed half-way).
	if err := os.WriteFile(stampPath(dir, pkg), []byte(k.PackageVersion+"\n"), 0o644); err != nil {
		return Kernel{}, fmt.Errorf("linux: %w", err)
	}
	return k, nil
}

// resolveImage asks apt which real image package the metapackage depends on.
func resolveImage(ctx context.Context) (string, error) {
	if _, err := exec.LookPath("apt-cache"); err != nil {
		return "", fmt.Errorf("linux: apt-cache not found: fetching Debian's kernel needs apt (a Debian or Ubuntu host)")
	}
	cmd := exec.CommandContext(ctx, "apt-cache", "depends", MetaPackage)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", aptError("apt-cache depends "+MetaPackage, err, append(out, stderr.Bytes()...))
	}
	pkg, ok := parseDepends(out)
	if !ok {
		return "", fmt.Errorf("linux: %s depends on no linux-image package:\n%s", MetaPackage, out)
	}
	return pkg, nil
}

// parseDepends picks the first "Depends: linux-image-..." line of `apt-cache depends`.
func parseDepends(out []byte) (string, bool) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":")
		v = strings.Trim(strings.TrimSpace(v), "<>")
		if ok && strings.TrimLeft(k, "|") == "Depends" && strings.HasPrefix(v, "linux-image-") {
			return v, true
		}
	}
	return "", false
}

// aptError explains a failed apt command, pointing at `apt-get update` when apt does not know
// the package.
func aptError(what string, err error, out []byte) error {
	text := strings.TrimSpace(string(out))
	for _, sign := range []string{"Unable to locate package", "No packages found", "has no installation candidate", "Can't select candidate version", "Can't select versions"} {
		if strings.Contains(text, sign) {
			return fmt.Errorf("linux: %s: %w:\n%s", what, ErrNoAptLists, text)
		}
	}
	return fmt.Errorf("linux: %s: %v:\n%s", what, err, text)
}

func aptDownload(ctx context.Context, dir, pkg string, w io.Writer) error {
	var out bytes.Buffer
	cmd := exec.CommandContext(ctx, "apt-get", "download", pkg)
	cmd.Dir = dir
	cmd.Stdout = io.MultiWriter(&out, w)
	cmd.Stderr = io.MultiWriter(&out, w)
	if err := cmd.Run(); err != nil {
		return aptError("apt-get download "+pkg, err, out.Bytes())
	}
	return nil
}

// findDeb finds the downloaded package file, named PKG_VERSION_ARCH.deb.
func findDeb(dir, pkg string) (string, error) {
	debs, _ := filepath.Glob(filepath.Join(dir, pkg+"_*.deb"))
	if len(debs) == 0 {
		return "", fmt.Errorf("linux: apt-get download left no %s_*.deb in %s", pkg, dir)
	}
	sort.Strings(debs)
	return debs[len(debs)-1], nil
}

// debVersion reads the version from a package file name (apt writes ':' as %3a).
func debVersion(deb string) string {
	parts := strings.Split(strings.TrimSuffix(filepath.Base(deb), ".deb"), "_")
	if len(parts) != 3 {
		return ""
	}
	v, err := url.PathUnescape(parts[1])
	if err != nil {
		return parts[1]
	}
	return v
}

// release turns an image package name into the kernel release it contains.
func release(pkg string) string {
	return strings.TrimSuffix(strings.TrimPrefix(pkg, "linux-image-"), "-unsigned")
}

func vmlinuz(dir, pkg string) string {
	return filepath.Join(dir, "boot", "vmlinuz-"+release(pkg))
}

func stampPath(dir, pkg string) string {
	return filepath.Join(dir, pkg+".unpacked")
}

// cachedKernel returns the completely unpacked kernel of pkg in dir, or a zero Kernel.
func cachedKernel(dir, pkg string) Kernel {
	stamp, err := os.ReadFile(stampPath(dir, pkg))
	if err != nil {
		return Kernel{}
	}
	k := Kernel{Path: vmlinuz(dir, pkg), Release: release(pkg), Package: pkg, PackageVersion: strings.TrimSpace(string(stamp))}
	if _, err := os.Stat(k.Path); err != nil {
		return Kernel{}
	}
	return k
}

// newestCached returns the kernel in dir that was unpacked last.
func newestCached(dir string) (Kernel, bool) {
	stamps, _ := filepath.Glob(filepath.Join(dir, "linux-image-*.unpacked"))
	var best Kernel
	var bestTime time.Time
	for _, stamp := range stamps {
		fi, err := os.Stat(stamp)
		if err != nil || !fi.ModTime().After(bestTime) {
			continue
		}
		if k := cachedKernel(dir, strings.TrimSuffix(filepath.Base(stamp), ".unpacked")); k.Path != "" {
			best, bestTime = k, fi.ModTime()
		}
	}
	return best, best.Path != ""
}

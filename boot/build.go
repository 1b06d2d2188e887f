package boot

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// How the core is built. These are the only place the link layout is spelled out.
const (
	ModulePath      = "github.com/simpleos/simpleos"
	CoreLinkAddr    = 0x200000 // .text; the first page below it holds the ELF headers
	CoreLinkAlign   = 0x1000
	CorePackage     = "./core"
	CoreEntrySymbol = ModulePath + "/core/kernel.multibootEntry"
)

// Paths locates the build inputs and outputs of one checkout.
type Paths struct {
	Root     string // the module root
	BuildDir string // build/
	ELF      string // build/simpleos.elf: the linked core, also passed to it as module 0
	Image    string // build/simpleos.img: the Multiboot image QEMU boots
	// CoverPkg, when set, builds the core with Go's coverage counters in these packages
	// (go build -cover -coverpkg=CoverPkg): the fuzz runner writes them out at power-off.
	// Give such a build its own ELF and Image.
	CoverPkg string
}

// DefaultPaths returns the standard layout under root.
func DefaultPaths(root string) Paths {
	dir := filepath.Join(root, "build")
	return Paths{
		Root:     root,
		BuildDir: dir,
		ELF:      filepath.Join(dir, "simpleos.elf"),
		Image:    filepath.Join(dir, "simpleos.img"),
	}
}

// FindRoot walks up from start to the directory whose go.mod declares the SimpleOS module.
func FindRoot(start string) (string, error) {
	dir, err := filepath.Abs(start)
	if err != nil {
		return "", fmt.Errorf("boot: %w", err)
	}
	for {
		if declaresModule(filepath.Join(dir, "go.mod"), ModulePath) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("boot: no go.mod declaring module %s in %s or any parent", ModulePath, start)
		}
		dir = parent
	}
}

func declaresModule(gomod, module string) bool {
	f, err := os.Open(gomod)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) >= 2 && fields[0] == "module" {
			return strings.Trim(fields[1], "\"`") == module
		}
	}
	return false
}

// BuildCore compiles the core and turns it into the boot image. Compiler output is copied to w
// (which may be nil) and included in the returned error.
func BuildCore(p Paths, w io.Writer) error {
	unlock, err := lockBuild(p)
	if err != nil {
		return err
	}
	defer unlock()
	return buildCoreLocked(p, w)
}

// EnsureBuilt rebuilds the core only when the image is older than the sources.
func EnsureBuilt(p Paths, w io.Writer) error {
	if stale, err := Stale(p); err != nil || !stale {
		return err
	}
	unlock, err := lockBuild(p)
	if err != nil {
		return err
	}
	defer unlock()
	// Another process may have rebuilt while we waited for the lock.
	if stale, err := Stale(p); err != nil || !stale {
		return err
	}
	return buildCoreLocked(p, w)
}

// buildCoreLocked builds into temporary files and renames them into place, so a concurrent
// reader never sees a half-written ELF or image. The image comes last: its mtime is what Stale
// compares against, so a failure in between leaves the build stale.
func buildCoreLocked(p Paths, w io.Writer) error {
	tmpELF, err := tempPath(p.BuildDir, "simpleos.elf")
	if err != nil {
		return err
	}
	defer os.Remove(tmpELF)
	tmpImg, err := tempPath(p.BuildDir, "simpleos.img")
	if err != nil {
		return err
	}
	defer os.Remove(tmpImg)

	var out bytes.Buffer
	sink := io.Writer(&out)
	if w != nil {
		sink = io.MultiWriter(w, &out)
	}
	ldflags := fmt.Sprintf("-T %#x -R %#x", CoreLinkAddr, CoreLinkAlign)
	args := []string{"build", "-o", tmpELF, "-ldflags", ldflags}
	if p.CoverPkg != "" {
		args = append(args, "-cover", "-covermode=atomic", "-coverpkg="+p.CoverPkg)
	}
	cmd := exec.Command("go", append(args, CorePackage)...)
	cmd.Dir = p.Root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	cmd.Stdout, cmd.Stderr = sink, sink
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("boot: go build %s failed: %v\n%s", CorePackage, err, out.String())
	}

	if err := os.Rename(tmpELF, p.ELF); err != nil { // first, so errors name build/simpleos.elf
		return fmt.Errorf("boot: %w", err)
	}
	if _, err := BuildImage(p.ELF, tmpImg, CoreEntrySymbol); err != nil {
		return err
	}
	if err := os.Rename(tmpImg, p.Image); err != nil {
		return fmt.Errorf("boot: %w", err)
	}
	return nil
}

func tempPath(dir, name string) (string, error) {
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("boot: %w", err)
	}
	f.Close()
	return f.Name(), nil
}

// lockBuild serialises builds between processes (parallel `go test` binaries, the CLI).
func lockBuild(p Paths) (unlock func(), err error) {
	if err := os.MkdirAll(p.BuildDir, 0o755); err != nil {
		return nil, fmt.Errorf("boot: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(p.BuildDir, ".build.lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("boot: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("boot: locking %s: %w", f.Name(), err)
	}
	return func() { f.Close() }, nil // closing the file drops the lock
}

// Stale reports whether the ELF or image is missing or older than any source file under Root.
func Stale(p Paths) (bool, error) {
	built := func(path string) (stamp int64, ok bool, err error) {
		st, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return 0, false, nil
		}
		if err != nil {
			return 0, false, fmt.Errorf("boot: %w", err)
		}
		return st.ModTime().UnixNano(), true, nil
	}
	imgTime, imgOK, err := built(p.Image)
	if err != nil || !imgOK {
		return true, err
	}
	if _, elfOK, err := built(p.ELF); err != nil || !elfOK {
		return true, err
	}

	errNewer := errors.New("newer source")
	err = filepath.WalkDir(p.Root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != p.Root && (path == p.BuildDir || strings.HasPrefix(d.Name(), ".")) {
				return filepath.SkipDir
			}
			return nil
		}
		if !isBuildInput(d.Name()) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if info.ModTime().UnixNano() > imgTime {
			return errNewer
		}
		return nil
	})
	if errors.Is(err, errNewer) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("boot: scanning sources: %w", err)
	}
	return false, nil
}

func isBuildInput(name string) bool {
	switch filepath.Ext(name) {
	case ".go", ".s":
		return true
	}
	return name == "go.mod" || name == "go.sum"
}

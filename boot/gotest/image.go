package gotest

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/simpleos/simpleos/boot/disk"
)

// dirSize is the bytes of the files under dir that makeImage would copy.
func dirSize(dir string, maxFile int64) (int64, error) {
	var n int64
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil // reported when copying
		}
		if d.IsDir() && p != dir && skipDir(d.Name()) {
			return filepath.SkipDir
		}
		if info, err := os.Stat(p); err == nil && info.Mode().IsRegular() && info.Size() <= maxFile {
			n += info.Size()
		}
		return nil
	})
	return n, err
}

// skipDir leaves out version-control and editor folders, which no test reads.
func skipDir(name string) bool {
	return name == ".git" || name == ".hg" || name == ".svn"
}

// makeImage replaces o.Disk with a FAT32 image holding each package's directory under
// /pkg/IMPORTPATH. FAT cannot hold everything a directory may: symbolic links are copied as
// the file they point to (a link to a directory is left out), two names that differ only in
// case keep the first, names FAT refuses are left out, and so are files larger than
// o.MaxFile; each is recorded in the package's Skipped.
func makeImage(o Options, rs []*Result, dirs map[string]string, data int64) error {
	// Room for the data, FAT's cluster slack (a cluster per file at worst) and the tests' own
	// writes into /pkg, which the grants refuse anyway; FAT32 needs 33 MiB at least.
	size := max(int64(disk.DefaultSize), data+data/4+32<<20)
	size = (size + 1<<20 - 1) &^ (1<<20 - 1)
	if err := os.Remove(o.Disk); err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(o.Disk), 0o755); err != nil {
		return err
	}
	if err := disk.Create(o.Disk, size); err != nil {
		return err
	}
	im, err := disk.Open(o.Disk, true)
	if err != nil {
		return err
	}
	for _, r := range rs {
		if err := copyDir(im, o, r, dirs[r.Pkg], PkgDir(r.Pkg)); err != nil {
			im.Close()
			return err
		}
		for host, guest := range parentTestdata(dirs[r.Pkg], r.Pkg) {
			if err := copyDir(im, o, r, host, guest); err != nil {
				im.Close()
				return err
			}
			r.Testdata = append(r.Testdata, guest)
		}
		for _, s := range r.Skipped {
			fmt.Fprintf(o.Log, "simpleos test: %s: left off the image: %s\n", r.Pkg, s)
		}
	}
	return im.Close()
}

// parentTestdata finds testdata/ folders in the directories above a package's, as far up as
// its import path goes (host folder -> guest folder), at most three levels: a test that reads
// ../testdata or ../../testdata finds it where it expects it.
func parentTestdata(dir, importPath string) map[string]string {
	out := map[string]string{}
	for i := 0; i < 3 && strings.Contains(importPath, "/"); i++ {
		dir, importPath = filepath.Dir(dir), path.Dir(importPath)
		if st, err := os.Stat(filepath.Join(dir, "testdata")); err == nil && st.IsDir() {
			out[filepath.Join(dir, "testdata")] = PkgDir(importPath) + "/testdata"
		}
	}
	return out
}

func copyDir(im *disk.Image, o Options, r *Result, dir, root string) error {
	seen := map[string]string{} // upper-cased guest path -> the host name that has it
	var total int64
	skip := func(rel, why string) { r.Skipped = append(r.Skipped, rel+": "+why) }
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if err != nil {
			skip(rel, err.Error())
			return nil
		}
		if p == dir {
			return nil
		}
		if d.IsDir() && skipDir(d.Name()) {
			return filepath.SkipDir
		}
		if why := fatRefuses(d.Name()); why != "" {
			skip(rel, why)
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		key := strings.ToUpper(rel)
		if other, ok := seen[key]; ok {
			skip(rel, "FAT's names ignore case: "+other+" is there already")
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		seen[key] = rel
		if d.IsDir() {
			return nil
		}
		info, err := os.Stat(p) // follows a symbolic link: FAT has none
		switch {
		case err != nil:
			skip(rel, err.Error())
			return nil
		case info.IsDir():
			skip(rel, "a symbolic link to a directory (FAT has no links)")
			return nil
		case !info.Mode().IsRegular():
			skip(rel, "not a regular file")
			return nil
		case info.Size() > o.MaxFile:
			skip(rel, fmt.Sprintf("%d MiB, above the %d MiB limit (--max-file)", info.Size()>>20, o.MaxFile>>20))
			return nil
		case total+info.Size() > DefaultMaxPackage:
			skip(rel, fmt.Sprintf("the package's files reached %d MiB", DefaultMaxPackage>>20))
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			skip(rel, err.Error())
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			skip(rel, "a symbolic link: copied as the file it points to")
		}
		if err := im.WriteFile(path.Join(root, rel), b); err != nil {
			skip(rel, err.Error())
			return nil
		}
		total += info.Size()
		return nil
	})
}

// fatRefuses says why FAT cannot hold a name ("" when it can): the server refuses control
// characters, "*/:<>?\| and names ending in a dot or a space (docs/files.md).
func fatRefuses(name string) string {
	for _, c := range name {
		if c < 0x20 || c == 0x7f || strings.ContainsRune(`"*/:<>?\|`, c) {
			return fmt.Sprintf("FAT refuses the character %q in a name", c)
		}
	}
	if strings.HasSuffix(name, ".") || strings.HasSuffix(name, " ") {
		return "FAT drops a trailing dot or space"
	}
	if len(name) > 255 {
		return "longer than FAT's 255 characters"
	}
	return ""
}

// Package gotestfail is simpleos test's failing package (tests/gotest_test.go): one test
// fails on purpose; the others check what a test binary gets in SimpleOS — its package
// directory as working directory (read-only) and a writable /tmp.
package gotestfail

import (
	"os"
	"path/filepath"
	"testing"
)

func TestReadsItsTestdata(t *testing.T) {
	b, err := os.ReadFile("testdata/hello.txt")
	if err != nil || string(b) != "hello from the package directory\n" {
		t.Fatalf("testdata/hello.txt: %q, %v", b, err)
	}
}

func TestTempDirIsWritable(t *testing.T) {
	f := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(f, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestPackageDirectoryIsReadOnly(t *testing.T) {
	if err := os.WriteFile("written", []byte("x"), 0o644); err == nil {
		os.Remove("written")
		t.Fatal("wrote into the package directory, which the policy grants read-only")
	}
}

func TestFails(t *testing.T) {
	t.Errorf("deliberate failure: %d", 42)
}

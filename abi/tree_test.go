package abi

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// No system-call number is written anywhere but here: every other package names its calls
// with this package's constants (or, for Linux calls the core does not serve, with the
// standard library's syscall.SYS_*). The test reads every Go file of the module and fails on
// a system call made with a number literal, and on a constant named like a system call whose
// value is a literal.
func TestNoSystemCallNumberIsWrittenTwice(t *testing.T) {
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	sysName := regexp.MustCompile(`^((sys|Sys)[A-Z]|SYS_)`)
	calls := map[string]bool{"Syscall": true, "Syscall6": true, "RawSyscall": true, "RawSyscall6": true}
	files := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			if rel == "build" || strings.HasPrefix(d.Name(), ".") || rel == "abi" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, path, src, 0)
		if err != nil {
			return nil // a generator's template or a file for another toolchain
		}
		files++
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok || !calls[sel.Sel.Name] || len(n.Args) == 0 {
					return true
				}
				if x, ok := sel.X.(*ast.Ident); !ok || x.Name != "syscall" {
					return true
				}
				if _, lit := n.Args[0].(*ast.BasicLit); lit {
					t.Errorf("%s: a system call by number; name it with package abi", fset.Position(n.Pos()))
				}
			case *ast.ValueSpec:
				for i, name := range n.Names {
					if i < len(n.Values) && sysName.MatchString(name.Name) {
						if lit, ok := n.Values[i].(*ast.BasicLit); ok && lit.Kind == token.INT {
							t.Errorf("%s: %s is a system-call number written again; use package abi's", fset.Position(name.Pos()), name.Name)
						}
					}
				}
			}
			return true
		})
		return nil
	})
	require.NoError(t, err)
	assert.Greater(t, files, 200, "the walk read the module")
}

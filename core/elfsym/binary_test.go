package elfsym

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// testBinary is a small static Go program built for the test (go test strips its own
// binary of .symtab, so the test executable itself cannot serve).
type testBinary struct {
	img   []byte
	funcs []elf.Symbol // defined STT_FUNC symbols in table order
	all   []elf.Symbol
}

const testProgram = `package main

import "os"

func main() { os.Stdout.WriteString("hello\n") }
`

var built struct {
	once sync.Once
	dir  string
	path string
	err  error
	out  []byte
}

// buildTestProgram builds testProgram once per test run.
func buildTestProgram(t *testing.T) string {
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "elfsym")
		if built.err != nil {
			return
		}
		for name, body := range map[string]string{"main.go": testProgram, "go.mod": "module hello\n\ngo 1.26\n"} {
			if built.err = os.WriteFile(filepath.Join(built.dir, name), []byte(body), 0o644); built.err != nil {
				return
			}
		}
		built.path = filepath.Join(built.dir, "hello")
		cmd := exec.Command("go", "build", "-o", built.path, ".")
		cmd.Dir = built.dir
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64", "GOFLAGS=-buildvcs=false")
		built.out, built.err = cmd.CombinedOutput()
	})
	if built.err != nil {
		t.Fatalf("building test program: %v\n%s", built.err, built.out)
	}
	return built.path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		_ = os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

func loadTestBinary(t *testing.T) testBinary {
	if testing.Short() {
		t.Skip("builds a Go program")
	}
	path := buildTestProgram(t)
	img, err := os.ReadFile(path)
	require.NoError(t, err)
	f, err := elf.Open(path)
	require.NoError(t, err)
	defer f.Close()
	syms, err := f.Symbols()
	require.NoError(t, err)
	b := testBinary{img: img, all: syms}
	for _, s := range syms {
		if elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Section != elf.SHN_UNDEF {
			b.funcs = append(b.funcs, s)
		}
	}
	require.NotEmpty(t, b.funcs)
	return b
}

// lookup is the reference model of Table.Lookup over debug/elf's symbols.
func (b testBinary) lookup(pc uint64) (string, uint64, bool) {
	var sized, unsized *elf.Symbol
	for k := range b.funcs {
		s := &b.funcs[k]
		if s.Value > pc {
			continue
		}
		if s.Size == 0 {
			if unsized == nil || s.Value > unsized.Value {
				unsized = s
			}
		} else if pc-s.Value < s.Size && (sized == nil || s.Value > sized.Value) {
			sized = s
		}
	}
	if sized != nil {
		return sized.Name, pc - sized.Value, true
	}
	if unsized == nil || pc-unsized.Value >= maxUnsize {
		return "", 0, false
	}
	for _, s := range b.funcs {
		if s.Size != 0 && s.Value >= unsized.Value && s.Value <= pc {
			return "", 0, false
		}
	}
	return unsized.Name, pc - unsized.Value, true
}

// probes are addresses worth checking: around the start and end of sampled functions,
// and below and above everything.
func (b testBinary) probes() []uint64 {
	sorted := append([]elf.Symbol(nil), b.funcs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Value < sorted[j].Value })
	step := max(1, len(sorted)/300)
	pcs := []uint64{0, sorted[0].Value - 1, sorted[len(sorted)-1].Value + sorted[len(sorted)-1].Size + 1 + maxUnsize}
	for k := 0; k < len(sorted); k += step {
		s := sorted[k]
		pcs = append(pcs, s.Value-1, s.Value, s.Value+s.Size/2, s.Value+s.Size, s.Value+s.Size+1)
		if s.Size > 0 {
			pcs = append(pcs, s.Value+s.Size-1)
		}
	}
	for _, s := range sorted { // every size-0 function and what follows it
		if s.Size == 0 {
			pcs = append(pcs, s.Value, s.Value+1, s.Value+100)
		}
	}
	return pcs
}

func TestGoBinaryMatchesDebugELF(t *testing.T) {
	b := loadTestBinary(t)
	tab, _, ok := openImage(t, b.img)
	require.True(t, ok)
	assert.Equal(t, len(b.all)+1, tab.Count(), "debug/elf drops the null symbol")

	pcs := b.probes()
	found, gaps := 0, 0
	for _, pc := range pcs {
		wantName, wantOff, wantOK := b.lookup(pc)
		name, off, ok := tab.Lookup(uintptr(pc))
		require.Equal(t, wantOK, ok, "pc %#x", pc)
		require.Equal(t, wantName, name, "pc %#x", pc)
		require.Equal(t, uintptr(wantOff), off, "pc %#x", pc)
		if ok {
			found++
		} else {
			gaps++
		}
	}
	t.Logf("%d probes: %d symbolized, %d in gaps or outside", len(pcs), found, gaps)
	assert.NotZero(t, found)
	assert.NotZero(t, gaps, "alignment padding between functions is not attributed")
}

func TestGoBinaryKnownFunctions(t *testing.T) {
	b := loadTestBinary(t)
	tab, _, ok := openImage(t, b.img)
	require.True(t, ok)

	for _, name := range []string{"main.main", "runtime.main", "runtime.text"} {
		want, wantOK := uint64(0), false
		for _, s := range b.all {
			if s.Name == name && s.Section != elf.SHN_UNDEF {
				want, wantOK = s.Value, true
				break
			}
		}
		got, ok := tab.SymbolAddr(name)
		require.Equal(t, wantOK, ok, name)
		assert.Equal(t, uintptr(want), got, name)
	}
	_, ok = tab.SymbolAddr("runtime.mai")
	assert.False(t, ok)

	for _, fn := range []string{"main.main", "runtime.main"} {
		entry, ok := tab.SymbolAddr(fn)
		require.True(t, ok)
		name, off, ok := tab.Lookup(entry + 1)
		assert.True(t, ok)
		assert.Equal(t, fn, name)
		assert.Equal(t, uintptr(1), off)
	}
}

func TestTruncatedGoBinary(t *testing.T) {
	b := loadTestBinary(t)
	n := len(b.img)
	lengths := []int{0, 1, 4, 16, 63, 64, 65, 4096, n / 3, n / 2, n - 4096, n - 64, n - 1}
	for k := 1; k < 64; k++ {
		lengths = append(lengths, n*k/64)
	}
	for _, length := range lengths {
		tab, _, ok := openImage(t, b.img[:length])
		if !ok {
			continue
		}
		// Whatever survived the truncation must be usable without faulting.
		for _, pc := range b.probes()[:50] {
			_, _, _ = tab.Lookup(uintptr(pc))
		}
		_, _ = tab.SymbolAddr("main.main")
	}
}

package bpf

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
)

// ProgramSpec is a program before verification.
//
// A map is referenced with ld_imm64 src=1 (asm.LoadMapPtr): either the
// instruction carries a reference to a map's Name (as cilium's ELF loader
// produces), or its constant is the index of the map in Maps.
type ProgramSpec struct {
	Name         string
	Instructions asm.Instructions
	Maps         []MapSpec
}

// LoadError says which program failed to load and why. Err is a
// *VerifyError when the verifier rejected the program.
type LoadError struct {
	Program string
	Err     error
}

func (e *LoadError) Error() string { return fmt.Sprintf("program %s: %v", e.Program, e.Err) }
func (e *LoadError) Unwrap() error { return e.Err }

// Load verifies spec for hook and returns the runnable program, with fresh
// (zeroed) maps. A program that fails verification is never returned.
func Load(spec *ProgramSpec, hook Hook) (*Program, error) {
	maps := make([]*Map, len(spec.Maps))
	for i, ms := range spec.Maps {
		m, err := NewMap(ms)
		if err != nil {
			return nil, &LoadError{spec.Name, err}
		}
		maps[i] = m
	}
	byName := map[string]int{}
	for i, ms := range spec.Maps {
		byName[ms.Name] = i
	}
	return load(spec.Name, spec.Instructions, maps, byName, hook)
}

// fdMap lets asm.Instructions.Marshal encode a map index as the "fd".
type fdMap int

func (f fdMap) FD() int { return int(f) }

func load(name string, insns asm.Instructions, maps []*Map, byName map[string]int, hook Hook) (*Program, error) {
	insns = copyInsns(insns)
	for i := range insns {
		ins := &insns[i]
		if !ins.IsLoadFromMap() || ins.Reference() == "" {
			continue
		}
		idx, ok := byName[ins.Reference()]
		if !ok {
			return nil, &LoadError{name, fmt.Errorf("instruction %d: reference to unknown map %q", i, ins.Reference())}
		}
		if err := ins.AssociateMap(fdMap(idx)); err != nil {
			return nil, &LoadError{name, fmt.Errorf("instruction %d: %w", i, err)}
		}
	}
	var buf bytes.Buffer
	if err := insns.Marshal(&buf, binary.LittleEndian); err != nil {
		return nil, &LoadError{name, fmt.Errorf("encoding instructions: %w", err)}
	}
	raw, err := decodeRaw(buf.Bytes())
	if err != nil {
		return nil, &LoadError{name, err}
	}
	return newProgram(name, raw, maps, hook)
}

func copyInsns(in asm.Instructions) asm.Instructions {
	out := make(asm.Instructions, len(in))
	for i, ins := range in {
		out[i] = ins
		out[i].Metadata = ins.Metadata // Metadata is copy-on-write
	}
	return out
}

func newProgram(name string, raw []insn, maps []*Map, hook Hook) (*Program, error) {
	if hook.CtxSize <= 0 || hook.CtxSize > 1<<20 {
		return nil, &LoadError{name, fmt.Errorf("hook %s: bad context size %d", hook.Name, hook.CtxSize)}
	}
	if len(maps) > MaxMaps {
		return nil, &LoadError{name, fmt.Errorf("%d maps, at most %d", len(maps), MaxMaps)}
	}
	if err := verify(raw, hook, maps); err != nil {
		return nil, &LoadError{name, err}
	}
	p := &Program{name: name, hook: hook, insns: raw, maps: maps}
	region := regionMaps
	for _, m := range maps {
		p.mapRegion = append(p.mapRegion, region)
		region += int(m.MaxEntries)
	}
	return p, nil
}

// LoadRaw verifies raw little-endian 8-byte instructions (no maps) for hook.
func LoadRaw(b []byte, hook Hook) (*Program, error) {
	raw, err := decodeRaw(b)
	if err != nil {
		return nil, &LoadError{"raw", err}
	}
	return newProgram("raw", raw, nil, hook)
}

// LoadELF reads a clang -target bpf object with cilium/ebpf's ELF loader
// (nothing is loaded into Linux) and verifies every program in it for hook,
// in name order. Maps come from the object's map sections and are shared by
// its programs; a program may only reference Array maps with 4-byte keys.
//
// It returns the programs that verified and, if some did not, an error
// joining one *LoadError per failed program.
func LoadELF(r io.ReaderAt, hook Hook) ([]*Program, error) {
	cs, err := ebpf.LoadCollectionSpecFromReader(r)
	if err != nil {
		return nil, fmt.Errorf("reading ELF object: %w", err)
	}
	names := make([]string, 0, len(cs.Programs))
	for n := range cs.Programs {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return nil, errors.New("ELF object has no programs")
	}
	shared := map[string]*Map{}
	var progs []*Program
	var errs []error
	for _, n := range names {
		ps := cs.Programs[n]
		var maps []*Map
		byName := map[string]int{}
		var merr error
		for _, ins := range ps.Instructions {
			ref := ins.Reference()
			if !ins.IsLoadFromMap() || ref == "" {
				continue
			}
			if _, ok := byName[ref]; ok {
				continue
			}
			m := shared[ref]
			if m == nil {
				ms, ok := cs.Maps[ref]
				if !ok {
					merr = fmt.Errorf("reference to unknown map %q", ref)
					break
				}
				if m, merr = NewMap(MapSpec{Name: ref, Type: ms.Type, KeySize: ms.KeySize, ValueSize: ms.ValueSize, MaxEntries: ms.MaxEntries}); merr != nil {
					break
				}
				shared[ref] = m
			}
			byName[ref] = len(maps)
			maps = append(maps, m)
		}
		if merr != nil {
			errs = append(errs, &LoadError{n, merr})
			continue
		}
		p, err := load(n, ps.Instructions, maps, byName, hook)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		progs = append(progs, p)
	}
	return progs, errors.Join(errs...)
}

// IsELF reports whether b starts with the ELF magic.
func IsELF(b []byte) bool { return bytes.HasPrefix(b, []byte("\x7fELF")) }

package bpf

import (
	"fmt"

	"github.com/cilium/ebpf"
)

// MapSpec declares a map a program uses. Only ebpf.Array maps with KeySize 4
// are supported.
type MapSpec struct {
	Name       string
	Type       ebpf.MapType
	KeySize    uint32
	ValueSize  uint32
	MaxEntries uint32
}

// Map is an array map: MaxEntries values of ValueSize bytes, indexed by a
// little-endian u32 key, all zero initially.
type Map struct {
	Name       string
	KeySize    uint32
	ValueSize  uint32
	MaxEntries uint32
	data       []byte
}

// NewMap creates the map spec declares, or says why it is unsupported.
func NewMap(spec MapSpec) (*Map, error) {
	switch {
	case spec.Type != ebpf.Array:
		return nil, fmt.Errorf("map %s: unsupported map type %v (only Array)", spec.Name, spec.Type)
	case spec.KeySize != 4:
		return nil, fmt.Errorf("map %s: key size %d, want 4", spec.Name, spec.KeySize)
	case spec.ValueSize == 0 || spec.ValueSize > MaxValueSize:
		return nil, fmt.Errorf("map %s: value size %d out of range [1, %d]", spec.Name, spec.ValueSize, MaxValueSize)
	case spec.MaxEntries == 0 || spec.MaxEntries > MaxMapEntries:
		return nil, fmt.Errorf("map %s: max entries %d out of range [1, %d]", spec.Name, spec.MaxEntries, MaxMapEntries)
	}
	return &Map{
		Name: spec.Name, KeySize: 4, ValueSize: spec.ValueSize, MaxEntries: spec.MaxEntries,
		data: make([]byte, int(spec.ValueSize)*int(spec.MaxEntries)),
	}, nil
}

// Lookup returns the value stored under key (the live bytes: writes through
// the slice are seen by programs), or nil if key is out of range.
func (m *Map) Lookup(key uint32) []byte {
	if key >= m.MaxEntries {
		return nil
	}
	v := int(m.ValueSize)
	return m.data[int(key)*v : int(key+1)*v : int(key+1)*v]
}

// Update stores value under key.
func (m *Map) Update(key uint32, value []byte) error {
	v := m.Lookup(key)
	if v == nil {
		return fmt.Errorf("map %s: key %d out of range", m.Name, key)
	}
	if len(value) != len(v) {
		return fmt.Errorf("map %s: value is %d bytes, want %d", m.Name, len(value), len(v))
	}
	copy(v, value)
	return nil
}

package bpf

import (
	"bytes"
	"fmt"
)

// LoadFilterBytes verifies a filter for the IPC-call hook from a file's bytes: a clang
// -target bpf ELF object (its first program) or raw little-endian instructions. name is used
// in messages.
func LoadFilterBytes(name string, b []byte) (*Program, error) {
	if bytes.HasPrefix(b, []byte("\x7fELF")) {
		progs, err := LoadELF(bytes.NewReader(b), HookIPCCall)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if len(progs) == 0 {
			return nil, fmt.Errorf("%s: no program", name)
		}
		return progs[0], nil
	}
	p, err := LoadRaw(b, HookIPCCall)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return p, nil
}

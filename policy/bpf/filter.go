package bpf

import (
	"bytes"
	"fmt"
)

// LoadFilterBytes verifies a filter for the IPC-call hook from a file's bytes: a clang
// -target bpf ELF object (its first program) or raw little-endian instructions. name is used
// in messages.
func LoadFilterBytes(name string, b []byte) (*Program, error) {
	return LoadHookBytes(name, b, HookIPCCall)
}

// LoadHookBytes is LoadFilterBytes for any hook.
func LoadHookBytes(name string, b []byte, hook Hook) (*Program, error) {
	if bytes.HasPrefix(b, []byte("\x7fELF")) {
		progs, err := LoadELF(bytes.NewReader(b), hook)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		if len(progs) == 0 {
			return nil, fmt.Errorf("%s: no program", name)
		}
		return progs[0], nil
	}
	p, err := LoadRaw(b, hook)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return p, nil
}

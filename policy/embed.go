package policy

import _ "embed"

// System is policy/system.policy, compiled into the core: the manifest it enforces unless the
// launcher passes another one (simpleos run --policy FILE).
//
//go:embed system.policy
var System []byte

// SystemFile names System in messages.
const SystemFile = "policy/system.policy"

// ModuleMarker is the second word of the Multiboot module command line that carries a
// manifest ("PATH simpleos-policy").
const ModuleMarker = "simpleos-policy"

// FilterMarker is the second word of the module command line that carries an eBPF filter
// program ("PATH simpleos-bpf NAME", NAME being the program's path as the manifest writes it).
const FilterMarker = "simpleos-bpf"

// ContentMarker is the second word of the module command line that carries a content file
// ("PATH simpleos-content NAME", NAME as the manifest's content line spells it);
// RollbackMarker carries its last-known-good copy ("PATH simpleos-content-lkg NAME").
const (
	ContentMarker  = "simpleos-content"
	RollbackMarker = "simpleos-content-lkg"
)

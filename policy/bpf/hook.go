package bpf

import "encoding/binary"

// ArgType is what a helper expects in one argument register.
type ArgType uint8

const (
	// ArgScalar is any initialized non-pointer value.
	ArgScalar ArgType = iota + 1
	// ArgMap is a map reference loaded with ld_imm64 (src=1).
	ArgMap
	// ArgMapKey is a pointer to the stack with the key (KeySize bytes of the
	// map passed in the previous argument) initialized.
	ArgMapKey
)

// RetType is what a helper leaves in R0.
type RetType uint8

const (
	// RetScalar is any non-pointer value.
	RetScalar RetType = iota
	// RetU32 is a non-pointer value below 1<<32.
	RetU32
	// RetMapValueOrNull is a pointer to a value of the map passed in the first
	// argument, or 0. The program must compare it with 0 before dereferencing.
	RetMapValueOrNull
)

// HelperFunc implements a helper at run time; args are R1..R5.
type HelperFunc func(env *Env, args [5]uint64) (uint64, error)

// Helper describes a function a program may call with `call N`.
type Helper struct {
	Name string
	Args []ArgType // at most 5, for R1, R2, ...
	Ret  RetType
	Fn   HelperFunc
}

// Hook is an attachment point: the context size and the helpers allowed.
type Hook struct {
	Name    string
	CtxSize int
	Helpers map[int32]Helper
}

// Helper numbers.
const (
	HelperMapLookupElem int32 = 1
	HelperKtimeGetNs    int32 = 5
	HelperGetPrandomU32 int32 = 7
	HelperTrace         int32 = 0x1000
)

// DefaultHelpers returns a fresh map of the helpers every SimpleOS hook offers.
func DefaultHelpers() map[int32]Helper {
	return map[int32]Helper{
		HelperMapLookupElem: {Name: "map_lookup_elem", Args: []ArgType{ArgMap, ArgMapKey}, Ret: RetMapValueOrNull, Fn: helperMapLookup},
		HelperKtimeGetNs:    {Name: "ktime_get_ns", Ret: RetScalar, Fn: func(e *Env, _ [5]uint64) (uint64, error) { return e.prog.now(), nil }},
		HelperGetPrandomU32: {Name: "get_prandom_u32", Ret: RetU32, Fn: func(e *Env, _ [5]uint64) (uint64, error) { return uint64(e.prog.rand()), nil }},
		HelperTrace:         {Name: "trace", Args: []ArgType{ArgScalar}, Ret: RetScalar, Fn: func(e *Env, a [5]uint64) (uint64, error) { e.Trace(a[0]); return 0, nil }},
	}
}

// Context layout of HookIPCCall (all fields little-endian u64).
const (
	IPCOffBadge    = 0  // sender badge
	IPCOffEndpoint = 8  // endpoint id
	IPCOffLabel    = 16 // sender label
	IPCOffWords    = 24 // 4 inline message words, 24..56
	IPCOffReserved = 56
)

// Context layout of HookEvent (all fields little-endian u64).
const (
	EventOffKind    = 0
	EventOffSubject = 8
	EventOffObject  = 16
	EventOffArgs    = 24 // 4 event arguments, 24..56
	EventOffFlags   = 56
)

// The predefined hooks.
var (
	HookIPCCall = Hook{Name: "ipc", CtxSize: 64, Helpers: DefaultHelpers()}
	HookEvent   = Hook{Name: "event", CtxSize: 64, Helpers: DefaultHelpers()}
)

// Env is what a helper sees of the running program.
type Env struct {
	prog *Program
	mem  *memory
}

// Program returns the running program.
func (e *Env) Program() *Program { return e.prog }

// Trace appends v to the program's trace (see Program.Trace).
func (e *Env) Trace(v uint64) { e.prog.trace = append(e.prog.trace, v) }

// Read copies n bytes at the program address addr (a pointer argument).
func (e *Env) Read(addr uint64, n int) ([]byte, error) {
	b, err := e.mem.access(addr, 0, n, false)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), b...), nil
}

func helperMapLookup(e *Env, a [5]uint64) (uint64, error) {
	m, idx, err := e.mem.mapArg(a[0])
	if err != nil {
		return 0, err
	}
	key, err := e.mem.access(a[1], 0, int(m.KeySize), false)
	if err != nil {
		return 0, err
	}
	k := binary.LittleEndian.Uint32(key)
	if k >= m.MaxEntries {
		return 0, nil
	}
	return regionAddr(e.prog.mapRegion[idx]+int(k), 0), nil
}

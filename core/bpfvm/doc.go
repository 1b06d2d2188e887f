// Runs in trap context: nosplit, no allocation, no heap pointer writes.

// Package bpfvm is a trap-safe interpreter for eBPF policy programs that
// package policy/bpf has already verified.
//
// policy/bpf.Program.Run is the reference interpreter: it allocates, uses
// maps, closures and errors, and may grow the goroutine stack, so the ring-0
// core cannot call it while it serves a system call. bpfvm executes the same
// programs with the same results under trap-context rules:
//
//   - every function is //go:nosplit and the whole call chain of Run has a
//     small, fixed frame (amd64, optimized build: Run 80 bytes of locals,
//     load/store 56, xlate and call 0; about 250 bytes in all with return
//     addresses and arguments); the register file and the 512-byte eBPF stack
//     live in a caller-provided Scratch, not on the Go stack. Unoptimized
//     builds (-gcflags='-N -l') exceed the linker's nosplit limit;
//   - nothing allocates, and no Go pointer is ever stored into a global or a
//     heap object: eBPF pointers are plain kernel addresses held in uint64
//     registers;
//   - a Program is a fixed-size, pointer-free value (instructions, map
//     descriptors, map value storage, trace buffer) that the kernel keeps in a
//     static table.
//
// # Use
//
// Verify with policy/bpf (Load, LoadRaw or LoadELF) for a hook whose helpers
// 1, 5, 7 and 0x1000 are the default ones, then copy the verified program in
// with Install from ordinary goroutine context:
//
//	bp, err := bpf.Load(spec, bpf.HookIPCCall)
//	...
//	maps := make([]bpfvm.MapInfo, len(bp.Maps()))
//	for i, m := range bp.Maps() {
//		maps[i] = bpfvm.MapInfo{ValueSize: m.ValueSize, MaxEntries: m.MaxEntries}
//	}
//	if !bpfvm.Install(&table[i], bp.Raw(), maps, bp.Hook().CtxSize) { ... }
//
// and run it in trap context with Run. Install rechecks the instruction
// stream's structure (opcodes, registers, forward-only jumps, map indexes,
// helper numbers) and rejects anything this VM does not implement, but it
// is not a verifier: type safety (no uninitialized reads, no pointer leaks,
// NULL checks) is what policy/bpf proved. Memory safety does not depend on
// that proof: Run checks every load and store against the region it falls
// in — the stack in the Scratch, the context, or one map value in the
// Program's storage — and every jump and helper argument; a failed check
// ends the run with ok == false. Since Install rejects back-edges, a run
// executes at most Len instructions.
//
// # Semantics
//
// Exactly policy/bpf's (see its package documentation): R1 = context
// address, R10 = top of a zeroed 512-byte stack, R0 at exit is the verdict;
// 32-bit operations zero-extend, division by zero yields 0 and modulo by zero
// leaves the destination unchanged, shift amounts are masked to the operand
// width. Helpers: 1 map_lookup_elem, 5 ktime_get_ns (returns Run's now),
// 7 get_prandom_u32 (xorshift64* with its state in the Scratch, the same
// generator as bpf.Program.Seed), 0x1000 trace (the first TraceLen values
// per program are kept; see Trace and TraceDropped).
//
// A Program and a Scratch are not safe for concurrent use; use one Scratch
// per CPU and serialize runs of one Program (its maps and trace are shared).
package bpfvm

// Package bpf is the core's own eBPF verifier and interpreter for policy
// programs: small filters the kernel runs on each IPC call to a protected
// endpoint (HookIPCCall) and on each event delivered to a security module
// (HookEvent).
//
// Instructions come from github.com/cilium/ebpf: asm.Instructions authored in
// Go (Load), clang -target bpf ELF objects read by cilium's ELF loader without
// touching Linux (LoadELF), or raw little-endian 8-byte instructions
// (LoadRaw). There is no other way to obtain a runnable *Program: every loader
// verifies first, and a rejected program never runs. The verifier and the
// interpreter make no OS calls, start no goroutines and use no cgo, so the
// package can be compiled into the ring-0 core; only LoadELF's caller needs
// files.
//
// # Program model
//
//   - On entry R1 points to the hook's read-only context of Hook.CtxSize
//     bytes; every other register but R10 is uninitialized. Both predefined
//     hooks have 64-byte contexts of little-endian u64 fields:
//     IPC call: sender badge @0, endpoint id @8, sender label @16, four inline
//     message words @24..56, reserved @56. Event: kind @0, subject @8,
//     object @16, four arguments @24..56, flags @56.
//   - R10 is a read-only frame pointer to the top of a 512-byte stack
//     (valid offsets [-512, 0)); the stack is zeroed at the start of each run.
//   - R0 at exit is the verdict: 0 allows, anything else denies.
//   - Maps: only array maps (ebpf.Array) with 4-byte keys and a declared
//     value size. A program refers to one with ld_imm64 src=1 (the
//     "pseudo map fd"; asm.LoadMapPtr), whose immediate is the index of the
//     map in ProgramSpec.Maps (or the instruction references the map by name,
//     as cilium's ELF loader produces). Map contents live on the Program
//     (Program.Maps) and persist across runs.
//   - Helpers, by number: 1 map_lookup_elem(map, key *stack) returns a
//     pointer to the value or NULL (0) for keys >= max_entries;
//     5 ktime_get_ns() (Program.SetClock; default a deterministic counter);
//     7 get_prandom_u32() (xorshift, Program.Seed); 0x1000 trace(u64) appends
//     to Program.Trace. Calls clobber R1..R5 and set R0. Hooks may offer other
//     helpers (Hook.Helpers); unknown helper numbers are rejected.
//   - Not supported: loops, bpf-to-bpf calls, atomics, signed division,
//     sign-extending loads and moves, legacy packet loads (LD_ABS/LD_IND),
//     ld_imm64 forms other than constants and map references.
//
// # Verifier
//
// The verifier checks the instruction stream, then explores every path from
// the entry with an abstract state (the type of each register — scalar with
// an unsigned range [umin, umax], context/stack/map-value pointer with an
// offset, map handle, possibly-NULL map value — and the state of each stack
// byte: uninitialized, data, or part of an 8-byte register spill). Without
// loops every path ends; the total work is bounded by MaxExplored
// instructions, and identical states meeting at a jump target are explored
// once. A rejection is a *VerifyError (wrapped in a *LoadError naming the
// program) with the raw instruction index (8-byte slots, ld_imm64 counts
// twice, as llvm-objdump numbers them), for example
// "insn 7: R3 read before being written". It rejects:
//
//   - programs over MaxInsns (4096) instructions, empty programs;
//   - unknown or malformed opcodes, registers above R10, malformed ld_imm64;
//   - jumps out of range or into the second half of a ld_imm64, and any jump
//     backwards or to itself ("loop: back-edge to insn N");
//   - control falling off the end without exit;
//   - reads of uninitialized registers, writes to R10;
//   - stack reads of uninitialized bytes, stack accesses outside [-512, 0)
//     or not aligned to their size, partial reads or overwrites of a spilled
//     pointer;
//   - context accesses out of [0, CtxSize) or misaligned, and any context write;
//   - dereferencing a scalar, a map handle, or a possibly-NULL map value (the
//     program must first compare the lookup result with 0; all copies of it are
//     resolved by that check), and map value accesses out of [0, value_size);
//   - pointer arithmetic other than pointer ± constant (and, for map values,
//     adding a bounded non-negative scalar), 32-bit operations on pointers,
//     pointers used as scalar operands, pointer comparisons other than
//     == 0 / != 0;
//   - division or modulo by a register not proven non-zero (a known non-zero
//     constant, or a range made non-zero by a branch), and by an immediate 0;
//   - calls to unknown helpers and wrong helper arguments (map_lookup_elem
//     needs a map in R1 and a stack pointer to 4 initialized bytes in R2;
//     trace needs a scalar — pointers never leave the program);
//   - storing pointers anywhere but the stack, exit with R0 uninitialized or
//     holding a pointer (a leak).
//
// Scalar ranges are kept for constants (folded with the interpreter's own
// arithmetic) and refined by unsigned comparisons (and signed ones on
// non-negative ranges) so that bounds checks can prove map indexes and
// divisors safe.
//
// # Interpreter
//
// Program.Run executes the verified program over a context of exactly the
// hook's size and returns R0; Program.RunCount also returns the number of
// instructions executed. The interpreter checks every memory access again and
// never panics: anything impossible after verification becomes an error. A
// Program is not safe for concurrent use.
package bpf

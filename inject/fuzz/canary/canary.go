// Package canary is the layout of the fuzzing bystander's canary: memory a task that nobody
// attacks keeps at a fixed address, which the core's fuzz runner reads through the task's page
// tables after every batch the fuzzers report. A changed word is a breach: some fuzzer's call
// reached another task's memory.
package canary

// Addr is where the bystander maps its canary; Words is how many 8-byte words it holds.
const (
	Addr  = 0x5f00_0000_0000
	Words = 4 * 4096 / 8
)

// Word is the value of word i.
func Word(i int) uint64 {
	z := uint64(i)*0x9e37_79b9_7f4a_7c15 + 0xb1e5_7a4d_e5_00
	z = (z ^ z>>30) * 0xbf58_476d_1ce4_e5b9
	return z ^ z>>31
}

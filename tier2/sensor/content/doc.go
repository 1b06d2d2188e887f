// Package content holds the channel file format and the content interpreter of SimpleOS's
// Falcon-like sensor, which screens named-pipe creation events. It models, precisely, the
// failure behind CrowdStrike's Channel File 291 (19 July 2024):
//
//   - The sensor's IPC Template Type declared 21 input fields, but the sensor code that fed the
//     Content Interpreter supplied only 20 values.
//   - Every Template Instance that had been tested used a wildcard for the 21st field, so
//     nothing ever read it.
//   - Channel File 291, a data file, shipped an instance with a non-wildcard criterion on field
//     21. The interpreter read the 21st value past the end of its 20-entry input array,
//     dereferenced what it found there, and faulted in kernel mode.
//
// Here: template type 3, "IPC", declares 21 fields; the sensor supplies SuppliedValues (20)
// values, FieldPipeName to FieldTimestamp; Fixtures returns a good file (channel 291,
// sequence 1) whose six instances all use a wildcard for field 21 and the bad update
// (sequence 2) that adds instance 7, "NamedPipeC2", with a glob on field 21.
//
// # Channel file format
//
// All integers are little-endian. A string is a u16 byte length followed by that many bytes,
// with no terminator and no encoding requirement; Parse rejects lengths over 255 and empty
// names. Offsets in the first table are absolute; the record tables give offsets from the start
// of the record, with L and P the lengths of the strings before them.
//
//	offset  size  field
//	0       8     magic "SOSCHAN1"
//	8       2     version, u16 = 1
//	10      2     reserved, u16 = 0
//	12      4     channel number, u32 (291)
//	16      4     sequence number, u32
//	20      2     template type count T, u16, at most 256
//	22      ...   T template type records
//	...     2     template instance count I, u16, at most 4096
//	...     ...   I template instance records
//	end-4   4     CRC-32 (IEEE, hash/crc32.ChecksumIEEE) of every byte before it
//
// Template type record:
//
//	+0      4     id, u32, unique among the file's types
//	+4      2     name length L, 1 to 255
//	+6      L     name
//	+6+L    1     input field count N, u8, at most 64
//
// Template instance record:
//
//	+0      4     id, u32, unique among the file's instances
//	+4      4     template type id, u32: a type defined earlier in this file
//	+8      1     severity: 0 info, 1 low, 2 medium, 3 high, 4 critical
//	+9      1     action: 0 log, 1 alert, 2 block
//	+10     2     detection name length L, 1 to 255
//	+12     L     detection name
//	+12+L   1     criterion count C, u8: must equal the template type's N
//	+13+L   ...   C criteria, the first for field 1 (input value 0), and so on
//
// Criterion:
//
//	+0      1     kind: 0 wildcard, 1 exact, 2 prefix, 3 glob
//	+1      2     pattern length P, 0 to 255 (kinds 1 to 3 only; a wildcard is the kind byte alone)
//	+3      P     pattern
//
// Exact matches a value equal to the pattern, prefix a value starting with it, glob a value the
// pattern matches byte by byte with * (any run of bytes, including none) and ? (exactly one
// byte); there are no escapes or classes. A wildcard matches any value and never reads it.
// Nothing follows the last instance but the CRC. The smallest file (no types, no instances) is
// MinFileSize (28) bytes. The format is canonical: Encode(Parse(b)) == b for every b Parse
// accepts.
//
// # Bounds and errors
//
// Parse enforces MaxTypes (256), MaxInstances (4096), MaxString (255) and MaxFields (64),
// checks the magic, then the file length, then the CRC, then the structure, and never panics.
// Every error is a *ParseError naming the file, the byte offset of the offending field and the
// problem:
//
//	sensor.chan: offset 112: instance 3 names template type 9, which the file does not define
//
// Parse deliberately does not know how many values the sensor supplies. A file whose type
// declares 21 fields and whose instance has 21 criteria, one of them on field 21, is internally
// consistent, and Parse accepts it: that is the latent bug. Validate is the check that knows
// (template type id → values supplied) and rejects it:
//
//	sensor.chan: instance 7 ("NamedPipeC2") of template type 3 ("IPC") has a non-wildcard
//	criterion on field 21, but the sensor supplies only 20 values
//
// (one line in the real message).
//
// # Interpreters
//
// Both interpreters evaluate the instances in file order, skip wildcard criteria without reading
// their value, stop at the first failing criterion and return the first matching instance as a
// Detection. Every template type of a file describes the same event, a named-pipe creation.
//
// Match takes the values as a []string and is bounds-checked: a non-wildcard criterion on a
// field it was not given simply does not match.
//
// MatchNative is the native-style interpreter and the deliberate model of the fault. It takes
// *[SuppliedValues]string, the sensor's input array, and reads criterion i's value with pointer
// arithmetic, *(*string)(unsafe.Add(unsafe.Pointer(&values[0]), i*unsafe.Sizeof(""))), trusting
// the instance's criterion count. The sensor's event block, Input, puts that array last and
// follows it with a uintptr and an int laid out as a string header holding StaleAddr
// (0xdead0000) and StaleLen: the stale memory past the end of the array. For instance 7 of the
// bad file, MatchNative reads that header as value 21 and the glob comparison dereferences
// 0xdead0000, where nothing is mapped. In a Go program this is a real SIGSEGV at an unmapped
// address, reported by the runtime as "unexpected fault address 0xdead0000", "fatal error:
// fault", "[signal SIGSEGV: segmentation violation ... addr=0xdead0000 ...]", and it kills the
// process; it is not a Go bounds-check panic and cannot be recovered (the package never calls
// debug.SetPanicOnFault). The package test demonstrates it in a re-executed child process.
// Never run MatchNative on a file Validate has not accepted with the sensor's real counts.
//
// 0xdead0000 is outside the Go heap's arenas, so the garbage collector ignores the bogus pointer
// if it sees it.
//
// # Building files
//
// Builder constructs files in Go (Build is Parse(Encode(file)), so it checks exactly what Parse
// checks), From copies an existing file to start its next sequence number, and Encode writes any
// ChannelFile without checking it, which is how the tests produce malformed files.
package content

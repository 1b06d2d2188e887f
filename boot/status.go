package boot

import "bytes"

// Exit statuses a Run reports besides the kernel's own.
const (
	StatusCrashed = 100 // the core crashed (the kernel's panic path exits with it, too)
	StatusTimeout = 124 // like timeout(1)
)

// CrashMarker starts the line the core prints when it crashes.
const CrashMarker = "CORE CRASH:"

const noStatusNote = "QEMU exited without a status from the kernel (triple fault?)"

// decodeExit maps QEMU's exit code to the kernel's status. isa-debug-exit makes QEMU exit with
// (n<<1)|1 when the kernel writes n to its port, so odd codes carry a status. QEMU exits 0 when
// the guest resets under -no-reboot (a triple fault, typically). Other even codes are QEMU's own
// errors: ok is false.
func decodeExit(code int) (status int, crashed bool, note string, ok bool) {
	switch {
	case code > 0 && code%2 == 1:
		status = (code - 1) / 2
		return status, status == StatusCrashed, "", true
	case code == 0:
		return StatusCrashed, true, noStatusNote, true
	}
	return 0, false, "", false
}

// sawCrashMarker reports whether any console line starts with CrashMarker.
func sawCrashMarker(out []byte) bool {
	for _, line := range bytes.Split(out, []byte("\n")) {
		if bytes.HasPrefix(bytes.TrimLeft(line, "\r"), []byte(CrashMarker)) {
			return true
		}
	}
	return false
}

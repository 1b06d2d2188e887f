package fault

// File-system classes: faults of the file-system server (ring3/fs) that only the server can
// commit, because they are about what it does with the disk in the middle of a request. Like
// the driver classes they are not executed by Inject: Arm hands the Spec back to the server,
// and package ring3/fs/fsfault commits the fault in the server's request path after the delay.
const (
	// FSCrashMidWrite crashes the server (a nil dereference) right after its file system's
	// Nth device write since the delay passed (N = 1 + Seed%4): the block driver has written
	// that sector, the request that made it is not finished and gets no reply.
	FSCrashMidWrite = "fs-crash-mid-write"
	// FSCorruptRead flips one bit in the next sector of the FAT or of a directory that the
	// file system reads from the device once the delay passed: the server works on wrong
	// metadata (the disk itself is intact).
	FSCorruptRead = "fs-corrupt-read"
	// FSHang makes the server stop answering: once the delay passed, every worker that
	// receives a request blocks forever without replying.
	FSHang = "fs-hang"
)

var fsClasses = [...]string{FSCrashMidWrite, FSCorruptRead, FSHang}

// FSClasses returns the file-system classes, in order.
func FSClasses() []string { return append([]string(nil), fsClasses[:]...) }

// IsFS reports whether class is a file-system class: committed by the file-system server in
// its request path, not by Inject.
func IsFS(class string) bool {
	for _, c := range fsClasses {
		if c == class {
			return true
		}
	}
	return false
}

// IsCommittedByModule reports whether class is a driver or file-system class: Arm hands it
// back to the module, which commits it in its own request path.
func IsCommittedByModule(class string) bool { return IsDriver(class) || IsFS(class) }

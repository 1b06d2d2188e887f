package abi

// The file protocol: what the core's VFS (core/kernel/vfs) asks the file-system server that
// serves endpoint FSEndpoint. Tasks never speak it: they make Linux's file system calls, the
// core resolves their paths (working directory, root, the policy's path grants) and forwards
// each call as one IPC call on the task's thread, with the task's buffer lent as a page grant
// (writable for a read). The server trusts only the core: a request's Badge is 0.
//
// A request is an FSRequest: the message, then the call's absolute paths, NUL-terminated,
// which the core writes into the server's receive buffer (so a server of FSEndpoint must
// receive into a whole FSRequest). The reply is a Message: Label is the result (>= 0) or
// -errno; Words carry what each operation returns.
//
//	op          request Words                         reply (Label; Words)
//	FSOpen      flags, mode                           0; handle, size, st_mode
//	FSClose     handle                                0
//	FSRead      handle, offset, length, grant offset  bytes read (0 at the end)
//	FSWrite     handle, offset, length, grant offset  bytes written; offset after them (O_APPEND: the file's end)
//	FSStat      path: -                               0; size, st_mode, mtime ns, inode
//	FSFstat     handle                                0; size, st_mode, mtime ns, inode
//	FSReaddir   handle, position, length, grant off.  bytes of linux_dirent64 records; position after them
//	FSMkdir     mode                                  0
//	FSUnlink    flags (AT_REMOVEDIR)                  0
//	FSRename    flags (RENAME_NOREPLACE)              0 (paths: old, new)
//	FSTruncate  handle, size                          0
//	FSSync      handle (FSSyncAll: everything)        0
//
// The grant offset is where the buffer starts in the first lent page: the core lends whole
// pages and at most MaxGrantPages of them, so one request moves at most
// MaxGrantPages*4096 - offset bytes; the core splits larger transfers.
const (
	FSOpen = iota + 1
	FSClose
	FSRead
	FSWrite
	FSStat
	FSFstat
	FSReaddir
	FSMkdir
	FSUnlink
	FSRename
	FSTruncate
	FSSync
)

// FSEndpoint is the endpoint the core's VFS calls.
const FSEndpoint = "fs"

// FSPathMax is the longest path the core forwards, in bytes without the NUL (ENAMETOOLONG
// beyond); Linux's PATH_MAX is 4096 with the NUL.
const FSPathMax = 1023

// FSSyncAll in FSSync's handle word asks for everything to be made durable (sync(2)).
const FSSyncAll = ^uint64(0)

// FSRequest is what a file-system server receives into.
type FSRequest struct {
	Msg   Message
	Path  [FSPathMax + 1]byte // NUL-terminated, absolute
	Path2 [FSPathMax + 1]byte // FSRename's new path
}

// FSRequestSize is the size of an FSRequest in bytes.
const FSRequestSize = MessageSize + 2*(FSPathMax+1)

// Open flags, fcntl commands and *at flags the VFS understands (Linux's values).
const (
	O_ACCMODE   = 0x3
	O_WRONLY    = 0x1
	O_RDWR      = 0x2
	O_CREAT     = 0x40
	O_EXCL      = 0x80
	O_NOCTTY    = 0x100
	O_TRUNC     = 0x200
	O_APPEND    = 0x400
	O_NONBLOCK  = 0x800
	O_DIRECTORY = 0x10000
	O_NOFOLLOW  = 0x20000
	O_CLOEXEC   = 0x80000

	AT_FDCWD            = -100
	AT_SYMLINK_NOFOLLOW = 0x100
	AT_REMOVEDIR        = 0x200
	AT_EACCESS          = 0x200
	AT_EMPTY_PATH       = 0x1000

	RENAME_NOREPLACE = 1
	RENAME_EXCHANGE  = 2

	S_IFMT  = 0o170000
	S_IFDIR = 0o040000
	S_IFREG = 0o100000
	S_IFCHR = 0o020000
	S_IFIFO = 0o010000
)

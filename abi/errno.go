package abi

// Linux errno values; system calls return them negated.
const (
	EPERM        = 1
	ENOENT       = 2
	ESRCH        = 3
	EINTR        = 4
	EBADF        = 9
	EAGAIN       = 11
	ENOMEM       = 12
	EACCES       = 13
	EFAULT       = 14
	EBUSY        = 16
	EEXIST       = 17
	ENODEV       = 19
	EINVAL       = 22
	EMFILE       = 24
	ENOTTY       = 25
	EFBIG        = 27
	EPIPE        = 32
	EDEADLK      = 35
	ENOSYS       = 38
	ECONNRESET   = 104
	ETIMEDOUT    = 110
	EKEYREJECTED = 129 // content_write: these bytes are quarantined
)

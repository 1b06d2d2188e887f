package kernel

// Linux errno values returned (negated) by system calls.
const (
	EPERM     = 1
	ENOENT    = 2
	ESRCH     = 3
	EINTR     = 4
	EBADF     = 9
	EAGAIN    = 11
	ENOMEM    = 12
	EACCES    = 13
	EFAULT    = 14
	EEXIST    = 17
	EINVAL    = 22
	EMFILE    = 24
	ENODEV    = 19
	ENOTTY    = 25
	EFBIG     = 27
	EDEADLK   = 35
	ENOSYS    = 38
	ETIMEDOUT = 110
)

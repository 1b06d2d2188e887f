package files

// Pipes: pipe2 gives two descriptors on a 4 KiB ring buffer. Reads and writes wait, or return
// EAGAIN on a descriptor set O_NONBLOCK (the Go runtime's os.Pipe does, and waits in epoll
// instead). A read with no writer left returns 0 (end of file); a write with no reader left
// returns EPIPE.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
	"github.com/simpleos/simpleos/core/kernel/sched"
	"github.com/simpleos/simpleos/core/kernel/task"
)

const pipeBufLen = 4096

type pipe struct {
	used             bool
	gen              uint32 // bumped on every allocation of the slot
	owner            int32  // task slot
	readers, writers int32
	head, n          int // ring buffer: first byte, bytes stored
	waiters          sched.Queue
	buf              [pipeBufLen]byte
}

var pipes [maxPipes]pipe

// Pipe2 is pipe2(fds, flags).
//
//go:nosplit
func Pipe2(c task.Call) task.Result {
	t := c.Task()
	fds, flags := c.Ptr(0), c.Arg(1)
	s := share(t, &pipePool)
	if !pipePool.Take(s) {
		return task.Err(abi.EMFILE)
	}
	for i := range pipes {
		if pipes[i].used {
			continue
		}
		p := &pipes[i]
		p.gen++
		r := alloc(t, task.FDPipeRead, int32(i))
		w := -1
		if r >= 0 {
			w = alloc(t, task.FDPipeWrite, int32(i))
		}
		as := c.Space()
		if r < 0 || w < 0 || !as.Write32(fds, uint32(r)) || !as.Write32(fds+4, uint32(w)) {
			if r >= 0 {
				t.FDs[r&(task.MaxFDs-1)] = task.FD{}
			}
			if w >= 0 {
				t.FDs[w&(task.MaxFDs-1)] = task.FD{}
			}
			pipePool.Give(s)
			if r < 0 || w < 0 {
				return task.Err(abi.EMFILE)
			}
			return task.Err(abi.EFAULT)
		}
		if flags&oNonblock != 0 {
			t.FDs[r&(task.MaxFDs-1)].Flags = oNonblock
			t.FDs[w&(task.MaxFDs-1)].Flags = oNonblock
		}
		p.used, p.owner, p.readers, p.writers, p.head, p.n = true, t.Slot(), 1, 1, 0, 0
		return task.Ret(0)
	}
	pipePool.Give(s)
	return task.Err(abi.EMFILE)
}

// Pipe is pipe(fds).
//
//go:nosplit
func Pipe(c task.Call) task.Result {
	c.Frame.RSI = 0
	return Pipe2(c)
}

// pipeRead moves up to n bytes from the pipe of read end d to user address buf, or waits.
//
//go:nosplit
func pipeRead(c task.Call, fd uint64, d *task.FD, buf, n uintptr) task.Result {
	p := &pipes[d.Obj&(maxPipes-1)]
	if p.n == 0 {
		switch {
		case p.writers == 0:
			return task.Ret(0)
		case d.Flags&oNonblock != 0:
			return task.Err(abi.EAGAIN)
		}
		return waitOn(c, fd, d, &p.waiters, 0)
	}
	as := c.Space()
	done := uintptr(0)
	for done < n && p.n > 0 {
		chunk := uintptr(pipeBufLen - p.head)
		if chunk > uintptr(p.n) {
			chunk = uintptr(p.n)
		}
		if chunk > n-done {
			chunk = n - done
		}
		if !as.CopyOut(buf+done, arch.Addr(&p.buf[p.head&(pipeBufLen-1)]), chunk) {
			if done == 0 {
				return task.Err(abi.EFAULT)
			}
			break
		}
		p.head = (p.head + int(chunk)) % pipeBufLen
		p.n -= int(chunk)
		done += chunk
	}
	wakePipe(p)
	return task.Ret(int64(done))
}

// pipeWrite moves up to n bytes from user address buf into the pipe of write end d, waiting
// while it is full and nothing was written yet (unless O_NONBLOCK).
//
//go:nosplit
func pipeWrite(c task.Call, fd uint64, d *task.FD, buf, n uintptr) task.Result {
	p := &pipes[d.Obj&(maxPipes-1)]
	as := c.Space()
	done := uintptr(0)
	for done < n {
		if p.readers == 0 {
			if done > 0 {
				break
			}
			return task.Err(abi.EPIPE)
		}
		if p.n == pipeBufLen {
			if done > 0 {
				break
			}
			if d.Flags&oNonblock != 0 {
				return task.Err(abi.EAGAIN)
			}
			return waitOn(c, fd, d, &p.waiters, 0)
		}
		tail := (p.head + p.n) % pipeBufLen
		chunk := uintptr(pipeBufLen - tail)
		if chunk > uintptr(pipeBufLen-p.n) {
			chunk = uintptr(pipeBufLen - p.n)
		}
		if chunk > n-done {
			chunk = n - done
		}
		if !as.CopyIn(arch.Addr(&p.buf[tail&(pipeBufLen-1)]), buf+done, chunk) {
			if done == 0 {
				return task.Err(abi.EFAULT)
			}
			break
		}
		p.n += int(chunk)
		done += chunk
		wakePipe(p)
	}
	return task.Ret(int64(done))
}

// closePipeEnd drops one reader or writer of a pipe and frees it when none is left.
//
//go:nosplit
func closePipeEnd(t *task.Task, d *task.FD) {
	p := &pipes[d.Obj&(maxPipes-1)]
	if d.Kind == task.FDPipeRead {
		p.readers--
	} else {
		p.writers--
	}
	if p.readers <= 0 && p.writers <= 0 && p.used {
		p.used = false
		pipePool.Give(share(task.Get(p.owner), &pipePool))
	}
	wakePipe(p)
}

// pipeReady reports a pipe end's epoll readiness.
//
//go:nosplit
func pipeReady(d *task.FD) uint32 {
	p := &pipes[d.Obj&(maxPipes-1)]
	var ev uint32
	if d.Kind == task.FDPipeRead {
		if p.n > 0 {
			ev |= epollIn
		}
		if p.writers == 0 {
			ev |= epollIn | epollHup
		}
	} else {
		if p.n < pipeBufLen {
			ev |= epollOut
		}
		if p.readers == 0 {
			ev |= epollOut | epollErr
		}
	}
	return ev
}

// wakePipe wakes the threads waiting on p and every epoll waiter: each looks again.
//
//go:nosplit
func wakePipe(p *pipe) {
	p.waiters.WakeAll()
	epollWaiters.WakeAll()
}

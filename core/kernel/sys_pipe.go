package kernel

import (
	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/core/kernel/arch"
)

// Pipes: pipe2 gives two descriptors on a 4 KiB ring buffer. Reads and writes block, or
// return EAGAIN on a descriptor set O_NONBLOCK (the Go runtime's os.Pipe does, and waits in
// epoll instead). A read with no writer left returns 0 (end of file); a write with no reader
// left returns EPIPE.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

const (
	maxPipes   = 128
	pipeBufLen = 4096
)

type pipeObj struct {
	used             bool
	gen              uint32 // bumped on every allocation of the slot
	owner            int32
	readers, writers int32
	head, n          int // ring buffer: first byte, bytes stored
	buf              [pipeBufLen]byte
}

var pipes [maxPipes]pipeObj

//go:nosplit
func sysPipe2(tf *arch.TrapFrame) int64 {
	fds, flags := uintptr(tf.RDI), tf.RSI
	s := shareIn(&pipePool, cur().proc)
	if !pipePool.Take(s) {
		return -abi.EMFILE
	}
	for i := range pipes {
		if pipes[i].used {
			continue
		}
		p := &pipes[i]
		p.gen++
		r := allocFD(fdPipeRead, int32(i))
		w := -1
		if r >= 0 {
			w = allocFD(fdPipeWrite, int32(i))
		}
		as := curSpace()
		if r < 0 || w < 0 || !as.Write32(fds, uint32(r)) || !as.Write32(fds+4, uint32(w)) {
			if r >= 0 {
				curProc().fds[r&(maxFDs-1)] = fileDesc{}
			}
			if w >= 0 {
				curProc().fds[w&(maxFDs-1)] = fileDesc{}
			}
			pipePool.Give(s)
			if r < 0 || w < 0 {
				return -abi.EMFILE
			}
			return -abi.EFAULT
		}
		if flags&oNonblock != 0 {
			curProc().fds[r&(maxFDs-1)].flags = oNonblock
			curProc().fds[w&(maxFDs-1)].flags = oNonblock
		}
		p.used, p.owner, p.readers, p.writers, p.head, p.n = true, cur().proc, 1, 1, 0, 0
		return 0
	}
	pipePool.Give(s)
	return -abi.EMFILE
}

//go:nosplit
func sysPipe(tf *arch.TrapFrame) int64 {
	tf.RSI = 0
	return sysPipe2(tf)
}

// pipeRead moves up to n bytes from the pipe read end fdn to user address buf.
//
//go:nosplit
func pipeRead(fdn uint64, buf, n uintptr) int64 {
	held := *fd(fdn)
	p := &pipes[held.obj&(maxPipes-1)]
	for p.n == 0 {
		if p.writers == 0 {
			return 0
		}
		if held.flags&oNonblock != 0 {
			return -abi.EAGAIN
		}
		if r := block(waitPipe, uintptr(held.obj), 0); r == -abi.EINTR {
			return r
		}
		if !stillOpen(fdn, held) {
			return -abi.EBADF
		}
		held.flags = fd(fdn).flags
	}
	as := curSpace()
	done := uintptr(0)
	for done < n && p.n > 0 {
		chunk := uintptr(pipeBufLen - p.head)
		if chunk > uintptr(p.n) {
			chunk = uintptr(p.n)
		}
		if chunk > n-done {
			chunk = n - done
		}
		if !as.CopyOut(buf+done, addrOfPipeByte(p, p.head), chunk) {
			if done == 0 {
				return -abi.EFAULT
			}
			break
		}
		p.head = (p.head + int(chunk)) % pipeBufLen
		p.n -= int(chunk)
		done += chunk
	}
	wakePipe(held.obj)
	return int64(done)
}

// pipeWrite moves up to n bytes from user address buf into the pipe write end fdn, blocking
// while it is full (unless O_NONBLOCK).
//
//go:nosplit
func pipeWrite(fdn uint64, buf, n uintptr) int64 {
	held := *fd(fdn)
	p := &pipes[held.obj&(maxPipes-1)]
	as := curSpace()
	done := uintptr(0)
	for done < n {
		if p.readers == 0 {
			if done > 0 {
				break
			}
			return -abi.EPIPE
		}
		if p.n == pipeBufLen {
			if done > 0 {
				break
			}
			if held.flags&oNonblock != 0 {
				return -abi.EAGAIN
			}
			if r := block(waitPipe, uintptr(held.obj), 0); r == -abi.EINTR {
				return r
			}
			if !stillOpen(fdn, held) {
				return -abi.EBADF
			}
			held.flags = fd(fdn).flags
			continue
		}
		tail := (p.head + p.n) % pipeBufLen
		chunk := uintptr(pipeBufLen - tail)
		if chunk > uintptr(pipeBufLen-p.n) {
			chunk = uintptr(pipeBufLen - p.n)
		}
		if chunk > n-done {
			chunk = n - done
		}
		if !as.CopyIn(addrOfPipeByte(p, tail), buf+done, chunk) {
			if done == 0 {
				return -abi.EFAULT
			}
			break
		}
		p.n += int(chunk)
		done += chunk
		wakePipe(held.obj)
	}
	return int64(done)
}

// closePipeEnd drops one reader or writer of a pipe and frees it when none is left.
//
//go:nosplit
func closePipeEnd(d *fileDesc) {
	p := &pipes[d.obj&(maxPipes-1)]
	if d.kind == fdPipeRead {
		p.readers--
	} else {
		p.writers--
	}
	if p.readers <= 0 && p.writers <= 0 && p.used {
		p.used = false
		pipePool.Give(shareIn(&pipePool, p.owner))
	}
	wakePipe(d.obj)
}

// pipeReady reports a pipe end's epoll readiness.
//
//go:nosplit
func pipeReady(d *fileDesc) uint32 {
	p := &pipes[d.obj&(maxPipes-1)]
	var ev uint32
	if d.kind == fdPipeRead {
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

// wakePipe wakes threads blocked on pipe obj and every epoll waiter (each re-checks).
//
//go:nosplit
func wakePipe(obj int32) {
	for i := 1; i < maxThreads; i++ {
		t := &threads[i]
		if t.state == threadBlocked && (t.waitOn == waitEpoll || t.waitOn == waitPipe && t.waitAddr == uintptr(obj)) {
			wake(i, 0)
		}
	}
}

//go:nosplit
func addrOfPipeByte(p *pipeObj, i int) uintptr { return arch.Addr(&p.buf[i&(pipeBufLen-1)]) }

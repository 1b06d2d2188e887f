package fuzz

import (
	"fmt"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/simpleos/simpleos/abi"
)

// Raw threads: threads the fuzzer starts with clone(2) itself that run no Go code
// (raw_amd64.s). Each sits in a blocking call on the batch's resources — a pipe read or
// write, a futex, epoll_wait, an IPC call lending arena pages, a receive — while the main
// thread closes, unmaps and reuses those resources, and exits when the call returns: the
// races where use-after-close, use-after-unmap and grant leaks live. Their signals are all
// blocked (the Go runtime's handler cannot run on a thread it did not make), and they touch
// no memory the fuzzer's calls can unmap: their stacks and jobs are in a region of their own.

const (
	rawSlots     = 8
	rawSlotBytes = 5 * pageSize // one page of job and tid word, four of stack
	rawStepMax   = 3
	rawCtidOff   = 256
	rawMaskOff   = 264
)

// rawStep is one system call of a raw thread's job, laid out for raw_amd64.s.
type rawStep struct{ nr, a0, a1, a2, a3, a4, a5 uintptr }

type rawJob [rawStepMax + 1]rawStep

type rawThreads struct {
	base  uintptr
	live  [rawSlots]bool
	tids  []int // tids of this batch's raw threads, alive or gone
	label [rawSlots]string
}

func (t *rawThreads) init() error {
	p, _, errno := syscall.RawSyscall6(syscall.SYS_MMAP, 0, rawSlots*rawSlotBytes, syscall.PROT_READ|syscall.PROT_WRITE,
		syscall.MAP_PRIVATE|syscall.MAP_ANON, ^uintptr(0), 0)
	if errno != 0 {
		return fmt.Errorf("fuzz: raw thread region: %v", errno)
	}
	t.base = p
	return nil
}

func (t *rawThreads) job(s int) *rawJob { return (*rawJob)(ptrAt(t.base + uintptr(s)*rawSlotBytes)) }
func (t *rawThreads) ctid(s int) *uint32 {
	return (*uint32)(ptrAt(t.base + uintptr(s)*rawSlotBytes + rawCtidOff))
}
func (t *rawThreads) mask(s int) uintptr  { return t.base + uintptr(s)*rawSlotBytes + rawMaskOff }
func (t *rawThreads) stack(s int) uintptr { return t.base + uintptr(s+1)*rawSlotBytes - 64 }

func (e *env) rawTids() []int { return e.raw.tids }

// free returns a slot whose thread has exited, or -1.
func (t *rawThreads) free() int {
	for s := range t.live {
		if t.live[s] && atomic.LoadUint32(t.ctid(s)) == 0 {
			t.live[s] = false
		}
		if !t.live[s] {
			return s
		}
	}
	return -1
}

const (
	cloneFS          = 0x200
	cloneFiles       = 0x400
	cloneSighand     = 0x800
	cloneSysvsem     = 0x40000
	cloneParentTID   = 0x100000
	cloneChildClear  = 0x200000
	cloneChildSetTID = 0x1000000
	rawBaseFlags     = cloneVM | cloneFS | cloneFiles | cloneSighand | cloneThrd | cloneSysvsem | cloneChildClear | cloneChildSetTID
)

// startRaw starts a raw thread running steps. Its signals are blocked from its first
// instruction: the main thread blocks all of its own around the clone, which the child
// inherits. extra are further clone flags to try (with ptid and tls for them).
func (e *env) startRaw(steps []rawStep, extra, ptid, tls uintptr, label string) (int64, bool) {
	t := &e.raw
	s := t.free()
	if s < 0 {
		return 0, false
	}
	j := t.job(s)
	n := copy(j[:rawStepMax], steps)
	j[n] = rawStep{nr: ^uintptr(0)}
	*(*uint64)(ptrAt(t.mask(s))) = ^uint64(0)
	atomic.StoreUint32(t.ctid(s), 0xffff_ffff)
	var old uint64
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 2, t.mask(s), uintptr(ptrOf(&old)), 8, 0, 0)
	r := rawClone(rawBaseFlags|extra, t.stack(s), ptid, uintptr(ptrOf(t.ctid(s))), tls, j)
	syscall.RawSyscall6(syscall.SYS_RT_SIGPROCMASK, 2, uintptr(ptrOf(&old)), 0, 8, 0, 0)
	if r <= 0 {
		atomic.StoreUint32(t.ctid(s), 0)
		return r, true
	}
	t.live[s] = true
	t.label[s] = label
	t.tids = append(t.tids, int(r))
	return r, true
}

// joinRaw waits for every raw thread to exit, at most limit in all, and returns the jobs of
// those still running then.
func (e *env) joinRaw(limit time.Duration) []string {
	t := &e.raw
	deadline := time.Now().Add(limit)
	var stuck []string
	for s := range t.live {
		if !t.live[s] {
			continue
		}
		for {
			v := atomic.LoadUint32(t.ctid(s))
			if v == 0 {
				t.live[s] = false
				break
			}
			if time.Now().After(deadline) {
				stuck = append(stuck, t.label[s])
				break
			}
			e.wakeFutexes() // again: the thread may have started its wait after the last wake-up
			ts := syscall.Timespec{Nsec: 10_000_000}
			syscall.Syscall6(syscall.SYS_FUTEX, uintptr(ptrOf(t.ctid(s))), 0, uintptr(v), uintptr(ptrOf(&ts)), 0, 0)
		}
	}
	t.tids = t.tids[:0]
	e.futexWords = e.futexWords[:0]
	return stuck
}

// rawJob generates what a raw thread does: one blocking call on the batch's resources,
// sometimes followed by a close or an unmap of its own, then exit.
func (g *gen) rawJob() ([]rawStep, string) {
	e, r := g.e, g.r
	arenaBuf := func(n int) uintptr { return e.arena + uintptr(r.intn(arenaSize-n)) }
	ownFD := func(k kind) (uintptr, bool) {
		fds := e.ownFDs(k)
		if len(fds) == 0 {
			return 0, false
		}
		return uintptr(pick(r, fds)), true
	}
	var steps []rawStep
	var label string
	switch k := r.intn(11); k {
	case 0:
		if fd, ok := ownFD(kPipeR); ok {
			steps, label = append(steps, rawStep{nr: syscall.SYS_READ, a0: fd, a1: arenaBuf(4096), a2: 4096}), fmt.Sprintf("read(fd%d)", fd)
		}
	case 1:
		if fd, ok := ownFD(kPipeW); ok {
			steps, label = append(steps, rawStep{nr: syscall.SYS_WRITE, a0: fd, a1: e.arena, a2: 1 << 16}), fmt.Sprintf("write(fd%d, 64K)", fd)
		}
	case 2:
		w := arenaBuf(8) &^ 3
		var ts uintptr
		if r.chance(2) {
			ts = e.rawTimespec(r, 20_000_000)
		}
		steps, label = append(steps, rawStep{nr: syscall.SYS_FUTEX, a0: w, a1: 0, a2: uintptr(*(*uint32)(ptrAt(w))), a3: ts}), "futex_wait"
		e.futexWords = append(e.futexWords, w)
	case 3:
		if fd, ok := ownFD(kEpoll); ok {
			steps, label = append(steps, rawStep{nr: syscall.SYS_EPOLL_WAIT, a0: fd, a1: arenaBuf(12 * 8), a2: 8, a3: 20}), fmt.Sprintf("epoll_wait(fd%d)", fd)
		}
	case 4, 5:
		h := g.handle()
		steps, label = append(steps, rawStep{nr: abi.SysIPCCall, a0: h.v, a1: g.message().v, a2: 20_000_000}), "ipc_call("+h.label+")"
	case 6:
		if e.served != 0 {
			steps, label = append(steps, rawStep{nr: abi.SysIPCRecv, a0: uintptr(e.served), a1: arenaBuf(abi.MessageSize) &^ 7, a2: 20_000_000}), "ipc_recv"
		}
	case 7:
		steps, label = append(steps, rawStep{nr: syscall.SYS_NANOSLEEP, a0: e.rawTimespec(r, 2_000_000)}), "nanosleep"
	case 8:
		steps, label = append(steps, rawStep{nr: abi.SysNotifyWait, a0: uintptr(r.next()), a1: 20_000_000}), "notify_wait"
	case 9:
		steps, label = append(steps, rawStep{nr: abi.SysEventRecv, a0: arenaBuf(64) &^ 7, a1: 20_000_000}), "event_recv"
	}
	if label == "" {
		label = "exit"
	}
	switch r.intn(4) {
	case 0:
		if fd, ok := ownFD(kNone); ok {
			steps = append(steps, rawStep{nr: syscall.SYS_CLOSE, a0: fd})
			label += fmt.Sprintf("; close(fd%d)", fd)
		}
	case 1:
		off := uintptr(r.intn(arenaSize/pageSize)) * pageSize
		steps = append(steps, rawStep{nr: syscall.SYS_MUNMAP, a0: e.arena + off, a1: pageSize * uintptr(1+r.intn(4))})
		label += fmt.Sprintf("; munmap(arena+%#x)", off)
		e.arenaTouched = true
	}
	if !e.simpleos { // SimpleOS's own calls are ENOSYS on Linux: keep the job short
		for i := range steps {
			if steps[i].nr >= 0x400 && steps[i].nr < 0x500 {
				steps[i] = rawStep{nr: syscall.SYS_GETPID}
			}
		}
	}
	return steps, label
}

// wakeAll ends every wait a raw thread may be in that nothing else ends: futexes without a
// timeout. (Closing the batch's descriptors ends the pipe waits.)
func (e *env) wakeFutexes() {
	for _, w := range e.futexWords {
		syscall.RawSyscall6(syscall.SYS_FUTEX, w, 1, 1<<30, 0, 0, 0)
	}
}

// rawClone is in raw_amd64.s.
func rawClone(flags, stack, ptid, ctid, tls uintptr, job *rawJob) int64

// textAddr is in text_amd64.s.
func textAddr() uintptr

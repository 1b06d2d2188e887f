package virtio

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"
)

// A split virtqueue (virtio 1.x, 2.7) in one DMA allocation:
//
//	0                     descriptor table: size × {addr u64, len u32, flags u16, next u16}
//	16·size               available ring:   flags u16, idx u16, ring[size] u16, used_event u16
//	page-aligned          used ring:        flags u16, idx u16, ring[size] {id u32, len u32}, avail_event u16
//	after the used ring   request header (16 bytes), status byte, ID buffer (20 bytes)
//
// The driver has one request outstanding at a time. The fields both sides touch while the
// device runs (the two ring indexes and the used elements) are read and written with atomic
// 32-bit accesses: on amd64 plain moves (stores are XCHG, a full barrier), and ordered for the
// Go memory model, so the test device that runs as a goroutine is race-free too.

const (
	descSize     = 16
	descNext     = 1
	descWrite    = 2
	hdrSize      = 16
	idSize       = 20
	ringOverhead = 6 // flags, idx and the event word
	usedElemSize = 8
	pageSize     = 4096
)

type queue struct {
	size      int
	mem       []byte
	iova      uint64
	avail     int // offsets in mem
	used      int
	hdr       int
	status    int
	id        int
	nextAvail uint16 // the driver's copy of avail.idx
	lastUsed  uint16 // the used.idx the driver has consumed up to
}

func alignUp(n, a int) int { return (n + a - 1) &^ (a - 1) }

// queueBytes is the size of the allocation for a queue of size entries.
func queueBytes(size int) (avail, used, hdr, total int) {
	avail = descSize * size
	used = alignUp(avail+ringOverhead+2*size, pageSize)
	hdr = alignUp(used+ringOverhead+usedElemSize*size, 16)
	total = alignUp(hdr+hdrSize+16+idSize, pageSize)
	return
}

func newQueue(size int, mem []byte, iova uint64) *queue {
	avail, used, hdr, _ := queueBytes(size)
	return &queue{size: size, mem: mem, iova: iova, avail: avail, used: used, hdr: hdr, status: hdr + hdrSize, id: hdr + hdrSize + 16}
}

func (q *queue) word(off int) *uint32 { return (*uint32)(unsafe.Pointer(&q.mem[off])) }

// setDesc writes descriptor i.
func (q *queue) setDesc(i int, addr uint64, n uint32, flags uint16, next int) {
	d := q.mem[descSize*i : descSize*(i+1)]
	binary.LittleEndian.PutUint64(d[0:], addr)
	binary.LittleEndian.PutUint32(d[8:], n)
	binary.LittleEndian.PutUint16(d[12:], flags)
	binary.LittleEndian.PutUint16(d[14:], uint16(next))
}

// publish puts the chain starting at head in the available ring and makes it visible: the
// atomic store of avail.idx (flags 0: interrupts wanted) orders every descriptor write before it.
func (q *queue) publish(head int) {
	binary.LittleEndian.PutUint16(q.mem[q.avail+4+2*(int(q.nextAvail)%q.size):], uint16(head))
	q.nextAvail++
	atomic.StoreUint32(q.word(q.avail), uint32(q.nextAvail)<<16)
}

// usedIdx reads used.idx as the device last wrote it.
func (q *queue) usedIdx() uint16 { return uint16(atomic.LoadUint32(q.word(q.used)) >> 16) }

// usedElem reads the used element in slot i (mod size): the head of the chain the device
// returned and how many bytes it wrote. The values are the device's: unchecked.
func (q *queue) usedElem(i uint16) (id, n uint32) {
	off := q.used + 4 + usedElemSize*(int(i)%q.size)
	return atomic.LoadUint32(q.word(off)), atomic.LoadUint32(q.word(off + 4))
}

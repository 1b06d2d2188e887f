package arch

// Time: the TSC is the clock source, calibrated at boot against the PIT (channel 2, gated
// through port 0x61); the local APIC timer, calibrated the same way, ticks every tickNs.
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes.

import (
	"math/bits"

	"github.com/simpleos/simpleos/core/x86"
)

const pitHz = 1193182

var (
	tscHz       uint64 // TSC ticks per second
	tscBoot     uint64 // TSC at calibration: monotonic time 0
	nsPerTSC32  uint64 // nanoseconds per TSC tick, 32.32 fixed point
	tickNs      int64  = 1_000_000
	lapicPerSec uint64
	wallOffset  int64  // CLOCK_REALTIME - CLOCK_MONOTONIC, ns
	bootTSC     uint64 // TSC when the 64-bit kernel first ran
)

// Calibrate measures the TSC and local APIC timer rates over ~10 ms of PIT channel 2.
//
//go:nosplit
func Calibrate() {
	const pitCount = pitHz / 100 // 10 ms
	// Gate high, speaker off; channel 2, lobyte/hibyte, mode 0 (interrupt on terminal count).
	x86.Outb(0x61, x86.Inb(0x61)&^0x02|0x01)
	x86.Outb(0x43, 0xb0)
	x86.Outb(0x42, uint8(pitCount&0xff))
	x86.Outb(0x42, uint8(pitCount>>8))
	// Restart the count: toggle the gate.
	g := x86.Inb(0x61)
	x86.Outb(0x61, g&^0x01)
	lapicWrite(lapicTimerDiv, 3)
	x86.Outb(0x61, g|0x01)
	lapicWrite(lapicTimerInit, 0xffffffff)
	t0 := x86.Rdtsc()
	for x86.Inb(0x61)&0x20 == 0 {
		x86.Pause()
	}
	t1 := x86.Rdtsc()
	elapsedLapic := uint64(0xffffffff - lapicRead(lapicTimerCount))
	lapicWrite(lapicTimerInit, 0)

	lapicPerSec = elapsedLapic * 100
	if hz := (t1 - t0) * 100; hz != 0 {
		tscHz = hz
		nsPerTSC32 = (1_000_000_000 << 32) / hz // fits: 10^9 * 2^32 < 2^64
	} else { // a TSC that does not count: call it 1 GHz
		tscHz = 1_000_000_000
		nsPerTSC32 = 1 << 32
	}
	tscBoot = t0
}

// Nanotime is the core's monotonic clock: nanoseconds since calibration, (TSC - tscBoot) ×
// nsPerTSC32 >> 32 (clock_amd64.s).
func Nanotime() int64

// SinceEntry returns nanoseconds since the kernel's first 64-bit instruction.
//
//go:nosplit
func SinceEntry() int64 {
	hi, lo := bits.Mul64(x86.Rdtsc()-bootTSC, nsPerTSC32)
	return int64(hi<<32 | lo>>32)
}

// SetWallClock sets CLOCK_REALTIME (nanoseconds since the Unix epoch) from the RTC.
func SetWallClock(unixNs int64) {
	wallOffset = unixNs - Nanotime()
}

// TSCHz returns the calibrated TSC frequency.
//
//go:nosplit
func TSCHz() uint64 { return tscHz }

// WallOffset is CLOCK_REALTIME - CLOCK_MONOTONIC, in ns.
//
//go:nosplit
func WallOffset() int64 { return wallOffset }

// TickNs is the scheduler tick's length.
//
//go:nosplit
func TickNs() int64 { return tickNs }

// MarkEntry records the TSC at the kernel's first 64-bit instruction (SinceEntry's zero).
//
//go:nosplit
func MarkEntry() { bootTSC = x86.Rdtsc() }

// TimerTicksPerTick returns the local APIC initial count for one scheduler tick.
//
//go:nosplit
func TimerTicksPerTick() uint32 {
	t := lapicPerSec * uint64(tickNs) / 1_000_000_000
	if t == 0 {
		t = 1
	}
	if t > 0xffffffff {
		t = 0xffffffff
	}
	return uint32(t)
}

// EntryTSC is the TSC at the kernel's first 64-bit instruction.
//
//go:nosplit
func EntryTSC() uint64 { return bootTSC }

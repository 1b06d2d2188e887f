// Package bench is SimpleOS's benchmark suite, `simpleos bench` (docs/benchmarks.md).
//
// It boots SimpleOS in QEMU several times, in every environment of the run (TCG, and TCG
// under -icount shift=0, where a guest nanosecond is one guest instruction; KVM where it can
// run ring-0 guests), and measures:
//
//   - micro-benchmarks, run as tasks (bench/progs/micro, one task per part, taking turns):
//     the null system call (getppid) from rings 1, 2 and 3, a thread switch through a futex,
//     a demand-zero page fault, and IPC call+reply from ring 3 to rings 2 and 1 on the fast
//     path and, in a second boot with ipcfast=off, on the slow path; the same call to an
//     endpoint with an eBPF filter gives the filter's cost;
//   - the Linux baseline's own program (bench/guest) run as a SimpleOS task, so that the
//     comparison with Linux (package bench/linux, same QEMU settings) uses the same code;
//   - module restart latency: fault-injection campaigns (package inject/campaign) of kill
//     injections into the sensor, the console driver and the pipe service, once restoring
//     them from their snapshots (as the system runs) and once with snapshot=off (cold starts);
//   - boot to ready: the supervisor's "all N services serving" line on a standard boot;
//   - the sensor pipeline of the Channel File 291 demo, tiered against monolithic;
//   - disk throughput through the ring-1 driver (disk.go) and file-system operations and
//     throughput through the ring-3 file-system server, against Linux's vfat and tmpfs on the
//     same FAT32 image (files.go).
//
// Results are Figures; a Report holds them and is written as Go benchmark lines (for
// benchstat), JSON, a Markdown table with ratios and goals, and one SVG plot of the
// per-batch distributions per benchmark group.
package bench

// The SimpleOS core: an ordinary static Go program that the image builder (boot/) links at a
// fixed address and turns into a Multiboot kernel. Package kernel boots the machine and then
// runs this program's Go runtime at ring 0, serving its Linux system calls.
//
// The kernel command line becomes os.Args. Recognised words:
//
//	selftest=NAME[:ARG]   run one self-test (see selftest.go) and power off with its status
//	timeslice=MS          scheduler time slice (read by the kernel)
//	halt=no               stay up after the boot summary instead of powering off
//	sensor=MODE           tiered (default): the sensor is the ring-2 task tier2/sensor;
//	                      verified: the same task, validating every update before accepting it;
//	                      monolithic: the core runs the sensor's code itself, in ring 0
//	blk=MODE              tiered (default): the block driver is the ring-1 task tier1/blk;
//	                      monolithic: the core runs the same driver code itself (blk.go)
//	crash=reboot          a core crash resets the machine after its report (a real PC's
//	                      reboot), instead of stopping QEMU with status 100; the launcher
//	                      counts the boots (simpleos run --reboots N)
//	safemode              start no module the policy marks vendor third-party, and no
//	                      in-core sensor (supervise.go): the boot an operator repairs from
//	vga=off               leave the VGA text display alone (read by the kernel; by default
//	                      the console is mirrored on it when the machine has one)
//	crashdump=short       a crashing Go task's dump stops after the goroutine that crashed; the
//	                      other goroutines' lines are counted, not shown (read by the kernel;
//	                      fault-injection campaigns set it)
//	crashscreen=MS        how long a crash's blue screen stays up before the machine stops or
//	                      resets (read by the kernel; default 1500, 0 = not at all)
package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/usbarmory/tamago/soc/intel/rtc"

	"github.com/simpleos/simpleos/core/kernel"
	"github.com/simpleos/simpleos/core/kernel/arch"
)

func main() {
	reachedMain := arch.SinceEntry()
	arch.InitSerial()
	if t, err := (&rtc.RTC{}).Now(); err == nil {
		arch.SetWallClock(t.UnixNano())
	}
	fs := kernel.Frames()
	fmt.Printf("core: Go runtime main %.1f ms after kernel entry (runtime entered at %.1f ms); %d frames in use, %d free; %d threads\n",
		ms(reachedMain), ms(kernel.Boot().RuntimeEntryNs), fs.Total-fs.Free, fs.Free, kernel.ThreadCount())

	args := parseArgs(os.Args[1:])
	switch args["crash"] {
	case "reboot":
		arch.SetResetOnCrash(true)
	case "", "stop":
	default:
		fmt.Fprintf(os.Stderr, "core: crash=%q: want reboot or stop\n", args["crash"])
		os.Exit(2)
	}
	man, err := loadPolicy()
	if err != nil {
		fmt.Fprintf(os.Stderr, "core: policy rejected, no task started:\n%v\n", err)
		os.Exit(3)
	}
	if err := man.CheckMemory(kernel.IsRAM); err != nil {
		fmt.Fprintf(os.Stderr, "core: policy rejected, no task started:\n%v\n", err)
		os.Exit(3)
	}
	discoverHardware(args)
	slots, err := man.CheckDevices(resolveDevice)
	if err != nil {
		fmt.Fprintf(os.Stderr, "core: policy rejected, no task started:\n%v\n", err)
		os.Exit(3)
	}
	fmt.Printf("core: policy %s: %d modules\n", man.File, len(man.Modules))
	if err := installFilters(man); err != nil {
		fmt.Fprintf(os.Stderr, "core: policy rejected, no task started: %v\n", err)
		os.Exit(3)
	}
	apps, err := appsFromModules(args, man)
	if err == nil {
		err = giveDevices(apps, slots)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "core: %v\n", err)
		os.Exit(2)
	}
	if name, ok := args["selftest"]; ok {
		if len(apps) > 0 {
			fmt.Printf("core: %d tasks not started during a self-test\n", len(apps))
		}
		status := runSelftest(name)
		fmt.Printf("core: self-test finished %.1f ms after kernel entry\n", ms(arch.SinceEntry()))
		os.Exit(status)
	}
	if len(apps) > 0 {
		kernel.StartReaper()
		os.Exit(supervise(apps, args, man))
	}
	fmt.Printf("core: up at %s; %d system calls served so far\n", time.Now().UTC().Format(time.RFC3339), kernel.SyscallCount())
	if args["halt"] == "no" {
		fmt.Println("core: idle (halt=no); stop QEMU with Ctrl-A X")
		for {
			time.Sleep(time.Hour) // the CPU halts in the kernel's idle loop meanwhile
		}
	}
	fmt.Println("core: no self-test requested (try --append selftest=primes:1000000); powering off")
}

func ms(ns int64) float64 { return float64(ns) / 1e6 }

// flagWords are the command-line words that stand alone; parseArgs records them as "on".
var flagWords = map[string]bool{"safemode": true}

// parseArgs reads key=value words and the flag words; other words (the image path QEMU passes
// first) are ignored.
func parseArgs(words []string) map[string]string {
	m := map[string]string{}
	for _, w := range words {
		if k, v, ok := strings.Cut(w, "="); ok {
			m[k] = v
		} else if flagWords[w] {
			m[w] = "on"
		}
	}
	return m
}

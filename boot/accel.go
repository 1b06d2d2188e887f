package boot

import (
	"fmt"
	"os"
	"strings"
)

// Accelerators QEMU can use.
const (
	AccelAuto = "auto"
	AccelKVM  = "kvm"
	AccelTCG  = "tcg"
)

// kvmProbe answers whether KVM can run our ring-0 guest, and if not, why. Tests replace it.
var kvmProbe = func() (bool, string) { return probeKVM("/dev/kvm", "/proc/cpuinfo") }

// probeKVM needs both an openable KVM device and hardware virtualisation in the CPU flags:
// some nested hypervisors expose /dev/kvm without vmx/svm and then cannot run ring-0 guests.
func probeKVM(kvmDev, cpuinfo string) (bool, string) {
	f, err := os.OpenFile(kvmDev, os.O_RDWR, 0)
	if err != nil {
		return false, fmt.Sprintf("cannot open %s: %v", kvmDev, err)
	}
	f.Close()
	data, err := os.ReadFile(cpuinfo)
	if err != nil {
		return false, fmt.Sprintf("cannot read %s: %v", cpuinfo, err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) != "flags" {
			continue
		}
		for _, flag := range strings.Fields(value) {
			if flag == "vmx" || flag == "svm" {
				return true, ""
			}
		}
	}
	return false, fmt.Sprintf("no vmx/svm in %s", cpuinfo)
}

// ResolveAccel turns a requested accelerator into "kvm" or "tcg". For "auto" falling back to
// TCG, note is the one line to show the user.
func ResolveAccel(requested string) (accel, note string, err error) {
	return resolveAccel(requested, kvmProbe)
}

func resolveAccel(requested string, probe func() (bool, string)) (accel, note string, err error) {
	switch requested {
	case "", AccelAuto:
		if ok, why := probe(); !ok {
			return AccelTCG, fmt.Sprintf("simpleos: KVM not usable here (%s); using TCG emulation", why), nil
		}
		return AccelKVM, "", nil
	case AccelKVM:
		if ok, why := probe(); !ok {
			return "", "", fmt.Errorf("boot: accel kvm requested but KVM is not usable here: %s", why)
		}
		return AccelKVM, "", nil
	case AccelTCG:
		return AccelTCG, "", nil
	}
	return "", "", fmt.Errorf("boot: unknown accel %q (want auto, kvm or tcg)", requested)
}

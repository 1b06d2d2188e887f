package fault

import (
	"fmt"
	"os"
	"syscall"
	"time"
	"unsafe"

	"github.com/simpleos/simpleos/abi"
)

// sysInjectReport reports a fault's outcome to the campaign (package abi).
const sysInjectReport = abi.SysInjectReport

// Arm is called first thing in a module's main. It removes any -inject= argument from os.Args
// (a malformed one, or any after the first, is reported on stderr and ignored) and, if there
// was one, starts a goroutine that sleeps the delay, runs Inject and reports the outcome to the
// core with Report. A driver or file-system class (IsCommittedByModule) is not run: Arm
// returns its Spec (ok true) for the module to commit in its request path; otherwise ok is
// false.
//
// In a campaign (the core sets AgentEnv in every module's environment) Arm also starts the
// module's fault agent: a goroutine waiting in inject_wait for the faults the campaign's runner
// arms in the running instance, committing each as an -inject= argument's would be. No restart
// is needed to inject: the runner restores a clean instance from the module's snapshot, whose
// agent is waiting already, and arms it.
func Arm() (driver Spec, ok bool) {
	if os.Getenv(AgentEnv) != "" {
		go agent()
	}
	s, ok := takeArg()
	if !ok {
		return Spec{}, false
	}
	fmt.Fprintf(os.Stderr, "fault: %s armed: delay %v, seed %d\n", s.Class, s.Delay, s.Seed)
	if IsCommittedByModule(s.Class) {
		return s, true
	}
	go commit(s)
	return Spec{}, false
}

// AgentEnv is the environment variable that starts a module's fault agent (Arm).
const AgentEnv = "SIMPLEOS_FAULT_AGENT"

// sysInjectWait is the agent's wait for an armed fault (package abi).
const sysInjectWait = abi.SysInjectWait

// agent commits, one after another, the faults the campaign arms in this instance. It ends if
// the system call is not there (not on SimpleOS).
func agent() {
	var buf [128]byte
	for {
		n, _, e := syscall.Syscall(sysInjectWait, uintptr(unsafe.Pointer(&buf[0])), uintptr(len(buf)), 0)
		switch {
		case e == syscall.EINTR:
			continue
		case e != 0:
			return
		}
		s, ok, err := ParseArg(argPrefix + string(buf[:n]))
		if !ok || err != nil || IsCommittedByModule(s.Class) {
			fmt.Fprintf(os.Stderr, "fault: agent: %q: %v (ignored)\n", buf[:n], err)
			continue
		}
		go commit(s)
	}
}

// commit sleeps the fault's delay, commits it and reports what it did.
func commit(s Spec) {
	time.Sleep(s.Delay)
	o, err := Inject(s.Class, s.Targets, s.Seed)
	if err != nil {
		fmt.Fprintln(os.Stderr, err) // not reached: ParseArg checked the class
		return
	}
	if o != External {
		Report(o)
	}
	fmt.Fprintf(os.Stderr, "fault: %s: %v\n", s.Class, o)
}

// takeArg removes the -inject= arguments from os.Args and returns the first well-formed one.
func takeArg() (Spec, bool) {
	if len(os.Args) < 2 {
		return Spec{}, false
	}
	var spec Spec
	found := false
	kept := []string{os.Args[0]}
	for _, a := range os.Args[1:] {
		s, ok, err := ParseArg(a)
		switch {
		case !ok:
			kept = append(kept, a)
		case err != nil:
			fmt.Fprintf(os.Stderr, "%v (ignored)\n", err)
		case found:
			fmt.Fprintf(os.Stderr, "fault: %q: one fault per task (ignored)\n", a)
		default:
			spec, found = s, true
		}
	}
	os.Args = kept
	return spec, found
}

// Report tells the core what an injected fault did (SYS_inject_report with the outcome in the
// first argument). Errors are ignored: on Linux the call fails with ENOSYS.
func Report(o Outcome) {
	syscall.RawSyscall(sysInjectReport, uintptr(o), 0, 0)
}

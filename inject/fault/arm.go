package fault

import (
	"fmt"
	"os"
	"syscall"
	"time"

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
func Arm() (driver Spec, ok bool) {
	s, ok := takeArg()
	if !ok {
		return Spec{}, false
	}
	fmt.Fprintf(os.Stderr, "fault: %s armed: delay %v, seed %d\n", s.Class, s.Delay, s.Seed)
	if IsCommittedByModule(s.Class) {
		return s, true
	}
	go func() {
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
	}()
	return Spec{}, false
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

package campaign

import (
	"slices"
	"strings"

	"github.com/simpleos/simpleos/inject/fault"
)

// classes are the fault classes the core's campaign runner and its in-task agent know: the
// module classes, then the driver classes (committed by a device driver in its request path),
// then the file-system classes (committed by the file-system server in its request path).
var classes = append(append(fault.Classes(), fault.DriverClasses()...), fault.FSClasses()...)

// ModuleClasses returns the classes any module can be given (not the driver or file-system
// classes).
func ModuleClasses() []string { return fault.Classes() }

// Classes returns the fault classes, in their documented order.
func Classes() []string { return slices.Clone(classes) }

// KnownClass reports whether c is a fault class.
func KnownClass(c string) bool { return fault.Known(c) }

// Outcomes of one injection.
const (
	Handled     = "handled"     // the module survived and kept serving
	Restarted   = "restarted"   // contained: the task died, was restarted and serves again
	Quarantined = "quarantined" // contained: the task died and the supervisor quarantined it
	Breach      = "breach"      // isolation breach: a forbidden operation succeeded
	Hang        = "hang"        // the module or the system stopped responding; nothing recovered it
	CoreCrash   = "core-crash"  // the kernel crashed
	NotRun      = "not-run"     // the boot ended before the injection ran: an error of the run
)

// outcomes are the outcomes a scenario may expect, in report order.
var outcomes = []string{Handled, Restarted, Quarantined, Breach, Hang, CoreCrash}

// Outcomes returns the outcomes a scenario may expect, in report order (NotRun is not one).
func Outcomes() []string { return slices.Clone(outcomes) }

// KnownOutcome reports whether o is one of Outcomes.
func KnownOutcome(o string) bool { return slices.Contains(outcomes, o) }

// kernelOutcome reports whether the in-guest runner may print o (the host decides core-crash).
func kernelOutcome(o string) bool {
	switch o {
	case Handled, Restarted, Quarantined, Breach, Hang:
		return true
	}
	return false
}

// Deployments: where the sensor runs.
const (
	Tiered     = "tiered"     // every module in its own task (ring 1-3)
	Monolithic = "monolithic" // the sensor inside the core, as the comparison
)

// ValidDeployment reports whether d is Tiered or Monolithic.
func ValidDeployment(d string) bool { return d == Tiered || d == Monolithic }

func knownList(list []string) string { return strings.Join(list, ", ") }

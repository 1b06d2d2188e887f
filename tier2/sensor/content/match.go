package content

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"
)

// SuppliedValues is how many input values the sensor's named-pipe event source supplies to the
// content interpreter: fields 1 to 20. The IPC template type of the fixtures declares 21.
const SuppliedValues = 20

// Input value indexes (field numbers in messages are these plus one). The first twenty are what
// the sensor fills in; FieldPeerAddress is the 21st field the IPC template type declares and no
// sensor code ever supplies.
const (
	FieldPipeName           = iota // \\.\pipe\name
	FieldCreatorImage              // full path of the creating image
	FieldCreatorPID                // decimal
	FieldParentImage               // full path of the creator's parent
	FieldParentPID                 // decimal
	FieldCommandLine               // creator's command line
	FieldUser                      // DOMAIN\user
	FieldSessionID                 // decimal
	FieldIntegrity                 // Low, Medium, High, System
	FieldOpenMode                  // inbound, outbound, duplex
	FieldPipeMode                  // byte, message
	FieldMaxInstances              // decimal, or "unlimited"
	FieldOutBufferSize             // decimal
	FieldInBufferSize              // decimal
	FieldDefaultTimeout            // milliseconds, decimal
	FieldSecurityDescriptor        // SDDL
	FieldCreatorSigner             // signer subject, empty if unsigned
	FieldCreatorHash               // SHA-256, hex
	FieldHostname                  // host the event was seen on
	FieldTimestamp                 // RFC 3339
	FieldPeerAddress               // the 21st field: declared by the template type, never supplied
)

// StaleAddr is the data pointer of the garbage string header that follows the sensor's value
// array in Input. Nothing is mapped there in a SimpleOS task or a Go test binary on linux/amd64
// (binaries load at 0x400000, the Go heap starts at 0xc000000000), so dereferencing it faults.
const StaleAddr = 0xdead0000

// StaleLen is the length of that garbage string header: non-zero, so that comparing it with a
// pattern has to read its bytes.
const StaleLen = 64

// Detection is what a matching instance reports.
type Detection struct {
	Channel    uint32
	Sequence   uint32
	InstanceID uint32
	TypeID     uint32
	Name       string
	Severity   Severity
	Action     Action
}

// Input is the block the sensor fills for one named-pipe creation event and hands to
// MatchNative. Values is deliberately the last array in the struct, and what lies right after
// it, StalePtr and StaleLen, has the layout of a string header ({data pointer, length}) holding
// StaleAddr and StaleLen: it stands for the stale kernel memory that lay past the end of the
// Falcon sensor's 20-entry input array. An interpreter that reads "value 21" from &Values[0]
// by pointer arithmetic gets this header and, when it compares it, dereferences StaleAddr.
type Input struct {
	Values   [SuppliedValues]string
	StalePtr uintptr
	StaleLen int
}

// NewInput returns an Input holding values followed by the stale header.
func NewInput(values [SuppliedValues]string) *Input {
	return &Input{Values: values, StalePtr: StaleAddr, StaleLen: StaleLen}
}

func (c *ChannelFile) detection(in *TemplateInstance) Detection {
	return Detection{
		Channel: c.Channel, Sequence: c.Sequence,
		InstanceID: in.ID, TypeID: in.TypeID,
		Name: in.Detection, Severity: in.Severity, Action: in.Action,
	}
}

// Match is the bounds-checked content interpreter. It evaluates the instances in file order
// against one event's values and returns the first that matches. A criterion on a field the
// caller did not supply (index ≥ len(values)) cannot be evaluated: a wildcard there still
// matches (it never reads the value), any other criterion does not, so the instance does not
// fire. Match never reads outside values.
func (c *ChannelFile) Match(values []string) (Detection, bool) {
	for i := range c.Instances {
		in := &c.Instances[i]
		ok := true
		for f, cr := range in.Criteria {
			if cr.Kind == KindWildcard {
				continue
			}
			if f >= len(values) || !cr.matches(values[f]) {
				ok = false
				break
			}
		}
		if ok {
			return c.detection(in), true
		}
	}
	return Detection{}, false
}

// MatchNative is the native-style content interpreter, a deliberate model of the Falcon
// sensor's Content Interpreter in the Channel File 291 incident. Like Match it evaluates the
// instances in file order, skipping wildcards without reading their value, but it fetches the
// value for criterion i with pointer arithmetic from &values[0], trusting the template type's
// field count (the instance's criterion count) instead of the array's length:
//
//	*(*string)(unsafe.Add(unsafe.Pointer(&values[0]), i*unsafe.Sizeof("")))
//
// For an instance with a non-wildcard criterion on field 21 this reads past the end of the
// 20-entry array. Passed &Input.Values, it reads the stale header (StaleAddr, StaleLen) and
// dereferences StaleAddr while comparing it: a real page fault at an unmapped address, which
// the Go runtime reports as "unexpected fault address 0xdead0000" / "signal SIGSEGV" and
// which kills the process (it is not a recoverable bounds-check panic). Passed an array that
// is not followed by such a header, it reads whatever memory follows. Use it only on files
// Validate has accepted; it exists to demonstrate what happens when that gate is missing.
func (c *ChannelFile) MatchNative(values *[SuppliedValues]string) (Detection, bool) {
	base := unsafe.Pointer(&values[0])
	for i := range c.Instances {
		in := &c.Instances[i]
		ok := true
		for f, cr := range in.Criteria {
			if cr.Kind == KindWildcard {
				continue
			}
			v := *(*string)(unsafe.Add(base, uintptr(f)*unsafe.Sizeof("")))
			if !cr.matches(v) {
				ok = false
				break
			}
		}
		if ok {
			return c.detection(in), true
		}
	}
	return Detection{}, false
}

// matches reports whether v satisfies the criterion.
func (cr Criterion) matches(v string) bool {
	switch cr.Kind {
	case KindWildcard:
		return true
	case KindExact:
		return v == cr.Pattern
	case KindPrefix:
		return strings.HasPrefix(v, cr.Pattern)
	case KindGlob:
		return GlobMatch(cr.Pattern, v)
	}
	return false
}

// GlobMatch reports whether s matches pattern, byte by byte: * matches any run of bytes (including
// none), ? matches exactly one byte, every other byte matches itself. There is no escape and no
// character class. It runs in O(len(pattern)·len(s)) time.
func GlobMatch(pattern, s string) bool {
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		if p < len(pattern) {
			switch c := pattern[p]; {
			case c == '*':
				starP, starI = p, i
				p++
				continue
			case c == '?' || c == s[i]:
				p++
				i++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		// Let the last * swallow one more byte and retry from there.
		starI++
		p, i = starP+1, starI
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// Validate is the content validator that knows what the sensor really supplies: supplied maps a
// template type id to the number of input values the sensor passes for it. Validate rejects an
// instance whose template type the file does not define, whose criterion count differs from its
// type's field count, or which has a non-wildcard criterion on a field the sensor does not
// supply (index ≥ supplied count, or any field of a type missing from supplied). A template type
// that merely declares more fields than are supplied is accepted as long as every instance
// uses a wildcard there, which is how the file shipped before Channel File 291's bad update.
// The error names the file, the instance, the template type and the field (numbered from 1);
// with several offending instances it joins one error per instance.
func Validate(c *ChannelFile, supplied map[uint32]int) error {
	var errs []error
	for _, in := range c.Instances {
		t, ok := c.Type(in.TypeID)
		if !ok {
			errs = append(errs, fmt.Errorf("%s: instance %d (%q) names template type %d, which the file does not define",
				c.Name, in.ID, in.Detection, in.TypeID))
			continue
		}
		if len(in.Criteria) != t.Fields {
			errs = append(errs, fmt.Errorf("%s: instance %d (%q) has %d criteria, but template type %d (%q) declares %d input fields",
				c.Name, in.ID, in.Detection, len(in.Criteria), t.ID, t.Name, t.Fields))
			continue
		}
		n, known := supplied[t.ID]
		for f, cr := range in.Criteria {
			if cr.Kind == KindWildcard || (known && f < n) {
				continue
			}
			if !known {
				errs = append(errs, fmt.Errorf("%s: instance %d (%q) of template type %d (%q) has a non-wildcard criterion on field %d, but the sensor supplies no values for that template type",
					c.Name, in.ID, in.Detection, t.ID, t.Name, f+1))
			} else {
				errs = append(errs, fmt.Errorf("%s: instance %d (%q) of template type %d (%q) has a non-wildcard criterion on field %d, but the sensor supplies only %d values",
					c.Name, in.ID, in.Detection, t.ID, t.Name, f+1, n))
			}
			break
		}
	}
	return errors.Join(errs...)
}

// SensorSupplies is what SimpleOS's sensor supplies: SuppliedValues values for template type
// IPCTypeID. Pass it to Validate.
func SensorSupplies() map[uint32]int {
	return map[uint32]int{IPCTypeID: SuppliedValues}
}

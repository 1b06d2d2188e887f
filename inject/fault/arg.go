package fault

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

const argPrefix = "-inject="

// Spec is what the core passes a module on its command line:
//
//	-inject=CLASS,DELAYMS,SEED,COREADDR,TASKADDR
//
// with DELAYMS and SEED decimal, the addresses hexadecimal with a 0x prefix, and the last three
// optional (0).
type Spec struct {
	Class   string
	Delay   time.Duration
	Seed    uint64
	Targets Targets
}

// ParseArg reads an -inject= argument. ok is false if arg is not one; err names what is wrong
// with one that is.
func ParseArg(arg string) (Spec, bool, error) {
	v, ok := strings.CutPrefix(arg, argPrefix)
	if !ok {
		return Spec{}, false, nil
	}
	var s Spec
	fail := func(format string, a ...any) (Spec, bool, error) {
		return Spec{}, true, fmt.Errorf("fault: bad argument %q: %s", arg, fmt.Sprintf(format, a...))
	}
	f := strings.Split(v, ",")
	switch {
	case len(f) > 5:
		return fail("too many fields (%d; the form is CLASS,DELAYMS[,SEED[,COREADDR[,TASKADDR]]])", len(f))
	case f[0] == "":
		return fail("missing class")
	case !Known(f[0]):
		return fail("unknown class %q", f[0])
	case len(f) < 2:
		return fail("missing delay (the form is CLASS,DELAYMS[,SEED[,COREADDR[,TASKADDR]]])")
	}
	s.Class = f[0]

	d := f[1]
	switch ms, perr := strconv.ParseUint(d, 10, 64); {
	case strings.HasPrefix(d, "-") && digits(d[1:]):
		return fail("negative delay %s ms", d)
	case !digits(d):
		return fail("bad delay %q (decimal milliseconds)", d)
	case perr != nil || ms > math.MaxInt64/uint64(time.Millisecond):
		return fail("delay %s ms too large", d)
	default:
		s.Delay = time.Duration(ms) * time.Millisecond
	}

	if len(f) > 2 {
		seed, err := strconv.ParseUint(f[2], 10, 64)
		if err != nil || !digits(f[2]) {
			return fail("bad seed %q (decimal, 0 to 18446744073709551615)", f[2])
		}
		s.Seed = seed
	}
	for i, field := range f[min(len(f), 3):] {
		name, dst := "core", &s.Targets.CoreAddr
		if i == 1 {
			name, dst = "task", &s.Targets.TaskAddr
		}
		a, ok := hexAddr(field)
		if !ok {
			return fail("bad %s address %q (hexadecimal with 0x prefix)", name, field)
		}
		*dst = a
	}
	return s, true, nil
}

// digits reports whether s is one or more decimal digits.
func digits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// hexAddr parses 0x followed by 1 to 16 hexadecimal digits.
func hexAddr(s string) (uintptr, bool) {
	h, ok := strings.CutPrefix(s, "0x")
	if !ok {
		h, ok = strings.CutPrefix(s, "0X")
	}
	if !ok || h == "" || strings.ContainsAny(h, "+-_") {
		return 0, false
	}
	v, err := strconv.ParseUint(h, 16, 64)
	return uintptr(v), err == nil
}

// Arg returns the -inject= argument ParseArg reads back as s. The delay is written in whole
// milliseconds (rounded down, negative as 0); trailing zero fields are left out.
func (s Spec) Arg() string {
	ms := max(s.Delay/time.Millisecond, 0)
	f := []string{
		s.Class,
		strconv.FormatInt(int64(ms), 10),
		strconv.FormatUint(s.Seed, 10),
		"0x" + strconv.FormatUint(uint64(s.Targets.CoreAddr), 16),
		"0x" + strconv.FormatUint(uint64(s.Targets.TaskAddr), 16),
	}
	n := 2
	switch {
	case s.Targets.TaskAddr != 0:
		n = 5
	case s.Targets.CoreAddr != 0:
		n = 4
	case s.Seed != 0:
		n = 3
	}
	return argPrefix + strings.Join(f[:n], ",")
}

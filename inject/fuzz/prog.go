package fuzz

import (
	"fmt"
	"strconv"
	"strings"
)

// Programs as text, one step per line, so that a finding can be replayed exactly and cut
// down (simpleos fuzz --repro):
//
//	NAME A0 A1 A2 A3 A4 A5          # labels
//	thread FLAGS PTID TLS NR:A0:A1:A2:A3:A4:A5 ...
//
// Numbers are hex. Labels after '#' say what each argument was generated as ('!' marks one
// the kernel must never touch); they are kept when a program is read back.

// Text is the step as a line of program text.
func (s Step) Text() string {
	var b strings.Builder
	if s.Call == rawCall {
		fmt.Fprintf(&b, "thread %#x %#x %#x", s.Extra[0], s.Extra[1], s.Extra[2])
		for _, r := range s.Raw {
			fmt.Fprintf(&b, " %#x:%#x:%#x:%#x:%#x:%#x:%#x", r.nr, r.a0, r.a1, r.a2, r.a3, r.a4, r.a5)
		}
	} else {
		b.WriteString(Calls[s.Call].Name)
		for _, a := range s.Args[:argCount(s.Call)] {
			fmt.Fprintf(&b, " %#x", a)
		}
	}
	if len(s.Labels) > 0 {
		b.WriteString(" #")
		for _, l := range s.Labels {
			b.WriteString(" " + strings.Join(strings.Fields(l), "_"))
		}
	}
	return b.String()
}

// ParseProgram reads program text (as Text writes it; blank lines and lines starting with '#'
// are skipped). file names the source in errors.
func ParseProgram(file, text string) ([]Step, error) {
	var steps []Step
	for n, line := range strings.Split(text, "\n") {
		code, labels, _ := strings.Cut(line, "#")
		f := strings.Fields(code)
		if len(f) == 0 {
			continue
		}
		bad := func(format string, a ...any) error {
			return fmt.Errorf("%s: line %d: %s", file, n+1, fmt.Sprintf(format, a...))
		}
		var s Step
		if lf := strings.Fields(labels); len(lf) > 0 {
			s.Labels = lf
		}
		if f[0] == "thread" {
			if len(f) < 4 {
				return nil, bad("thread: want FLAGS PTID TLS and its job's calls")
			}
			s.Call = rawCall
			for i := 0; i < 3; i++ {
				v, err := strconv.ParseUint(f[1+i], 0, 64)
				if err != nil {
					return nil, bad("thread: %v", err)
				}
				s.Extra[i] = uintptr(v)
			}
			for _, w := range f[4:] {
				parts := strings.Split(w, ":")
				if len(parts) != 7 || len(s.Raw) == rawStepMax {
					return nil, bad("thread: call %q: want NR:A0:...:A5, at most %d of them", w, rawStepMax)
				}
				var v [7]uintptr
				for i, p := range parts {
					x, err := strconv.ParseUint(p, 0, 64)
					if err != nil {
						return nil, bad("thread: %v", err)
					}
					v[i] = uintptr(x)
				}
				s.Raw = append(s.Raw, rawStep{v[0], v[1], v[2], v[3], v[4], v[5], v[6]})
			}
			if s.Labels == nil {
				s.Labels = []string{"thread"}
			}
			steps = append(steps, s)
			continue
		}
		i, ok := callIndex[f[0]]
		if !ok {
			return nil, bad("no call named %q", f[0])
		}
		n := argCount(i)
		if len(f) != 1+n {
			return nil, bad("%s: want %d arguments, have %d", f[0], n, len(f)-1)
		}
		s.Call = i
		for j := 0; j < n; j++ {
			v, err := strconv.ParseUint(f[1+j], 0, 64)
			if err != nil {
				return nil, bad("%s: argument %d: %v", f[0], j, err)
			}
			s.Args[j] = uintptr(v)
		}
		steps = append(steps, s)
	}
	return steps, nil
}

// argCount is how many arguments call i takes in program text: six, nine for a call with
// regs.
func argCount(i int) int {
	if Calls[i].regs {
		return 9
	}
	return 6
}

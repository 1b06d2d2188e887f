// Package result is the line protocol between benchmark programs running in a guest (on
// SimpleOS or on Linux) and the host that collects them, and the type both sides share.
//
// A guest benchmark prints, on its console, one line per benchmark:
//
//	bench result name=NAME iters=N ns_per_op=X cycles_per_op=Y samples=S1,S2,...
//
// NAME is [a-z0-9./_-]+; X and Y are decimal floats (cycles from RDTSC; 0 if not measured);
// samples are per-batch means in ns per operation (for distributions), at most 1000. Under
// QEMU -icount shift=0 the guest's nanoseconds are guest instructions, so the host may label
// the same numbers "instructions". Other lines are ignored, and so is a prefix before
// "bench result" (a task's "[name] ").
package result

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Result is one benchmark's figures.
type Result struct {
	Name        string    `json:"name"`
	Iters       int64     `json:"iters"`
	NsPerOp     float64   `json:"ns_per_op"`
	CyclesPerOp float64   `json:"cycles_per_op"`
	Samples     []float64 `json:"samples,omitempty"`
}

var nameRE = regexp.MustCompile(`^[a-z0-9./_-]+$`)

// Line formats r for the console.
func (r Result) Line() string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "bench result name=%s iters=%d ns_per_op=%g cycles_per_op=%g samples=", r.Name, r.Iters, r.NsPerOp, r.CyclesPerOp)
	for i, s := range r.Samples {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(strconv.FormatFloat(s, 'g', 6, 64))
	}
	return sb.String()
}

// Parse reads every result line in output. A line that starts like a result but does not
// parse is an error naming its line number.
func Parse(output []byte) ([]Result, error) {
	var out []Result
	for n, line := range strings.Split(string(output), "\n") {
		i := strings.Index(line, "bench result ")
		if i < 0 {
			continue
		}
		r, err := parseLine(strings.TrimSpace(line[i+len("bench result "):]))
		if err != nil {
			return out, fmt.Errorf("line %d: %v: %q", n+1, err, line)
		}
		out = append(out, r)
	}
	return out, nil
}

func parseLine(s string) (Result, error) {
	var r Result
	seen := map[string]bool{}
	for _, f := range strings.Fields(s) {
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return r, fmt.Errorf("field %q is not key=value", f)
		}
		seen[k] = true
		var err error
		switch k {
		case "name":
			if !nameRE.MatchString(v) {
				return r, fmt.Errorf("bad name %q", v)
			}
			r.Name = v
		case "iters":
			r.Iters, err = strconv.ParseInt(v, 10, 64)
		case "ns_per_op":
			r.NsPerOp, err = strconv.ParseFloat(v, 64)
		case "cycles_per_op":
			r.CyclesPerOp, err = strconv.ParseFloat(v, 64)
		case "samples":
			for _, x := range strings.Split(v, ",") {
				if x == "" {
					continue
				}
				f, e := strconv.ParseFloat(x, 64)
				if e != nil {
					return r, fmt.Errorf("bad sample %q", x)
				}
				r.Samples = append(r.Samples, f)
			}
		}
		if err != nil {
			return r, fmt.Errorf("bad %s %q", k, v)
		}
	}
	for _, k := range []string{"name", "iters", "ns_per_op"} {
		if !seen[k] {
			return r, fmt.Errorf("missing %s", k)
		}
	}
	return r, nil
}

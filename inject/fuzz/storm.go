package fuzz

import "io"

// StormResult is what a storm did.
type StormResult struct {
	Calls    uint64
	Findings []Finding
}

// Storm makes calls system calls from the fuzzer's descriptions inside a running module (the
// fault-injection class syscall-storm): every call but those that end the task, which the
// descriptions leave out, and those that report to the fault-injection campaign itself
// (inject_report, fuzz_report), which would let the storm forge the campaign's verdict. The
// module's policy is not known here, so grants are not judged, only what no task may get
// (a kernel address read or written, a mapping in the kernel half...). Findings go to out.
func Storm(seed uint64, calls int, out io.Writer) (StormResult, error) {
	f, err := New(Config{Seed: seed, MaxCalls: uint64(calls), Batch: 100, Out: out, unknownPolicy: true,
		skip: []string{"inject_report", "fuzz_report"}})
	if err != nil {
		return StormResult{}, err
	}
	f.Run()
	return StormResult{Calls: f.CallsMade(), Findings: f.Findings()}, nil
}

// Command micro is the SimpleOS side of the benchmark suite's micro-benchmarks (package
// bench, `simpleos bench`). One binary plays every part; the host copies it under one name
// per part (syscall-r1, ipc-server-r2, ...) so that each task has its own policy module
// (bench/policy/micro.policy).
//
//	micro [-wait EP] [-pass EP] [-await EP,...] [-batches N] MODE ARGS...
//
//	syscall NAME N          getppid, N per batch
//	switch NAME N           a thread switch: two OS-thread-locked goroutines hand a word back
//	                        and forth through futexes; N round trips per batch, reported per
//	                        switch (half a round trip)
//	pagefault NAME N        first touch of N fresh demand-zero pages per batch
//	serve EP...             serve the endpoints (one thread each) until each got a quit call
//	call N NAME=EP[:KIND]...
//	                        N IPC call+reply round trips per batch to each endpoint in turn
//	                        (KIND: 4w four words each way, 1k 1 KiB lent, x4 four client
//	                        threads), then a quit call to each endpoint
//	profile N NAME=OP...    N repetitions of each OP in turn (an endpoint's call+reply
//	                        round trip, getppid or yield), each stretch between two marks,
//	                        for an instruction trace (bench/itrace); then a quit call to each
//	                        endpoint
//
// The tasks of one boot run one after another, never together, so that none measures
// another's start-up or run: a task given -wait registers EP and waits for a call on it
// before it starts (its turn); -pass calls the next task's EP when it is done. The first task
// (-await) waits until every endpoint of the list is registered, which says that every other
// task has started and is waiting, and then a little longer.
//
// Output: one "bench result ..." line per benchmark (package bench/result), "bench error
// name=NAME err=..." for a benchmark that failed; exit status 1 if one failed.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/simpleos/simpleos/bench/measure"
	"github.com/simpleos/simpleos/bench/result"
	"github.com/simpleos/simpleos/ipc"
)

// lookupPatience bounds every wait for another task's endpoint.
const lookupPatience = 120 * time.Second

func main() {
	wait := flag.String("wait", "", "register `EP` and wait for a call on it before starting")
	pass := flag.String("pass", "", "call `EP` when done: the next task's turn")
	await := flag.String("await", "", "comma-separated `EPS` that must all be registered before starting")
	count := flag.Int("batches", 50, "timed batches per benchmark")
	flag.Parse()
	args := flag.Args()
	if len(args) == 0 {
		fmt.Println("micro: usage: micro [-wait EP] [-pass EP] [-await EPS] [-batches N] MODE ARGS...")
		os.Exit(2)
	}
	if args[0] == "serve" {
		os.Exit(serve(args[1:]))
	}

	var turn *ipc.Endpoint
	if *wait != "" {
		ep, err := ipc.Register(*wait)
		if err != nil {
			fmt.Printf("micro: register %s: %v\n", *wait, err)
			os.Exit(1)
		}
		turn = ep
	}
	if *await != "" {
		for _, name := range strings.Split(*await, ",") {
			if _, err := lookup(name); err != nil {
				fmt.Printf("micro: %v\n", err)
			}
		}
		time.Sleep(100 * time.Millisecond) // they are in their first blocking call by now
	}
	if turn != nil {
		if _, err := turn.Recv(0); err != nil {
			fmt.Printf("micro: waiting for my turn on %s: %v\n", *wait, err)
			os.Exit(1)
		}
		if err := turn.Reply(ipc.Msg{}); err != nil {
			fmt.Printf("micro: answering the turn on %s: %v\n", *wait, err)
		}
	}

	failed := run(args, *count)

	if *pass != "" {
		ep, err := lookup(*pass)
		if err == nil {
			_, err = ep.Call(ipc.Msg{}, lookupPatience)
		}
		if err != nil {
			fmt.Printf("micro: passing the turn to %s: %v\n", *pass, err)
			failed = true
		}
	}
	if failed {
		os.Exit(1)
	}
}

// run runs one mode's benchmarks and prints their lines; it reports whether one failed.
func run(args []string, count int) (failed bool) {
	// No collection while threads sit in raw blocking system calls holding their Ps (the
	// thread switch): a stop-the-world would wait for them.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	report := func(name string, r result.Result, err error) {
		if err != nil {
			fmt.Printf("bench error name=%s err=%v\n", name, oneLine(err))
			failed = true
			return
		}
		fmt.Println(r.Line())
	}
	mode, rest := args[0], args[1:]
	switch mode {
	case "syscall", "switch", "pagefault":
		if len(rest) != 2 {
			report(mode, result.Result{}, fmt.Errorf("usage: %s NAME N", mode))
			return
		}
		name := rest[0]
		n, err := strconv.Atoi(rest[1])
		if err != nil || n < 1 {
			report(name, result.Result{}, fmt.Errorf("bad count %q", rest[1]))
			return
		}
		var r result.Result
		switch mode {
		case "syscall":
			r, err = getppid(name, count, n)
		case "switch":
			r, err = threadSwitch(name, count, n)
		default:
			r, err = measure.FirstTouch(name, count, n)
		}
		report(name, r, err)
	case "call":
		if len(rest) < 2 {
			report(mode, result.Result{}, errors.New("usage: call N NAME=EP..."))
			return
		}
		n, err := strconv.Atoi(rest[0])
		if err != nil || n < 1 {
			report(mode, result.Result{}, fmt.Errorf("bad count %q", rest[0]))
			return
		}
		for _, pair := range rest[1:] {
			name, ep, ok := strings.Cut(pair, "=")
			if !ok {
				report(mode, result.Result{}, fmt.Errorf("%q is not NAME=EP", pair))
				continue
			}
			ep, kind, _ := strings.Cut(ep, ":")
			r, err := callReply(name, ep, kind, count, n)
			report(name, r, err)
		}
		for _, pair := range rest[1:] {
			if _, ep, ok := strings.Cut(pair, "="); ok && !strings.Contains(ep, ":") {
				quit(ep)
			}
		}
	case "profile":
		n, err := 0, error(nil)
		if len(rest) >= 2 {
			n, err = strconv.Atoi(rest[0])
		}
		if len(rest) < 2 || err != nil || n < 1 {
			report(mode, result.Result{}, errors.New("usage: profile N NAME=EP..."))
			return
		}
		for _, pair := range rest[1:] {
			name, op, _ := strings.Cut(pair, "=")
			if err := profile(op, n); err != nil {
				report(name, result.Result{}, err)
			}
		}
		for _, pair := range rest[1:] {
			if _, op, _ := strings.Cut(pair, "="); op != "getppid" && op != "yield" {
				quit(op)
			}
		}
	default:
		report(mode, result.Result{}, fmt.Errorf("unknown mode %q", mode))
	}
	return failed
}

// lookup waits until name is registered.
func lookup(name string) (*ipc.Endpoint, error) {
	deadline := time.Now().Add(lookupPatience)
	for {
		ep, err := ipc.Lookup(name)
		if err == nil {
			return ep, nil
		}
		if err != ipc.ErrNotFound || time.Now().After(deadline) {
			return nil, fmt.Errorf("lookup %s: %w", name, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func oneLine(err error) string {
	return strings.ReplaceAll(err.Error(), "\n", "; ")
}

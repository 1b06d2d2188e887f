package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/simpleos/simpleos/inject/fault"
)

// soakSlots is how many files the soak rewrites in turn.
const soakSlots = 8

// slot is what the soak knows a file holds: valid once an fsync of it returned, and until the
// soak starts rewriting it.
type slot struct {
	valid      bool
	seed       uint64
	size       int64
	fsyncedAt  int // round
	verified   int
	lastFailed error
}

// soakStats are the soak's counts, printed every 25 rounds.
type soakStats struct {
	rounds, fsynced, verified, failedCalls, failedReads, breaches int
	enoent                                                        int // transient ENOENT: the server was restarting
}

// soak is the file-system campaign's data-integrity client (docs/fault-injection.md,
// "File-system classes"): in DIR it rewrites soakSlots files in turn — create/truncate,
// write, fsync, close — and remembers each one whose fsync returned; after every write it
// reads back that file and one other it knows, each with a new open (descriptors the server
// handed out before a restart are stale). A call that fails proves nothing: the file being
// written is unknown until its fsync returns, a failed read is retried later. A file whose
// fsync returned that then reads back wrong — missing, another size, other bytes — is a
// breach: printed as "filetest: BREACH: ..." and reported to the campaign with
// inject_report(breach), which the core's runner reads. It runs until the system stops.
func soak(dir string) {
	var st soakStats
	slots := make([]slot, soakSlots)
	for {
		err := os.MkdirAll(dir, 0o755)
		if err == nil {
			break
		}
		st.failedCalls++
		time.Sleep(200 * time.Millisecond)
	}
	fmt.Printf("filetest: soak in %s: %d files, rewritten in turn, fsynced, read back\n", dir, soakSlots)
	for r := 1; ; r++ {
		start := time.Now()
		i := r % soakSlots
		s := &slots[i]
		s.valid = false // unknown from the first write until the fsync returns
		seed, size := uint64(r)*2654435761, int64(512+(r*7919)%(96<<10))
		if err := soakWrite(soakPath(dir, i), seed, size); err != nil {
			st.failedCalls++
		} else {
			*s = slot{valid: true, seed: seed, size: size, fsyncedAt: r}
			st.fsynced++
		}
		for _, k := range []int{i, (r * 5) % soakSlots} {
			if !slots[k].valid {
				continue
			}
			err := soakVerify(soakPath(dir, k), slots[k])
			if errors.Is(err, errGone) {
				// Without a server (it is restarting) the core's VFS answers ENOENT for every
				// path: look again before calling the file lost.
				t0 := time.Now()
				for try := 0; try < 15 && errors.Is(err, errGone); try++ {
					time.Sleep(200 * time.Millisecond)
					err = soakVerify(soakPath(dir, k), slots[k])
				}
				if !errors.Is(err, errGone) {
					st.enoent++
					fmt.Printf("filetest: ENOENT for fsynced %s, then %v %v later: the core's VFS answered while the server was down\n",
						soakPath(dir, k), orOK(err), time.Since(t0).Round(time.Millisecond))
				}
			}
			switch {
			case err == nil:
				st.verified++
				slots[k].verified++
			case errors.Is(err, errWrong):
				st.breaches++
				fmt.Printf("filetest: BREACH: %v (fsynced in round %d, now round %d)\n", err, slots[k].fsyncedAt, r)
				fault.Report(fault.Breach)
				slots[k].valid = false // reported once; rewritten in its turn
			default:
				st.failedReads++
				slots[k].lastFailed = err
			}
		}
		st.rounds++
		if st.rounds%25 == 0 {
			fmt.Printf("filetest: soak: %d rounds, %d files fsynced, %d read back intact, %d writes and %d reads failed, %d transient ENOENT, %d breaches\n",
				st.rounds, st.fsynced, st.verified, st.failedCalls, st.failedReads, st.enoent, st.breaches)
		}
		// Leave the server CPU; a round slowed by a server's restart must not stop the soak.
		time.Sleep(min(max(2*time.Since(start), 50*time.Millisecond), 500*time.Millisecond))
	}
}

func soakPath(dir string, i int) string { return filepath.Join(dir, fmt.Sprintf("slot%d", i)) }

// errWrong marks a read that returned, wrongly; errGone (which wraps it) a file not found.
var (
	errWrong = errors.New("wrong")
	errGone  = fmt.Errorf("%w: gone", errWrong)
)

func orOK(err error) any {
	if err == nil {
		return "read back intact"
	}
	return err
}

func soakWrite(path string, seed uint64, size int64) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	buf := make([]byte, size)
	pattern(seed, 0, buf)
	if _, err := f.Write(buf); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// soakVerify reads path back: nil if it holds what s says, an error wrapping errWrong if it
// holds something else or is missing, another error if the read failed.
func soakVerify(path string, s slot) error {
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		var names []string
		es, derr := os.ReadDir(filepath.Dir(path))
		for _, e := range es {
			names = append(names, e.Name())
		}
		return fmt.Errorf("%w: %s (%v; its directory lists %q, %v)", errGone, path, err, names, derr)
	case err != nil:
		return err
	case int64(len(b)) != s.size:
		return fmt.Errorf("%w: %s holds %d bytes, fsynced %d", errWrong, path, len(b), s.size)
	}
	want := make([]byte, len(b))
	pattern(s.seed, 0, want)
	for j := range b {
		if b[j] != want[j] {
			return fmt.Errorf("%w: %s: byte %d is %#x, fsynced %#x", errWrong, path, j, b[j], want[j])
		}
	}
	return nil
}

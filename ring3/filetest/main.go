// Command filetest checks the Linux file ABI from inside SimpleOS, with the os and syscall
// packages as any Go program uses them, for the QEMU tests (tests/files_test.go):
//
//	filetest abi DIR          every call of the file ABI and its errno cases, under DIR (which
//	                          must be writable): "filetest: abi DIR: N checks OK", or a
//	                          "filetest: FAIL ..." line per failed check and exit status 1
//	filetest write PATH SEED SIZE   writes SIZE bytes of a pattern, fsyncs, closes: "filetest:
//	                          wrote and fsynced PATH (SIZE bytes)"; with --hang it then waits
//	                          forever (for a test that kills QEMU)
//	filetest verify PATH SEED SIZE  reads the file back and compares
//	filetest denied PATH...   each path must be EACCES to open for writing
//	filetest readable PATH... each path must open for reading
//	filetest soak DIR         the file-system campaign's data-integrity client (soak.go); alone,
//	                          --soak is soak /data/soak (the campaign runner passes one argument)
//	filetest durable A SEED SIZE TRIGGER   the durability tests: writes and fsyncs A, then
//	                          what crash does
//	filetest crash A SEED SIZE TRIGGER     pulls TRIGGER, which makes the server crash —
//	                          open:PATH opens PATH (the server's --crash-on-open: the open must
//	                          fail), write:PATH writes 1 KiB to PATH and fsyncs (an armed
//	                          fs-crash-mid-write: it may fail) — then reads A back with a new
//	                          open: "filetest: A intact after the server's crash"
//
// The pattern: byte i of a file written with SEED is byte (i*31 + SEED) of its 64-bit word.
package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		// Bundled with the system (make run starts every ring3/ program): nothing to check.
		fmt.Println("filetest: no mode given (abi DIR | write PATH SEED SIZE [--hang] | verify PATH SEED SIZE | denied PATH... | readable PATH...): nothing to do")
		return
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "--soak":
		soak("/data/soak")
	case "soak":
		if len(args) != 1 {
			fail("soak DIR")
		}
		soak(args[0])
	case "durable", "crash":
		if len(args) != 4 {
			fail(os.Args[1] + " PATH SEED SIZE TRIGGER")
		}
		seed, err1 := strconv.ParseUint(args[1], 0, 64)
		size, err2 := strconv.ParseInt(args[2], 0, 64)
		if err := errors.Join(err1, err2); err != nil {
			fail(err.Error())
		}
		if os.Args[1] == "durable" {
			writeFile(args[0], seed, size)
		}
		crash(args[0], seed, size, args[3])
	case "abi":
		if len(args) != 1 {
			fail("abi DIR")
		}
		c := &checker{dir: args[0]}
		c.run()
		if c.failed > 0 {
			fmt.Printf("filetest: abi %s: %d of %d checks FAILED\n", c.dir, c.failed, c.n)
			os.Exit(1)
		}
		fmt.Printf("filetest: abi %s: %d checks OK\n", c.dir, c.n)
	case "write", "verify":
		if len(args) < 3 {
			fail(os.Args[1] + " PATH SEED SIZE")
		}
		seed, err1 := strconv.ParseUint(args[1], 0, 64)
		size, err2 := strconv.ParseInt(args[2], 0, 64)
		if err := errors.Join(err1, err2); err != nil {
			fail(err.Error())
		}
		if os.Args[1] == "write" {
			writeFile(args[0], seed, size)
			if len(args) > 3 && args[3] == "--hang" {
				for {
					time.Sleep(time.Hour) // alive when QEMU is killed
				}
			}
		} else {
			verifyFile(args[0], seed, size)
		}
	case "denied":
		for _, p := range args {
			_, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE, 0o644)
			if !errors.Is(err, os.ErrPermission) {
				fail(fmt.Sprintf("open %s for writing: %v, want EACCES", p, err))
			}
		}
		fmt.Printf("filetest: denied %d paths\n", len(args))
	case "readable":
		for _, p := range args {
			b, err := os.ReadFile(p)
			if err != nil {
				fail(fmt.Sprintf("read %s: %v", p, err))
			}
			fmt.Printf("filetest: read %s: %d bytes\n", p, len(b))
		}
	default:
		fail("unknown mode " + os.Args[1])
	}
}

// crash makes the server crash (trigger: open:PATH or write:PATH) and reads path back
// through the restarted server.
func crash(path string, seed uint64, size int64, trigger string) {
	switch kind, p, _ := strings.Cut(trigger, ":"); kind {
	case "open":
		_, err := os.Open(p)
		fmt.Printf("filetest: open %s: %v\n", p, err)
		if err == nil {
			fail("the open of " + p + " succeeded: the server did not crash")
		}
	case "write":
		f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err == nil {
			b := make([]byte, 1024)
			pattern(1, 0, b)
			_, err = f.Write(b)
			if err == nil {
				err = f.Sync()
			}
			f.Close()
		}
		fmt.Printf("filetest: write and fsync %s: %v\n", p, err)
	default:
		fail("trigger " + trigger + ": want open:PATH or write:PATH")
	}
	// The first calls may still find the server restarting: EIO is a failed call, not an answer.
	// Without a server the core's VFS answers ENOENT for every path, with a restarting one
	// EIO: say what each try got.
	for try := 1; ; try++ {
		_, err := os.Stat(path)
		if err == nil || try == 50 {
			break
		}
		fmt.Printf("filetest: stat %s after the crash, try %d: %v\n", path, try, err)
		time.Sleep(100 * time.Millisecond)
	}
	verifyFile(path, seed, size)
	fmt.Printf("filetest: %s intact after the server's crash\n", path)
}

func fail(msg string) {
	fmt.Printf("filetest: FAIL %s\n", msg)
	os.Exit(1)
}

func pattern(seed uint64, off int64, p []byte) {
	for i := range p {
		x := uint64(off+int64(i))*31 + seed
		p[i] = byte(x ^ x>>8 ^ x>>16)
	}
}

func writeFile(path string, seed uint64, size int64) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		fail(err.Error())
	}
	buf := make([]byte, 100_000) // not a multiple of a page or of a grant
	for off := int64(0); off < size; {
		n := min(int64(len(buf)), size-off)
		pattern(seed, off, buf[:n])
		if _, err := f.Write(buf[:n]); err != nil {
			fail(err.Error())
		}
		off += n
	}
	if err := f.Sync(); err != nil {
		fail("fsync: " + err.Error())
	}
	if err := f.Close(); err != nil {
		fail(err.Error())
	}
	fmt.Printf("filetest: wrote and fsynced %s (%d bytes)\n", path, size)
}

func verifyFile(path string, seed uint64, size int64) {
	b, err := os.ReadFile(path)
	if err != nil {
		fail(err.Error())
	}
	if int64(len(b)) != size {
		fail(fmt.Sprintf("%s: %d bytes, want %d", path, len(b), size))
	}
	want := make([]byte, len(b))
	pattern(seed, 0, want)
	for i := range b {
		if b[i] != want[i] {
			fail(fmt.Sprintf("%s: byte %d is %#x, want %#x", path, i, b[i], want[i]))
		}
	}
	fmt.Printf("filetest: verified %s (%d bytes)\n", path, size)
}

// Command flood prints N numbered lines of 80 bytes as fast as it can (first argument,
// default 2500: 200 KB), the way a crashing Go module prints its goroutine dump. Tests use it
// to check that the console driver keeps up with a burst of output within its CPU budget and
// loses none of it.
//
// Output: "flood N xxx…" for N = 0..count-1, each line 80 bytes with its newline, then
// "flood: done".
//
// flood unended N instead writes one line of N 'y' bytes, in 100-byte writes, and exits
// without ending it with a newline (the console's overlong and unfinished lines).
// Exit status: 0 (2 on a bad argument).
package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

func main() {
	if len(os.Args) > 2 && os.Args[1] == "unended" {
		n, err := strconv.Atoi(os.Args[2])
		if err != nil || n < 0 {
			fmt.Printf("flood: bad count %q\n", os.Args[2])
			os.Exit(2)
		}
		for ; n > 0; n -= 100 {
			os.Stdout.WriteString(strings.Repeat("y", min(n, 100)))
		}
		return
	}
	n := 2500
	if len(os.Args) > 1 {
		v, err := strconv.Atoi(os.Args[1])
		if err != nil || v < 0 {
			fmt.Printf("flood: bad count %q\n", os.Args[1])
			os.Exit(2)
		}
		n = v
	}
	w := bufio.NewWriterSize(os.Stdout, 4096)
	for i := 0; i < n; i++ {
		head := fmt.Sprintf("flood %d ", i)
		w.WriteString(head + strings.Repeat("x", 79-len(head)) + "\n")
	}
	w.Flush()
	fmt.Println("flood: done")
}

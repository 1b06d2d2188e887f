// Command memhog allocates memory in 1 MiB chunks, keeps every chunk and
// touches each page (one byte written per 4096), to check that the kernel
// enforces a task's memory quota by killing the task (and nothing else).
//
// Usage: memhog [limit=N] [hold=MS]
//
// Output:
//
//	memhog: 16 MiB
//	memhog: 32 MiB
//	...                       (every 16 MiB; forever without limit=N)
//	memhog: done <N> MiB      (with limit=N, after N MiB; exit 0, after holding the memory
//	                          for MS milliseconds with hold=MS)
//
// Bad argument: exit 2.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

const chunk = 1 << 20

var chunks [][]byte // global, so nothing is ever freed

func main() {
	limit, hold := -1, 0
	for _, a := range os.Args[1:] {
		k, v, _ := strings.Cut(a, "=")
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || k != "limit" && k != "hold" {
			fmt.Printf("memhog: bad argument %q\n", a)
			os.Exit(2)
		}
		if k == "limit" {
			limit = n
		} else {
			hold = n
		}
	}
	for n := 1; limit < 0 || n <= limit; n++ {
		b := make([]byte, chunk)
		for i := 0; i < len(b); i += 4096 {
			b[i] = byte(n)
		}
		chunks = append(chunks, b)
		if n%16 == 0 {
			fmt.Printf("memhog: %d MiB\n", n)
		}
	}
	fmt.Printf("memhog: done %d MiB\n", limit)
	time.Sleep(time.Duration(hold) * time.Millisecond)
}

// Command hello is the simplest SimpleOS task: it checks that a static Go
// program starts, sees its arguments and pid, writes to stdout and exits with
// the status it asks for.
//
// Output (one line):
//
//	hello from <os.Args[0]> pid=<pid> args=<args joined by ",">
//
// Exit status: 0, or N when an argument "exit=N" is given.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

func main() {
	fmt.Printf("hello from %s pid=%d args=%s\n", os.Args[0], os.Getpid(), strings.Join(os.Args[1:], ","))
	code := 0
	for _, a := range os.Args[1:] {
		if v, ok := strings.CutPrefix(a, "exit="); ok {
			n, err := strconv.Atoi(v)
			if err != nil {
				fmt.Printf("hello: bad %q\n", a)
				os.Exit(2)
			}
			code = n
		}
	}
	os.Exit(code)
}

// A program that breaks every rule of trap context, for the checker's own test: its "trap
// entry" handleTrap indexes an array it cannot prove in range (panicBounds), calls a function
// that can grow its stack, allocates, writes a heap pointer and makes an indirect call.
package main

var (
	table [8]int
	sink  *int
	fns   = []func(){func() {}}
	index = 9
)

//go:noinline
func splittable(n int) int {
	var buf [256]byte
	buf[n%256] = 1
	if n > 0 {
		return splittable(n-1) + int(buf[0])
	}
	return 0
}

//go:nosplit
//go:noinline
func handleTrap() {
	table[index] = 1  // a bounds check
	_ = splittable(3) // not nosplit
	sink = new(int)   // allocates, and writes a heap pointer
	fns[0]()          // an indirect call
}

//go:nosplit
//go:noinline
func clean() int { return table[index&7] }

func main() {
	handleTrap()
	_ = clean()
}

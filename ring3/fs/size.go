package main

import (
	"fmt"
	"strconv"
	"strings"
)

// sizeFlag is a byte count written as policy sizes are: 32MiB, 512KiB, 1GiB or plain bytes.
type sizeFlag uint64

func (s *sizeFlag) String() string { return formatSize(uint64(*s)) }

func (s *sizeFlag) Set(v string) error {
	n, err := parseSize(v)
	if err != nil {
		return err
	}
	*s = sizeFlag(n)
	return nil
}

var units = []struct {
	suffix string
	shift  uint
}{{"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"G", 30}, {"M", 20}, {"K", 10}, {"", 0}}

// parseSize reads a size of at least 1 KiB and at most 1 TiB.
func parseSize(v string) (uint64, error) {
	v = strings.TrimSpace(v)
	for _, u := range units {
		num, ok := strings.CutSuffix(v, u.suffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseUint(strings.TrimSpace(num), 10, 64)
		if err != nil || n > 1<<40>>u.shift || n<<u.shift < 1<<10 {
			break
		}
		return n << u.shift, nil
	}
	return 0, fmt.Errorf("size %q: want 1KiB to 1TiB, e.g. 32MiB", v)
}

// formatSize writes n in the largest unit that divides it: "64 MiB".
func formatSize(n uint64) string {
	for _, u := range []struct {
		name  string
		shift uint
	}{{"GiB", 30}, {"MiB", 20}, {"KiB", 10}} {
		if n >= 1<<u.shift && n%(1<<u.shift) == 0 {
			return fmt.Sprintf("%d %s", n>>u.shift, u.name)
		}
	}
	return fmt.Sprintf("%d bytes", n)
}

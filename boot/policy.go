package boot

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/simpleos/simpleos/policy"
)

// PolicyModule checks a policy manifest on the host and returns the Multiboot module string
// that hands it to the core ("PATH simpleos-policy"), which checks it again.
func PolicyModule(file string) (string, error) {
	src, err := os.ReadFile(file)
	if err != nil {
		return "", err
	}
	if _, err := policy.Parse(file, src); err != nil {
		return "", err
	}
	abs, err := filepath.Abs(file)
	if err != nil {
		return "", err
	}
	if strings.ContainsAny(abs, " ,") {
		return "", fmt.Errorf("%s: QEMU cannot pass a path with spaces or commas", abs)
	}
	return abs + " " + policy.ModuleMarker, nil
}

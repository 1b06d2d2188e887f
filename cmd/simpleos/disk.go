package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/simpleos/simpleos/boot/disk"
)

// runDisk is `simpleos disk create|ls|cat|put|get|rm IMAGE ...`.
func runDisk(args []string) int {
	return diskMain(args, os.Stdout, os.Stderr)
}

const diskUsage = `usage: simpleos disk <subcommand> IMAGE [ARGS]

Reads and writes the disk image QEMU attaches as SimpleOS's virtio-blk disk (simpleos run
--disk; build/disk.img by default): one FAT32 file system on the whole image, no partition table.
Paths inside the image are slash-separated; the leading "/" is optional.

  create IMAGE [--size 64M]      make a new image holding an empty FAT32 file system (at least 33M)
  ls IMAGE [PATH]                list a directory (default /): "d" or "-", size, name
  cat IMAGE PATH                 print a file
  put IMAGE HOSTFILE PATH        copy a host file in, creating directories as needed
  get IMAGE PATH HOSTFILE        copy a file out
  rm IMAGE PATTERN               delete the files matching PATTERN (a * in the last element:
                                 rm build/disk.img '/CrowdStrike/C-00000291*.sys')

Exit status: 0 ok, 1 error, 2 bad command line.
`

// diskMain runs `simpleos disk` with explicit output streams, for tests.
func diskMain(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprint(stderr, diskUsage)
		return exitUsage
	}
	sub, rest := args[0], args[1:]
	var err error
	switch sub {
	case "create":
		err = diskCreate(rest, stdout)
	case "ls":
		err = diskLs(rest, stdout)
	case "cat":
		err = diskCat(rest, stdout)
	case "put":
		err = diskPut(rest)
	case "get":
		err = diskGet(rest)
	case "rm":
		err = diskRm(rest, stdout)
	default:
		fmt.Fprintf(stderr, "simpleos disk: unknown subcommand %q\n\n%s", sub, diskUsage)
		return exitUsage
	}
	if err == nil {
		return 0
	}
	fmt.Fprintln(stderr, "simpleos:", err)
	if errors.As(err, new(usageError)) {
		fmt.Fprint(stderr, "\n", diskUsage)
		return exitUsage
	}
	return 1
}

// operands checks that args holds between min and max operands for `disk sub`.
func operands(sub string, args []string, min, max int, names string) error {
	for _, a := range args {
		if strings.HasPrefix(a, "-") && len(a) > 1 {
			return usageErrorf("disk %s: unknown flag %q", sub, a)
		}
	}
	if len(args) < min || len(args) > max {
		return usageErrorf("disk %s: want %s, got %d arguments", sub, names, len(args))
	}
	return nil
}

func diskCreate(args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("simpleos disk create", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	sizeFlag := fs.String("size", disk.FormatSize(disk.DefaultSize), "image size")
	var images []string
	for { // flags before or after the image
		if err := fs.Parse(args); err != nil {
			return usageErrorf("disk create: %w", err)
		}
		if fs.NArg() == 0 {
			break
		}
		images = append(images, fs.Arg(0))
		args = fs.Args()[1:]
	}
	if len(images) != 1 {
		return usageErrorf("disk create: want one IMAGE, got %d", len(images))
	}
	size, err := disk.ParseSize(*sizeFlag)
	if err != nil {
		return usageErrorf("%w", err)
	}
	if err := disk.Create(images[0], size); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: %s FAT32 image\n", images[0], disk.FormatSize(size))
	return nil
}

func diskLs(args []string, stdout io.Writer) error {
	if err := operands("ls", args, 1, 2, "IMAGE [PATH]"); err != nil {
		return err
	}
	dir := "/"
	if len(args) == 2 {
		dir = args[1]
	}
	im, err := disk.Open(args[0], false)
	if err != nil {
		return err
	}
	defer im.Close()
	entries, err := im.List(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		kind, name := "-", e.Name
		if e.Dir {
			kind, name = "d", name+"/"
		}
		fmt.Fprintf(stdout, "%s %10d %s %s\n", kind, e.Size, e.ModTime.UTC().Format("2006-01-02 15:04"), name)
	}
	return nil
}

func diskCat(args []string, stdout io.Writer) error {
	if err := operands("cat", args, 2, 2, "IMAGE PATH"); err != nil {
		return err
	}
	data, err := readImageFile(args[0], args[1])
	if err != nil {
		return err
	}
	_, err = stdout.Write(data)
	return err
}

func diskPut(args []string) error {
	if err := operands("put", args, 3, 3, "IMAGE HOSTFILE PATH"); err != nil {
		return err
	}
	data, err := os.ReadFile(args[1])
	if err != nil {
		return fmt.Errorf("disk put: %w", err)
	}
	im, err := disk.Open(args[0], true)
	if err != nil {
		return err
	}
	if err := im.WriteFile(args[2], data); err != nil {
		_ = im.Close()
		return err
	}
	return im.Close()
}

func diskGet(args []string) error {
	if err := operands("get", args, 3, 3, "IMAGE PATH HOSTFILE"); err != nil {
		return err
	}
	data, err := readImageFile(args[0], args[1])
	if err != nil {
		return err
	}
	if err := os.WriteFile(args[2], data, 0o644); err != nil {
		return fmt.Errorf("disk get: %w", err)
	}
	return nil
}

func readImageFile(image, name string) ([]byte, error) {
	im, err := disk.Open(image, false)
	if err != nil {
		return nil, err
	}
	defer im.Close()
	return im.ReadFile(name)
}

func diskRm(args []string, stdout io.Writer) error {
	if err := operands("rm", args, 2, 2, "IMAGE PATTERN"); err != nil {
		return err
	}
	im, err := disk.Open(args[0], true)
	if err != nil {
		return err
	}
	removed, err := im.Remove(args[1])
	if cerr := im.Close(); err == nil {
		err = cerr
	}
	for _, p := range removed {
		fmt.Fprintf(stdout, "removed %s\n", p)
	}
	return err
}

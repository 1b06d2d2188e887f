// Package linux measures Linux as the baseline for SimpleOS: the same benchmark program
// (bench/guest) on the same emulator with the same QEMU settings. It fetches Debian's cloud
// kernel without installing anything on the host (Fetch), packs the statically linked guest
// program as /init of an initramfs (BuildInitramfs), boots it (Boot) and parses the lines it
// prints (Run).
package linux

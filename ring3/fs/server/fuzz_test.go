package server_test

import (
	"encoding/binary"
	"testing"

	"github.com/simpleos/simpleos/abi"
	"github.com/simpleos/simpleos/fs/memfs"
	"github.com/simpleos/simpleos/ring3/fs/server"
)

// fuzzPaths are the paths a fuzzed request picks from (besides raw bytes), so that requests
// reach existing files, mount points and their edges.
var fuzzPaths = []string{"/", "/tmp", "/tmp/", "/f", "/d", "/d/f", "/tmp/f", "/../tmp/f", "/d/../f", "/nope/x", "//d//f"}

// FuzzHandle feeds a server sequences of random requests with random grants: whatever they
// say, Handle answers (an error or a result) and never panics. Each 48-byte step is one
// request: op, four words, badge, grant pages and flag, grant size, and which paths.
func FuzzHandle(f *testing.F) {
	f.Add([]byte{})
	step := func(op byte, w0, w1, w2, w3 uint64, pages, size byte, p1, p2 byte) []byte {
		b := make([]byte, 48)
		b[0] = op
		le := binary.LittleEndian
		le.PutUint64(b[1:], w0)
		le.PutUint64(b[9:], w1)
		le.PutUint64(b[17:], w2)
		le.PutUint64(b[25:], w3)
		b[33], b[34], b[35], b[36] = pages, size, p1, p2
		return b
	}
	f.Add(append(step(abi.FSOpen, abi.O_CREAT|abi.O_RDWR, 0o644, 0, 0, 0, 0, 3, 0),
		step(abi.FSWrite, 0xffff, 10, 100, 5, 0x81, 4, 0, 0)...))
	f.Add(step(abi.FSReaddir, 0, 0, 4096, 0, 0x81, 4, 0, 0))
	f.Add(step(abi.FSRename, abi.RENAME_NOREPLACE, 0, 0, 0, 0, 0, 3, 6))
	f.Add(step(abi.FSRead, 0, 1<<63, 1<<63, 1<<63, 0x90, 255, 0, 0))

	f.Fuzz(func(t *testing.T, data []byte) {
		s := server.New(server.Options{MaxOpen: 8, Logf: func(string, ...any) {}})
		_ = s.Mount("/", memfs.New(1<<20), server.MountOptions{})
		_ = s.Mount("/tmp", memfs.New(1<<20), server.MountOptions{FoldCase: true, ReadOnlyMode: true})
		c := newClient(t, s)
		// something to find: a file, a directory, handles on them
		c.writeFile("/f", "file")
		_ = c.mkdir("/d")
		handles := []uint64{c.mustOpen("/f", abi.O_RDWR), c.mustOpen("/d", abi.O_DIRECTORY)}
		grant := make([]byte, abi.MaxGrantPages*4096+4096)
		le := binary.LittleEndian
		for len(data) > 0 {
			var b [48]byte
			n := copy(b[:], data)
			data = data[n:]
			req := &abi.FSRequest{Msg: abi.Message{Label: uint64(b[0] % 16)}}
			for i := range 4 {
				req.Msg.Words[i] = le.Uint64(b[1+8*i:])
			}
			// handles: often a real one (from opens along the way), sometimes a raw word
			if b[37]&1 == 0 && len(handles) > 0 {
				req.Msg.Words[0] = handles[int(b[37]>>1)%len(handles)]
			}
			if b[38]&7 == 0 {
				req.Msg.Badge = uint64(b[38])
			}
			req.Msg.GrantPages = uint64(b[33] & 0x1f)
			if b[33]&0x80 != 0 {
				req.Msg.GrantPages |= abi.GrantWrite
			}
			if req.Msg.GrantPages != 0 {
				req.Msg.GrantAddr = 0x7f0000000000
			}
			var g []byte
			if b[34] != 0 { // a grant of any size, even one that disagrees with GrantPages
				g = grant[:min(len(grant), int(b[34])*300)]
			}
			setFuzzPath(&req.Path, b[35], b[39:])
			setFuzzPath(&req.Path2, b[36], b[43:])
			r := s.Handle(req, g)
			if req.Msg.Label == abi.FSOpen && int64(r.Label) >= 0 {
				handles = append(handles, r.Words[0])
			}
			if int64(r.Label) < 0 && -int64(r.Label) > 200 {
				t.Fatalf("reply %d is no errno", int64(r.Label))
			}
		}
	})
}

// setFuzzPath picks a known path, or writes raw bytes (maybe no NUL at all).
func setFuzzPath(dst *[abi.FSPathMax + 1]byte, sel byte, raw []byte) {
	clear(dst[:])
	switch {
	case int(sel) < len(fuzzPaths):
		copy(dst[:], fuzzPaths[sel])
	case sel == 0xff:
		for i := range dst {
			dst[i] = 'a' // no NUL
		}
	default:
		copy(dst[:], raw)
	}
}

package content

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzParse checks that Parse never panics, that its errors are *ParseError naming the file,
// and that whatever it accepts re-encodes to exactly the same bytes (the format is canonical)
// and parses back to an equal file.
func FuzzParse(f *testing.F) {
	good, bad := Fixtures()
	f.Add(Encode(good))
	f.Add(Encode(bad))
	f.Add(Encode(&ChannelFile{}))
	b := NewBuilder("seed.chan", 291, 1)
	b.Type(3, "IPC", 2)
	b.Instance(1, 3, "Test", SeverityHigh, ActionBlock).Where(1, Exact("x"))
	f.Add(Encode(b.MustBuild()))
	f.Add([]byte("SOSCHAN1"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse("fuzz.chan", data)
		if err != nil {
			require.Nil(t, c)
			var pe *ParseError
			require.True(t, errors.As(err, &pe))
			require.Equal(t, "fuzz.chan", pe.File)
			require.GreaterOrEqual(t, pe.Offset, 0)
			require.LessOrEqual(t, pe.Offset, len(data))
			return
		}
		enc := Encode(c)
		require.Equal(t, data, enc)
		c2, err := Parse("fuzz.chan", enc)
		require.NoError(t, err)
		require.Equal(t, c, c2)
		// The safe interpreter never fails on anything Parse accepts.
		c.Match(make([]string, SuppliedValues))
	})
}

package content

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// seal appends the CRC-32 of body, so that a corrupted body reaches the structural checks.
func seal(body []byte) []byte {
	out := append([]byte(nil), body...)
	return binary.LittleEndian.AppendUint32(out, crc32.ChecksumIEEE(out))
}

// smallBody returns the bytes before the CRC of a small file whose layout the malformed-file
// cases rely on:
//
//	 0 magic, 8 version, 10 reserved, 12 channel, 16 sequence
//	20 type count = 1
//	22 type id = 3, 26 name length = 3, 28 "IPC", 31 field count = 2
//	32 instance count = 1
//	34 instance id = 1, 38 type id = 3, 42 severity, 43 action,
//	44 name length = 4, 46 "Test", 50 criterion count = 2,
//	51 kind wildcard, 52 kind exact, 53 pattern length = 1, 55 "x"
//	56 CRC
func smallBody(t *testing.T) []byte {
	t.Helper()
	b := NewBuilder("small.chan", 291, 1)
	b.Type(3, "IPC", 2)
	b.Instance(1, 3, "Test", SeverityHigh, ActionBlock).Where(1, Exact("x"))
	c, err := b.Build()
	require.NoError(t, err)
	enc := Encode(c)
	require.Len(t, enc, 60)
	require.Equal(t, []byte{0, 1, 1, 0, 'x'}, enc[51:56])
	return enc[:56]
}

func TestRoundTrip(t *testing.T) {
	good, bad := Fixtures()
	for _, c := range []*ChannelFile{good, bad} {
		enc := Encode(c)
		got, err := Parse(c.Name, enc)
		require.NoError(t, err)
		assert.Equal(t, c, got)
		assert.Equal(t, enc, Encode(got), "the encoding is canonical")
	}
	assert.Equal(t, "C-00000291-00000001.sys", good.Name)
	assert.EqualValues(t, 291, good.Channel)
	assert.EqualValues(t, 1, good.Sequence)
	assert.EqualValues(t, 2, bad.Sequence)
	require.Equal(t, []TemplateType{{ID: 3, Name: "IPC", Fields: 21}}, good.Types)
	require.Len(t, good.Instances, 6)
	require.Len(t, bad.Instances, 7)
	assert.Equal(t, good.Instances, bad.Instances[:6], "the update only adds instance 7")
	for _, in := range good.Instances {
		require.Len(t, in.Criteria, 21)
		assert.Equal(t, Any(), in.Criteria[FieldPeerAddress], "instance %d", in.ID)
	}
	seven := bad.Instances[6]
	assert.EqualValues(t, 7, seven.ID)
	assert.Equal(t, "NamedPipeC2", seven.Detection)
	assert.Equal(t, Glob("*.c2.example"), seven.Criteria[20])
	for f := 0; f < 20; f++ {
		assert.Equal(t, Any(), seven.Criteria[f])
	}
}

func TestRoundTripEmptyAndHandBuilt(t *testing.T) {
	empty := &ChannelFile{Name: "empty.chan", Channel: 1, Sequence: 0}
	enc := Encode(empty)
	assert.Len(t, enc, MinFileSize)
	got, err := Parse("empty.chan", enc)
	require.NoError(t, err)
	assert.Equal(t, empty, got)

	c := &ChannelFile{Name: "x.chan", Channel: 0xffffffff, Sequence: 0x01020304,
		Types: []TemplateType{{ID: 0, Name: "Z", Fields: 0}, {ID: 0xffffffff, Name: strings.Repeat("n", 255), Fields: 64}},
	}
	crits := make([]Criterion, 64)
	for i := range crits {
		crits[i] = Criterion{Kind: Kind(i % 4)}
		if crits[i].Kind != KindWildcard {
			crits[i].Pattern = strings.Repeat("p", i)
		}
	}
	c.Instances = []TemplateInstance{
		{ID: 5, TypeID: 0, Severity: SeverityInfo, Action: ActionLog, Detection: "empty"},
		{ID: 6, TypeID: 0xffffffff, Severity: SeverityCritical, Action: ActionBlock, Detection: "wide", Criteria: crits},
	}
	got, err = Parse("x.chan", Encode(c))
	require.NoError(t, err)
	assert.Equal(t, c, got)
}

func TestParseLimits(t *testing.T) {
	c := &ChannelFile{Name: "limits.chan"}
	for i := 0; i < MaxTypes; i++ {
		c.Types = append(c.Types, TemplateType{ID: uint32(i), Name: "T", Fields: 0})
	}
	for i := 0; i < MaxInstances; i++ {
		c.Instances = append(c.Instances, TemplateInstance{ID: uint32(i), TypeID: uint32(i % MaxTypes), Detection: "D"})
	}
	got, err := Parse("limits.chan", Encode(c))
	require.NoError(t, err, "exactly at the limits")
	assert.Equal(t, c, got)

	c.Types = append(c.Types, TemplateType{ID: 9999, Name: "T"})
	_, err = Parse("limits.chan", Encode(c))
	assert.EqualError(t, err, "limits.chan: offset 20: template type count 257 exceeds the limit of 256")

	c.Types = c.Types[:MaxTypes]
	c.Instances = append(c.Instances, TemplateInstance{ID: 99999, Detection: "D"})
	enc := Encode(c)
	_, err = Parse("limits.chan", enc)
	at := 22 + MaxTypes*(4+2+1+1)
	assert.EqualError(t, err, fmt.Sprintf("limits.chan: offset %d: template instance count 4097 exceeds the limit of 4096", at))
}

func TestParseMalformed(t *testing.T) {
	body := smallBody(t)
	// mod returns a sealed copy of the small body with the change applied.
	mod := func(f func(b []byte) []byte) []byte {
		return seal(f(append([]byte(nil), body...)))
	}
	put16 := func(off int, v uint16) func([]byte) []byte {
		return func(b []byte) []byte { binary.LittleEndian.PutUint16(b[off:], v); return b }
	}
	put8 := func(off int, v byte) func([]byte) []byte {
		return func(b []byte) []byte { b[off] = v; return b }
	}
	flipped := seal(body)
	flipped[46] ^= 0x20 // "Test" -> "tEst" without a new CRC
	twoTypes := Encode(&ChannelFile{Types: []TemplateType{{ID: 3, Name: "IPC", Fields: 0}, {ID: 3, Name: "IPC", Fields: 0}}})
	twoInsts := Encode(&ChannelFile{
		Types: []TemplateType{{ID: 3, Name: "IPC", Fields: 2}},
		Instances: []TemplateInstance{
			{ID: 1, TypeID: 3, Detection: "Test", Criteria: []Criterion{Any(), Exact("x")}},
			{ID: 1, TypeID: 3, Detection: "Test", Criteria: []Criterion{Any(), Exact("x")}},
		},
	})

	cases := []struct {
		name   string
		in     []byte
		offset int
		msg    string
	}{
		{"empty file", nil, 0, "truncated: file is 0 bytes, the magic needs 8"},
		{"truncated magic", []byte("SOSCH"), 0, "truncated: file is 5 bytes, the magic needs 8"},
		{"bad magic", append([]byte("SOSCHAN2"), body[8:]...), 0, `bad magic "SOSCHAN2", want "SOSCHAN1"`},
		{"truncated header", body[:18], 18, "truncated: file is 18 bytes, the smallest channel file is 28"},
		{"bad CRC", flipped, 56, fmt.Sprintf("CRC-32 mismatch: stored 0x%08x, computed 0x%08x",
			crc32.ChecksumIEEE(body), crc32.ChecksumIEEE(flipped[:56]))},
		{"truncated without new CRC", seal(body)[:59], 55, fmt.Sprintf("CRC-32 mismatch: stored 0x%08x, computed 0x%08x",
			binary.LittleEndian.Uint32(seal(body)[55:59]), crc32.ChecksumIEEE(body[:55]))},
		{"unsupported version", mod(put16(8, 2)), 8, "unsupported version 2, want 1"},
		{"reserved set", mod(put16(10, 0x8000)), 10, "reserved field is 0x8000, want 0"},
		{"too many types", mod(put16(20, 257)), 20, "template type count 257 exceeds the limit of 256"},
		{"truncated in type list", seal(body[:24]), 22, "truncated: id of template type #1 needs 4 bytes, 2 remain before the CRC"},
		{"type name too long", mod(put16(26, 300)), 26, "name of template type 3 is 300 bytes, the limit is 255"},
		{"type name past end", mod(put16(26, 200)), 28, "truncated: name of template type 3 needs 200 bytes, 28 remain before the CRC"},
		{"empty type name", mod(put16(26, 0)), 26, "name of template type 3 is empty"},
		{"too many fields", mod(put8(31, 65)), 31, `template type 3 ("IPC") declares 65 input fields, the limit is 64`},
		{"duplicate type id", twoTypes, 32, "template type id 3 appears twice (first at offset 22)"},
		{"truncated before instance count", seal(body[:32]), 32, "truncated: template instance count needs 2 bytes, 0 remain before the CRC"},
		{"too many instances", mod(put16(32, 4097)), 32, "template instance count 4097 exceeds the limit of 4096"},
		{"instance names unknown type", mod(func(b []byte) []byte { b[38] = 9; return b }), 38,
			"instance 1 names template type 9, which the file does not define"},
		{"unknown severity", mod(put8(42, 9)), 42, "instance 1 has unknown severity 9"},
		{"unknown action", mod(put8(43, 5)), 43, "instance 1 has unknown action 5"},
		{"empty detection name", mod(put16(44, 0)), 44, "detection name of instance 1 is empty"},
		{"detection name past end", mod(put16(44, 100)), 46, "truncated: detection name of instance 1 needs 100 bytes, 10 remain before the CRC"},
		{"fewer criteria than fields", mod(put8(50, 1)), 50, `instance 1 has 1 criteria, but template type 3 ("IPC") declares 2 input fields`},
		{"more criteria than fields", mod(put8(50, 3)), 50, `instance 1 has 3 criteria, but template type 3 ("IPC") declares 2 input fields`},
		{"unknown criterion kind", mod(put8(51, 7)), 51, "instance 1 field 1 has unknown criterion kind 7"},
		{"truncated in criteria", seal(body[:53]), 53, "truncated: length of exact pattern of instance 1 field 2 needs 2 bytes, 0 remain before the CRC"},
		{"pattern past end", mod(put16(53, 10)), 55, "truncated: exact pattern of instance 1 field 2 needs 10 bytes, 1 remain before the CRC"},
		{"pattern too long", mod(put16(53, 256)), 53, "exact pattern of instance 1 field 2 is 256 bytes, the limit is 255"},
		{"duplicate instance id", twoInsts, 56, "template instance id 1 appears twice (first at offset 34)"},
		{"bytes after last instance", mod(func(b []byte) []byte { return append(b, 0, 0) }), 56,
			"2 unexpected bytes after the last instance, before the CRC"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("sensor.chan", tc.in)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.EqualError(t, err, fmt.Sprintf("sensor.chan: offset %d: %s", tc.offset, tc.msg))
			var pe *ParseError
			require.True(t, errors.As(err, &pe))
			assert.Equal(t, "sensor.chan", pe.File)
			assert.Equal(t, tc.offset, pe.Offset)
		})
	}
}

// TestParseTruncatedEverywhere cuts the bad fixture at every length, both as is (the CRC
// catches it) and with a CRC recomputed over the cut body (the structure checks catch it).
func TestParseTruncatedEverywhere(t *testing.T) {
	_, bad := Fixtures()
	enc := Encode(bad)
	body := enc[:len(enc)-4]
	for n := 0; n < len(enc); n++ {
		_, err := Parse("cut.chan", enc[:n])
		var pe *ParseError
		require.True(t, errors.As(err, &pe), "length %d: %v", n, err)
		assert.Equal(t, "cut.chan", pe.File)
		assert.LessOrEqual(t, pe.Offset, n)
	}
	for n := 8; n < len(body); n++ {
		_, err := Parse("cut.chan", seal(body[:n]))
		var pe *ParseError
		require.True(t, errors.As(err, &pe), "body length %d: %v", n, err)
		assert.LessOrEqual(t, pe.Offset, n+4)
		if n >= MinFileSize-4 {
			assert.Contains(t, pe.Msg, "truncated: ", "body length %d", n)
			assert.Contains(t, pe.Msg, " remain before the CRC", "body length %d", n)
		}
	}
}

func TestBuilderErrors(t *testing.T) {
	b := NewBuilder("b.chan", 291, 1)
	b.Instance(1, 3, "X", SeverityLow, ActionLog)
	_, err := b.Build()
	assert.EqualError(t, err, "b.chan: builder: instance 1 names template type 3, which has not been added")

	b = NewBuilder("b.chan", 291, 1)
	b.Type(3, "IPC", 21)
	b.Instance(1, 3, "X", SeverityLow, ActionLog).Where(21, Exact("y"))
	_, err = b.Build()
	assert.EqualError(t, err, "b.chan: builder: instance 1 has no field 22 (its template type declares 21)")

	b = NewBuilder("b.chan", 291, 1)
	b.Type(3, "IPC", 1)
	b.Instance(1, 3, "X", SeverityLow, ActionLog).Where(0, Glob(strings.Repeat("a", 256)))
	_, err = b.Build()
	assert.EqualError(t, err, "b.chan: offset 49: glob pattern of instance 1 field 1 is 256 bytes, the limit is 255")
}

func TestFixturesAreFresh(t *testing.T) {
	g1, _ := Fixtures()
	g2, _ := Fixtures()
	g1.Instances[0].Criteria[0] = Exact("changed")
	assert.NotEqual(t, g1.Instances[0].Criteria[0], g2.Instances[0].Criteria[0])
}

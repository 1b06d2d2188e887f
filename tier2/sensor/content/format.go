package content

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// Magic opens every channel file.
const Magic = "SOSCHAN1"

// Version is the only format version Parse accepts and Encode writes.
const Version = 1

// Limits Parse enforces (doc.go, "Bounds").
const (
	MaxTypes     = 256  // template types per file
	MaxInstances = 4096 // template instances per file
	MaxString    = 255  // bytes in a name or pattern
	MaxFields    = 64   // input fields per template type
)

// Fixed sizes of the format.
const (
	headerSize = 20 // magic, version, reserved, channel, sequence
	crcSize    = 4
	// MinFileSize is the smallest well-formed file: header, two zero counts and the CRC.
	MinFileSize = headerSize + 2 + 2 + crcSize
)

// Severity grades a detection. The encoded byte is the value; values above SeverityCritical are
// rejected.
type Severity uint8

const (
	SeverityInfo Severity = iota
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

func (s Severity) String() string {
	switch s {
	case SeverityInfo:
		return "info"
	case SeverityLow:
		return "low"
	case SeverityMedium:
		return "medium"
	case SeverityHigh:
		return "high"
	case SeverityCritical:
		return "critical"
	}
	return fmt.Sprintf("severity(%d)", uint8(s))
}

// Action is what the sensor does when an instance matches. Values above ActionBlock are
// rejected.
type Action uint8

const (
	ActionLog   Action = iota // record only
	ActionAlert               // record and raise an alert
	ActionBlock               // refuse the pipe creation
)

func (a Action) String() string {
	switch a {
	case ActionLog:
		return "log"
	case ActionAlert:
		return "alert"
	case ActionBlock:
		return "block"
	}
	return fmt.Sprintf("action(%d)", uint8(a))
}

// Kind is a criterion's kind. Only KindWildcard carries no pattern.
type Kind uint8

const (
	KindWildcard Kind = iota // matches any value and never reads it
	KindExact                // value == pattern
	KindPrefix               // value starts with pattern
	KindGlob                 // pattern with * (any run of bytes) and ? (one byte)
)

func (k Kind) String() string {
	switch k {
	case KindWildcard:
		return "wildcard"
	case KindExact:
		return "exact"
	case KindPrefix:
		return "prefix"
	case KindGlob:
		return "glob"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// ChannelFile is a parsed channel file.
type ChannelFile struct {
	// Name is the file name Parse was given; it is used in error messages and is not encoded.
	Name      string
	Channel   uint32
	Sequence  uint32
	Types     []TemplateType
	Instances []TemplateInstance
}

// TemplateType declares how many input fields its instances have one criterion for. Fields is
// what the file claims; how many values the sensor really supplies is not in the file, which is
// why Validate takes it as an argument.
type TemplateType struct {
	ID     uint32
	Name   string
	Fields int
}

// TemplateInstance is one detection: a criterion for each of its template type's fields.
// Criteria[i] tests input value i (field i+1 in messages).
type TemplateInstance struct {
	ID        uint32
	TypeID    uint32
	Severity  Severity
	Action    Action
	Detection string
	Criteria  []Criterion
}

// Criterion tests one input value. Pattern is empty, and not encoded, for KindWildcard.
type Criterion struct {
	Kind    Kind
	Pattern string
}

// Type returns the template type with the given id.
func (c *ChannelFile) Type(id uint32) (TemplateType, bool) {
	for _, t := range c.Types {
		if t.ID == id {
			return t, true
		}
	}
	return TemplateType{}, false
}

// ParseError is the error Parse returns: the file, the byte offset of the offending field and
// the problem.
type ParseError struct {
	File   string
	Offset int
	Msg    string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s: offset %d: %s", e.File, e.Offset, e.Msg)
}

// reader is a cursor over the bytes before the CRC.
type reader struct {
	name string
	b    []byte
	off  int
}

func (r *reader) errAt(off int, format string, args ...any) error {
	return &ParseError{File: r.name, Offset: off, Msg: fmt.Sprintf(format, args...)}
}

// need fails unless n bytes remain at the cursor.
func (r *reader) need(n int, what string) error {
	if rem := len(r.b) - r.off; n > rem {
		return r.errAt(r.off, "truncated: %s needs %d bytes, %d remain before the CRC", what, n, rem)
	}
	return nil
}

func (r *reader) u8(what string) (uint8, error) {
	if err := r.need(1, what); err != nil {
		return 0, err
	}
	v := r.b[r.off]
	r.off++
	return v, nil
}

func (r *reader) u16(what string) (uint16, error) {
	if err := r.need(2, what); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint16(r.b[r.off:])
	r.off += 2
	return v, nil
}

func (r *reader) u32(what string) (uint32, error) {
	if err := r.need(4, what); err != nil {
		return 0, err
	}
	v := binary.LittleEndian.Uint32(r.b[r.off:])
	r.off += 4
	return v, nil
}

// str reads a u16 length and that many bytes; the length must be at most MaxString and, if
// nonEmpty, at least 1.
func (r *reader) str(what string, nonEmpty bool) (string, error) {
	at := r.off
	n, err := r.u16("length of " + what)
	if err != nil {
		return "", err
	}
	if n > MaxString {
		return "", r.errAt(at, "%s is %d bytes, the limit is %d", what, n, MaxString)
	}
	if nonEmpty && n == 0 {
		return "", r.errAt(at, "%s is empty", what)
	}
	if err := r.need(int(n), what); err != nil {
		return "", err
	}
	s := string(r.b[r.off : r.off+int(n)])
	r.off += int(n)
	return s, nil
}

// Parse decodes a channel file. name is used in errors and kept in the result. Parse checks the
// magic, the CRC, the version, every bound in doc.go, that ids are unique, that every instance
// names a template type defined earlier in the file and has exactly as many criteria as that
// type declares, and that nothing follows the last instance. It does not, and cannot, check that
// the sensor supplies as many values as a template type declares: that is Validate's job.
// Parse never panics.
func Parse(name string, b []byte) (*ChannelFile, error) {
	r := &reader{name: name}
	if len(b) < len(Magic) {
		return nil, r.errAt(0, "truncated: file is %d bytes, the magic needs %d", len(b), len(Magic))
	}
	if string(b[:len(Magic)]) != Magic {
		return nil, r.errAt(0, "bad magic %q, want %q", b[:len(Magic)], Magic)
	}
	if len(b) < MinFileSize {
		return nil, r.errAt(len(b), "truncated: file is %d bytes, the smallest channel file is %d", len(b), MinFileSize)
	}
	body := b[:len(b)-crcSize]
	stored := binary.LittleEndian.Uint32(b[len(body):])
	if sum := crc32.ChecksumIEEE(body); sum != stored {
		return nil, r.errAt(len(body), "CRC-32 mismatch: stored 0x%08x, computed 0x%08x", stored, sum)
	}
	r.b = body
	r.off = len(Magic)

	version, _ := r.u16("version")
	if version != Version {
		return nil, r.errAt(8, "unsupported version %d, want %d", version, Version)
	}
	reserved, _ := r.u16("reserved")
	if reserved != 0 {
		return nil, r.errAt(10, "reserved field is 0x%04x, want 0", reserved)
	}
	c := &ChannelFile{Name: name}
	c.Channel, _ = r.u32("channel number")
	c.Sequence, _ = r.u32("sequence number")

	at := r.off
	nt, err := r.u16("template type count")
	if err != nil {
		return nil, err
	}
	if nt > MaxTypes {
		return nil, r.errAt(at, "template type count %d exceeds the limit of %d", nt, MaxTypes)
	}
	typeAt := map[uint32]int{} // id -> offset of its record
	types := map[uint32]TemplateType{}
	for i := 0; i < int(nt); i++ {
		at := r.off
		id, err := r.u32(fmt.Sprintf("id of template type #%d", i+1))
		if err != nil {
			return nil, err
		}
		if first, dup := typeAt[id]; dup {
			return nil, r.errAt(at, "template type id %d appears twice (first at offset %d)", id, first)
		}
		typeAt[id] = at
		t := TemplateType{ID: id}
		if t.Name, err = r.str(fmt.Sprintf("name of template type %d", id), true); err != nil {
			return nil, err
		}
		fat := r.off
		n, err := r.u8(fmt.Sprintf("field count of template type %d", id))
		if err != nil {
			return nil, err
		}
		if n > MaxFields {
			return nil, r.errAt(fat, "template type %d (%q) declares %d input fields, the limit is %d", id, t.Name, n, MaxFields)
		}
		t.Fields = int(n)
		types[id] = t
		c.Types = append(c.Types, t)
	}

	at = r.off
	ni, err := r.u16("template instance count")
	if err != nil {
		return nil, err
	}
	if ni > MaxInstances {
		return nil, r.errAt(at, "template instance count %d exceeds the limit of %d", ni, MaxInstances)
	}
	instAt := map[uint32]int{}
	for i := 0; i < int(ni); i++ {
		at := r.off
		id, err := r.u32(fmt.Sprintf("id of template instance #%d", i+1))
		if err != nil {
			return nil, err
		}
		if first, dup := instAt[id]; dup {
			return nil, r.errAt(at, "template instance id %d appears twice (first at offset %d)", id, first)
		}
		instAt[id] = at
		in := TemplateInstance{ID: id}
		tat := r.off
		if in.TypeID, err = r.u32(fmt.Sprintf("template type id of instance %d", id)); err != nil {
			return nil, err
		}
		t, ok := types[in.TypeID]
		if !ok {
			return nil, r.errAt(tat, "instance %d names template type %d, which the file does not define", id, in.TypeID)
		}
		sat := r.off
		sev, err := r.u8(fmt.Sprintf("severity of instance %d", id))
		if err != nil {
			return nil, err
		}
		if Severity(sev) > SeverityCritical {
			return nil, r.errAt(sat, "instance %d has unknown severity %d", id, sev)
		}
		in.Severity = Severity(sev)
		aat := r.off
		act, err := r.u8(fmt.Sprintf("action of instance %d", id))
		if err != nil {
			return nil, err
		}
		if Action(act) > ActionBlock {
			return nil, r.errAt(aat, "instance %d has unknown action %d", id, act)
		}
		in.Action = Action(act)
		if in.Detection, err = r.str(fmt.Sprintf("detection name of instance %d", id), true); err != nil {
			return nil, err
		}
		cat := r.off
		nc, err := r.u8(fmt.Sprintf("criterion count of instance %d", id))
		if err != nil {
			return nil, err
		}
		if int(nc) != t.Fields {
			return nil, r.errAt(cat, "instance %d has %d criteria, but template type %d (%q) declares %d input fields", id, nc, t.ID, t.Name, t.Fields)
		}
		for f := 0; f < int(nc); f++ {
			kat := r.off
			k, err := r.u8(fmt.Sprintf("kind of instance %d field %d", id, f+1))
			if err != nil {
				return nil, err
			}
			cr := Criterion{Kind: Kind(k)}
			switch cr.Kind {
			case KindWildcard:
			case KindExact, KindPrefix, KindGlob:
				if cr.Pattern, err = r.str(fmt.Sprintf("%s pattern of instance %d field %d", cr.Kind, id, f+1), false); err != nil {
					return nil, err
				}
			default:
				return nil, r.errAt(kat, "instance %d field %d has unknown criterion kind %d", id, f+1, k)
			}
			in.Criteria = append(in.Criteria, cr)
		}
		c.Instances = append(c.Instances, in)
	}
	if r.off != len(body) {
		return nil, r.errAt(r.off, "%d unexpected bytes after the last instance, before the CRC", len(body)-r.off)
	}
	return c, nil
}

// Encode returns c in the channel file format, ending with its CRC. Encode does not check c:
// Parse(name, Encode(c)) reports whatever is wrong with it (Builder.Build does exactly that).
// A wildcard's Pattern is not encoded. Encode panics if a count or string does not fit its
// field at all (more than 65535 types or instances, a string over 65535 bytes, more than 255
// criteria), which only a program error can cause.
func Encode(c *ChannelFile) []byte {
	b := make([]byte, 0, 256)
	b = append(b, Magic...)
	b = binary.LittleEndian.AppendUint16(b, Version)
	b = binary.LittleEndian.AppendUint16(b, 0)
	b = binary.LittleEndian.AppendUint32(b, c.Channel)
	b = binary.LittleEndian.AppendUint32(b, c.Sequence)
	b = appendCount16(b, len(c.Types), "template types")
	for _, t := range c.Types {
		b = binary.LittleEndian.AppendUint32(b, t.ID)
		b = appendString(b, t.Name)
		b = appendCount8(b, t.Fields, "input fields")
	}
	b = appendCount16(b, len(c.Instances), "template instances")
	for _, in := range c.Instances {
		b = binary.LittleEndian.AppendUint32(b, in.ID)
		b = binary.LittleEndian.AppendUint32(b, in.TypeID)
		b = append(b, byte(in.Severity), byte(in.Action))
		b = appendString(b, in.Detection)
		b = appendCount8(b, len(in.Criteria), "criteria")
		for _, cr := range in.Criteria {
			b = append(b, byte(cr.Kind))
			if cr.Kind != KindWildcard {
				b = appendString(b, cr.Pattern)
			}
		}
	}
	return binary.LittleEndian.AppendUint32(b, crc32.ChecksumIEEE(b))
}

func appendCount16(b []byte, n int, what string) []byte {
	if n < 0 || n > 0xffff {
		panic(fmt.Sprintf("content.Encode: %d %s do not fit a u16 count", n, what))
	}
	return binary.LittleEndian.AppendUint16(b, uint16(n))
}

func appendCount8(b []byte, n int, what string) []byte {
	if n < 0 || n > 0xff {
		panic(fmt.Sprintf("content.Encode: %d %s do not fit a u8 count", n, what))
	}
	return append(b, byte(n))
}

func appendString(b []byte, s string) []byte {
	b = appendCount16(b, len(s), "string bytes")
	return append(b, s...)
}

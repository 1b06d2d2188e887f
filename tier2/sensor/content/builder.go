package content

import (
	"fmt"
)

// Any returns a wildcard criterion.
func Any() Criterion { return Criterion{Kind: KindWildcard} }

// Exact returns a criterion matching exactly s.
func Exact(s string) Criterion { return Criterion{Kind: KindExact, Pattern: s} }

// Prefix returns a criterion matching values that start with s.
func Prefix(s string) Criterion { return Criterion{Kind: KindPrefix, Pattern: s} }

// Glob returns a criterion matching values against the glob pattern (see GlobMatch).
func Glob(pattern string) Criterion { return Criterion{Kind: KindGlob, Pattern: pattern} }

// Builder constructs a channel file in Go:
//
//	b := content.NewBuilder("sensor.chan", 291, 1)
//	b.Type(3, "IPC", 21)
//	b.Instance(1, 3, "PsExecServicePipe", content.SeverityMedium, content.ActionAlert).
//		Where(content.FieldPipeName, content.Exact(`\\.\pipe\PSEXESVC`))
//	cf, err := b.Build()
//
// Types and instances keep the order they are added in. Build checks the result exactly as
// Parse would, because it is Parse(Encode(file)).
type Builder struct {
	file ChannelFile
	errs []error
}

// InstanceBuilder sets the criteria of an instance added with Builder.Instance.
type InstanceBuilder struct {
	b   *Builder
	idx int
}

// NewBuilder starts a file with the given name (used in errors), channel and sequence numbers.
func NewBuilder(name string, channel, sequence uint32) *Builder {
	return &Builder{file: ChannelFile{Name: name, Channel: channel, Sequence: sequence}}
}

// From starts a builder holding a copy of an existing file, for example to make the next
// sequence number of a channel. The copy gets the given name and sequence number.
func From(c *ChannelFile, name string, sequence uint32) *Builder {
	b := &Builder{file: ChannelFile{Name: name, Channel: c.Channel, Sequence: sequence}}
	b.file.Types = append(b.file.Types, c.Types...)
	for _, in := range c.Instances {
		in.Criteria = append([]Criterion(nil), in.Criteria...)
		b.file.Instances = append(b.file.Instances, in)
	}
	return b
}

// Type adds a template type declaring fields input fields.
func (b *Builder) Type(id uint32, name string, fields int) *Builder {
	b.file.Types = append(b.file.Types, TemplateType{ID: id, Name: name, Fields: fields})
	return b
}

// Instance adds an instance of template type typeID with a wildcard for each of the type's
// fields; set criteria with Where. The type must have been added already.
func (b *Builder) Instance(id, typeID uint32, detection string, sev Severity, act Action) *InstanceBuilder {
	in := TemplateInstance{ID: id, TypeID: typeID, Severity: sev, Action: act, Detection: detection}
	if t, ok := b.file.Type(typeID); ok {
		for range t.Fields {
			in.Criteria = append(in.Criteria, Any())
		}
	} else {
		b.errs = append(b.errs, fmt.Errorf("%s: builder: instance %d names template type %d, which has not been added", b.file.Name, id, typeID))
	}
	b.file.Instances = append(b.file.Instances, in)
	return &InstanceBuilder{b: b, idx: len(b.file.Instances) - 1}
}

// Where sets the criterion for input value index field (FieldPipeName, ...; field+1 in
// messages).
func (ib *InstanceBuilder) Where(field int, cr Criterion) *InstanceBuilder {
	in := &ib.b.file.Instances[ib.idx]
	if field < 0 || field >= len(in.Criteria) {
		ib.b.errs = append(ib.b.errs, fmt.Errorf("%s: builder: instance %d has no field %d (its template type declares %d)",
			ib.b.file.Name, in.ID, field+1, len(in.Criteria)))
		return ib
	}
	in.Criteria[field] = cr
	return ib
}

// Build returns the file, checked by Parse(name, Encode(file)).
func (b *Builder) Build() (*ChannelFile, error) {
	if len(b.errs) > 0 {
		return nil, b.errs[0]
	}
	return Parse(b.file.Name, Encode(&b.file))
}

// MustBuild is Build that panics on error, for fixtures.
func (b *Builder) MustBuild() *ChannelFile {
	c, err := b.Build()
	if err != nil {
		panic(err)
	}
	return c
}

// Fixture identifiers.
const (
	// FixtureChannel is the channel number of the fixtures, after the CrowdStrike incident.
	FixtureChannel = 291
	// IPCTypeID is the id of the fixtures' "IPC" template type, which declares 21 input fields
	// while the sensor supplies SuppliedValues (20).
	IPCTypeID = 3
	// IPCFields is the field count the "IPC" template type declares.
	IPCFields = 21
	// BadInstanceID is the id of the instance the bad update adds.
	BadInstanceID = 7
)

// Fixtures returns the two channel files of the Channel File 291 demonstration.
//
// good ("C-00000291-00000001.sys", channel 291, sequence 1) defines template type 3, "IPC",
// declaring 21 input fields, and six instances (ids 1 to 6) that screen named-pipe creation on
// fields 1 to 20 and all use a wildcard for field 21: like the instances CrowdStrike tested,
// nothing in it ever reads field 21, so it is safe with both interpreters.
//
// bad ("C-00000291-00000002.sys", sequence 2) is good plus instance 7, "NamedPipeC2": wildcards
// on fields 1 to 20 and a glob on field 21 (FieldPeerAddress). It is internally consistent and
// Parse accepts it; Validate with SensorSupplies rejects it; Match never fires it; MatchNative
// reads the 21st value past the end of the sensor's array and faults at StaleAddr on the first
// event that reaches instance 7 (every event no earlier instance matches).
//
// Each call returns new values.
func Fixtures() (good, bad *ChannelFile) {
	b := NewBuilder("C-00000291-00000001.sys", FixtureChannel, 1)
	b.Type(IPCTypeID, "IPC", IPCFields)
	b.Instance(1, IPCTypeID, "CobaltStrikeMSSEPipe", SeverityCritical, ActionBlock).
		Where(FieldPipeName, Glob(`\\.\pipe\MSSE-*-server`))
	b.Instance(2, IPCTypeID, "PsExecServicePipe", SeverityMedium, ActionAlert).
		Where(FieldPipeName, Exact(`\\.\pipe\PSEXESVC`))
	b.Instance(3, IPCTypeID, "PostexPipe", SeverityHigh, ActionBlock).
		Where(FieldPipeName, Glob(`\\.\pipe\postex_????`))
	b.Instance(4, IPCTypeID, "OfficeMacroPipe", SeverityHigh, ActionBlock).
		Where(FieldCreatorImage, Glob(`*\WINWORD.EXE`)).
		Where(FieldPipeName, Prefix(`\\.\pipe\`))
	b.Instance(5, IPCTypeID, "UnsignedLsassPipe", SeverityCritical, ActionBlock).
		Where(FieldPipeName, Exact(`\\.\pipe\lsass`)).
		Where(FieldCreatorSigner, Exact(""))
	b.Instance(6, IPCTypeID, "LowIntegrityGlobalPipe", SeverityLow, ActionLog).
		Where(FieldIntegrity, Exact("Low")).
		Where(FieldPipeName, Prefix(`\\.\pipe\Global\`))
	good = b.MustBuild()

	nb := From(good, "C-00000291-00000002.sys", 2)
	nb.Instance(BadInstanceID, IPCTypeID, "NamedPipeC2", SeverityCritical, ActionBlock).
		Where(FieldPeerAddress, Glob(`*.c2.example`))
	bad = nb.MustBuild()
	return good, bad
}

// BaseFixture is the channel file a freshly installed sensor starts with ("on disk" in
// policy/sensor.chan): channel 291, sequence 0, the IPC type and Fixtures' first three
// instances. The demo's good update is Fixtures' good file (sequence 1), its bad update the bad
// one (sequence 2).
func BaseFixture() *ChannelFile {
	good, _ := Fixtures()
	b := NewBuilder("C-00000291-00000000.sys", FixtureChannel, 0)
	b.file.Types = append(b.file.Types, good.Types...)
	for _, in := range good.Instances[:3] {
		in.Criteria = append([]Criterion(nil), in.Criteria...)
		b.file.Instances = append(b.file.Instances, in)
	}
	return b.MustBuild()
}

// DemoEvents returns the named-pipe creation events the CF291 checks screen: one that the
// good content detects (a Cobalt Strike MSSE pipe) and two benign ones, which fall through to
// the bad update's instance 7 and so make it read field 21.
func DemoEvents() [][SuppliedValues]string {
	var events [][SuppliedValues]string
	for i, pipe := range []string{`\\.\pipe\MSSE-1234-server`, `\\.\pipe\benign-1`, `\\.\pipe\benign-2`} {
		var v [SuppliedValues]string
		v[FieldPipeName] = pipe
		v[FieldCreatorImage] = `C:\Windows\explorer.exe`
		v[FieldCreatorPID] = fmt.Sprint(4000 + i)
		v[FieldIntegrity] = "Medium"
		events = append(events, v)
	}
	return events
}

package content

import (
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// benign returns the values of an ordinary named-pipe creation no instance matches.
func benign() [SuppliedValues]string {
	var v [SuppliedValues]string
	v[FieldPipeName] = `\\.\pipe\mojo.5432.1234.5678`
	v[FieldCreatorImage] = `C:\Program Files\Google\Chrome\Application\chrome.exe`
	v[FieldCreatorPID] = "5432"
	v[FieldParentImage] = `C:\Windows\explorer.exe`
	v[FieldParentPID] = "1200"
	v[FieldCommandLine] = `"chrome.exe" --type=renderer`
	v[FieldUser] = `CORP\alice`
	v[FieldSessionID] = "1"
	v[FieldIntegrity] = "Medium"
	v[FieldOpenMode] = "duplex"
	v[FieldPipeMode] = "byte"
	v[FieldMaxInstances] = "unlimited"
	v[FieldOutBufferSize] = "4096"
	v[FieldInBufferSize] = "4096"
	v[FieldDefaultTimeout] = "50"
	v[FieldSecurityDescriptor] = "D:(A;;GA;;;SY)"
	v[FieldCreatorSigner] = "Google LLC"
	v[FieldCreatorHash] = "9f2c0e0c3e3c1c1b6f4f0d8b9a7e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a"
	v[FieldHostname] = "ws-0042"
	v[FieldTimestamp] = "2024-07-19T04:09:00Z"
	return v
}

func with(f func(v *[SuppliedValues]string)) [SuppliedValues]string {
	v := benign()
	f(&v)
	return v
}

var events = []struct {
	name string
	vals [SuppliedValues]string
	want uint32 // instance id, 0 for none
}{
	{"benign", benign(), 0},
	{"cobalt strike MSSE", with(func(v *[SuppliedValues]string) { v[FieldPipeName] = `\\.\pipe\MSSE-4242-server` }), 1},
	{"MSSE glob needs the suffix", with(func(v *[SuppliedValues]string) { v[FieldPipeName] = `\\.\pipe\MSSE-4242-client` }), 0},
	{"psexec", with(func(v *[SuppliedValues]string) { v[FieldPipeName] = `\\.\pipe\PSEXESVC` }), 2},
	{"psexec is exact", with(func(v *[SuppliedValues]string) { v[FieldPipeName] = `\\.\pipe\PSEXESVC-x` }), 0},
	{"postex four bytes", with(func(v *[SuppliedValues]string) { v[FieldPipeName] = `\\.\pipe\postex_ab12` }), 3},
	{"postex three bytes", with(func(v *[SuppliedValues]string) { v[FieldPipeName] = `\\.\pipe\postex_ab1` }), 0},
	{"word makes a pipe", with(func(v *[SuppliedValues]string) {
		v[FieldCreatorImage] = `C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE`
	}), 4},
	{"word makes an MSSE pipe: file order wins", with(func(v *[SuppliedValues]string) {
		v[FieldCreatorImage] = `C:\Program Files\Microsoft Office\root\Office16\WINWORD.EXE`
		v[FieldPipeName] = `\\.\pipe\MSSE-1-server`
	}), 1},
	{"unsigned lsass", with(func(v *[SuppliedValues]string) {
		v[FieldPipeName] = `\\.\pipe\lsass`
		v[FieldCreatorSigner] = ""
	}), 5},
	{"signed lsass", with(func(v *[SuppliedValues]string) { v[FieldPipeName] = `\\.\pipe\lsass` }), 0},
	{"low integrity global", with(func(v *[SuppliedValues]string) {
		v[FieldIntegrity] = "Low"
		v[FieldPipeName] = `\\.\pipe\Global\sync`
	}), 6},
	{"medium integrity global", with(func(v *[SuppliedValues]string) { v[FieldPipeName] = `\\.\pipe\Global\sync` }), 0},
}

func TestMatch(t *testing.T) {
	good, bad := Fixtures()
	for _, ev := range events {
		t.Run(ev.name, func(t *testing.T) {
			for _, c := range []*ChannelFile{good, bad} {
				d, ok := c.Match(ev.vals[:])
				if ev.want == 0 {
					assert.False(t, ok, "%s: %+v", c.Name, d)
					assert.Equal(t, Detection{}, d)
					continue
				}
				require.True(t, ok, c.Name)
				assert.Equal(t, ev.want, d.InstanceID, c.Name)
			}
		})
	}
	d, ok := good.Match(events[1].vals[:])
	require.True(t, ok)
	assert.Equal(t, Detection{Channel: 291, Sequence: 1, InstanceID: 1, TypeID: 3,
		Name: "CobaltStrikeMSSEPipe", Severity: SeverityCritical, Action: ActionBlock}, d)
}

// TestMatchBoundsChecked: the safe interpreter never fires a criterion on a value it was not
// given, however few values it gets, and still fires wildcards.
func TestMatchBoundsChecked(t *testing.T) {
	_, bad := Fixtures()
	_, ok := bad.Match(nil)
	assert.False(t, ok)
	// With the 21st value supplied, instance 7 can fire.
	b := benign()
	vals := append(b[:], "beacon.c2.example")
	d, ok := bad.Match(vals)
	require.True(t, ok)
	assert.EqualValues(t, 7, d.InstanceID)

	c := NewBuilder("w.chan", 1, 1).Type(1, "T", 3)
	c.Instance(1, 1, "AllWild", SeverityInfo, ActionLog)
	f := c.MustBuild()
	d, ok = f.Match(nil)
	require.True(t, ok, "wildcards never read a value")
	assert.Equal(t, "AllWild", d.Name)
}

func TestMatchNativeGoodFileLikeMatch(t *testing.T) {
	good, _ := Fixtures()
	for _, ev := range events {
		in := NewInput(ev.vals)
		want, wok := good.Match(ev.vals[:])
		got, gok := good.MatchNative(&in.Values)
		assert.Equal(t, wok, gok, ev.name)
		assert.Equal(t, want, got, ev.name)
	}
}

// TestMatchNativeBadFileEarlyMatch: with the bad file, an event an earlier instance matches
// never reaches instance 7, so the native interpreter returns normally.
func TestMatchNativeBadFileEarlyMatch(t *testing.T) {
	_, bad := Fixtures()
	for _, ev := range events {
		if ev.want == 0 {
			continue
		}
		in := NewInput(ev.vals)
		d, ok := bad.MatchNative(&in.Values)
		require.True(t, ok, ev.name)
		assert.Equal(t, ev.want, d.InstanceID, ev.name)
	}
}

// TestInputLayout pins what MatchNative reads as value 21: the stale header right after the
// array, pointing at StaleAddr. It reads the header without dereferencing it.
func TestInputLayout(t *testing.T) {
	var in Input
	assert.Equal(t, unsafe.Offsetof(in.Values)+SuppliedValues*unsafe.Sizeof(""), unsafe.Offsetof(in.StalePtr))
	assert.Equal(t, unsafe.Offsetof(in.StalePtr)+unsafe.Sizeof(uintptr(0)), unsafe.Offsetof(in.StaleLen))
	assert.Equal(t, unsafe.Sizeof(""), unsafe.Sizeof(in.StalePtr)+unsafe.Sizeof(in.StaleLen))

	p := NewInput(benign())
	v21 := *(*string)(unsafe.Add(unsafe.Pointer(&p.Values[0]), FieldPeerAddress*unsafe.Sizeof("")))
	assert.Equal(t, uintptr(StaleAddr), uintptr(unsafe.Pointer(unsafe.StringData(v21))))
	assert.Equal(t, StaleLen, len(v21))
}

func TestValidate(t *testing.T) {
	good, bad := Fixtures()
	assert.NoError(t, Validate(good, SensorSupplies()))
	assert.NoError(t, Validate(good, map[uint32]int{3: 21}))
	assert.EqualError(t, Validate(bad, SensorSupplies()),
		`C-00000291-00000002.sys: instance 7 ("NamedPipeC2") of template type 3 ("IPC") has a non-wildcard criterion on field 21, but the sensor supplies only 20 values`)

	// The example from the brief, with the file named sensor.chan.
	bad.Name = "sensor.chan"
	assert.EqualError(t, Validate(bad, map[uint32]int{3: 20}),
		`sensor.chan: instance 7 ("NamedPipeC2") of template type 3 ("IPC") has a non-wildcard criterion on field 21, but the sensor supplies only 20 values`)
	// A sensor that really supplies 21 values can run it.
	assert.NoError(t, Validate(bad, map[uint32]int{3: 21}))
	// A sensor supplying fewer values trips earlier fields, one error per instance.
	assert.EqualError(t, Validate(good, map[uint32]int{3: 1}),
		`C-00000291-00000001.sys: instance 4 ("OfficeMacroPipe") of template type 3 ("IPC") has a non-wildcard criterion on field 2, but the sensor supplies only 1 values`+"\n"+
			`C-00000291-00000001.sys: instance 5 ("UnsignedLsassPipe") of template type 3 ("IPC") has a non-wildcard criterion on field 17, but the sensor supplies only 1 values`+"\n"+
			`C-00000291-00000001.sys: instance 6 ("LowIntegrityGlobalPipe") of template type 3 ("IPC") has a non-wildcard criterion on field 9, but the sensor supplies only 1 values`)
	// A type the sensor does not feed at all.
	err := Validate(good, map[uint32]int{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `C-00000291-00000001.sys: instance 1 ("CobaltStrikeMSSEPipe") of template type 3 ("IPC") has a non-wildcard criterion on field 1, but the sensor supplies no values for that template type`)

	// Hand-built files that bypassed Parse.
	hand := &ChannelFile{Name: "hand.chan", Types: []TemplateType{{ID: 3, Name: "IPC", Fields: 21}},
		Instances: []TemplateInstance{
			{ID: 1, TypeID: 9, Detection: "Orphan"},
			{ID: 2, TypeID: 3, Detection: "Short", Criteria: []Criterion{Any()}},
		}}
	assert.EqualError(t, Validate(hand, SensorSupplies()),
		`hand.chan: instance 1 ("Orphan") names template type 9, which the file does not define`+"\n"+
			`hand.chan: instance 2 ("Short") has 1 criteria, but template type 3 ("IPC") declares 21 input fields`)
}

func TestGlobMatch(t *testing.T) {
	cases := []struct {
		pattern, s string
		want       bool
	}{
		{"", "", true},
		{"", "a", false},
		{"*", "", true},
		{"*", "anything", true},
		{"?", "", false},
		{"?", "a", true},
		{"?", "ab", false},
		{"a*b", "ab", true},
		{"a*b", "axxb", true},
		{"a*b", "axxbc", false},
		{"a*b*c", "abbbc", true},
		{"*.c2.example", "beacon.c2.example", true},
		{"*.c2.example", "c2.example", false},
		{`\\.\pipe\MSSE-*-server`, `\\.\pipe\MSSE-1-server`, true},
		{`\\.\pipe\MSSE-*-server`, `\\.\pipe\MSSE--server`, true},
		{"**a", "a", true},
		{"a?c", "abc", true},
		{"a?c", "ac", false},
		{"[a]", "a", false}, // no classes: brackets are literal
		{"[a]", "[a]", true},
		{"\xff*", "\xff\x00", true}, // bytes, not runes
		{"?", "é", false},           // é is two bytes
		{"??", "é", true},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, GlobMatch(tc.pattern, tc.s), "%q ~ %q", tc.pattern, tc.s)
	}
}

func TestCriterionKinds(t *testing.T) {
	assert.True(t, Any().matches("x"))
	assert.True(t, Exact("").matches(""))
	assert.False(t, Exact("").matches("x"))
	assert.True(t, Prefix(`\\.\pipe\`).matches(`\\.\pipe\x`))
	assert.False(t, Prefix(`\\.\pipe\`).matches(`\\.\pipe`))
	assert.True(t, Glob("a*").matches("abc"))
	assert.False(t, Criterion{Kind: 9}.matches("x"))
	assert.Equal(t, "glob", KindGlob.String())
	assert.Equal(t, "critical", SeverityCritical.String())
	assert.Equal(t, "block", ActionBlock.String())
}

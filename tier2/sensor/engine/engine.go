// Package engine is SimpleOS's Falcon-like sensor: the code that is the same in every
// deployment. It subscribes to pipe.created events (published by the ring-3 pipe service for
// every named pipe an application creates), screens each one with the content interpreter of
// package content against the channel file it loaded, and serves the content-update endpoint,
// where new channel files arrive at run time as Rapid Response Content did.
//
// The deployments differ only in where Run executes and in Config.Verify:
//
//   - tiered: Run is the main loop of the ring-2 task tier2/sensor;
//   - monolithic: the core runs Run in one of its own goroutines, in ring 0 (sensor=monolithic);
//   - verified: the ring-2 task with Verify set: an update must pass content.Validate, which
//     knows how many values the sensor really supplies, before it is written or applied.
//
// An accepted update is written to the content store first (ipc.WriteContent: the core keeps
// it "on disk" and the previous good copy as last-known-good), then applied, as the Falcon
// sensor wrote the channel file to disk before loading it; a bad file therefore survives a
// crash, and only the core's supervisor can roll it back.
package engine

import (
	"errors"
	"fmt"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/simpleos/simpleos/ipc"
	"github.com/simpleos/simpleos/tier2/sensor/content"
)

// Names shared with the pipe service, the updater and the policy.
const (
	ContentFile    = "sensor.chan"    // the content store file holding the channel file
	UpdateEndpoint = "content-update" // where updates arrive
	PipeEvent      = "pipe.created"   // args: pipe name (24 bytes, NUL-padded), creator pid
)

// Update replies: the reply's Label; Words[0] is the sequence number in force afterwards.
const (
	Applied     = 0 // written and in force
	Malformed   = 1 // content.Parse rejected it
	Rejected    = 2 // content.Validate rejected it (verified deployment)
	Quarantined = 3 // the core's store refused it: it crashed the sensor before
	Stale       = 4 // its sequence number is not newer than the one in force
	Failed      = 5 // the store could not keep it
)

// StatusText names an update reply.
func StatusText(s uint64) string {
	switch s {
	case Applied:
		return "applied"
	case Malformed:
		return "malformed"
	case Rejected:
		return "rejected"
	case Quarantined:
		return "quarantined"
	case Stale:
		return "stale"
	}
	return "failed"
}

// Config selects the deployment's behaviour.
type Config struct {
	Verify bool   // validate content before accepting it (the verified deployment)
	Prefix string // prefix of every line printed ("sensor: ")
}

// Sensor is a running sensor.
type Sensor struct {
	cfg      Config
	content  atomic.Pointer[content.ChannelFile]
	screened atomic.Uint64
	hits     atomic.Uint64
}

func (s *Sensor) logf(format string, args ...any) {
	fmt.Printf(s.cfg.Prefix+format+"\n", args...)
}

// Run loads the content, starts the content-update endpoint and screens events until a
// system call fails.
func Run(cfg Config) error {
	s := &Sensor{cfg: cfg}
	s.content.Store(s.load())
	if _, err := ipc.Subscribe(PipeEvent); err != nil {
		return fmt.Errorf("subscribe %s: %w", PipeEvent, err)
	}
	ep, err := ipc.Register(UpdateEndpoint)
	if err != nil {
		return fmt.Errorf("register %s: %w", UpdateEndpoint, err)
	}
	// Initialised: a restart resumes here, from the core's snapshot of this moment.
	ipc.Ready()
	go func() {
		runtime.LockOSThread()
		ep.Serve(s.update)
	}()
	go func() {
		for {
			ipc.Heartbeat()
			time.Sleep(200 * time.Millisecond)
		}
	}()
	c := s.content.Load()
	s.logf("ready: content %s (channel %d, sequence %d, %d instances)%s", c.Name, c.Channel, c.Sequence, len(c.Instances), s.mode())
	for {
		ev, err := ipc.NextEvent(0)
		if err != nil {
			return fmt.Errorf("events: %w", err)
		}
		s.screen(ev)
	}
}

func (s *Sensor) mode() string {
	if s.cfg.Verify {
		return ", updates verified"
	}
	return ""
}

// load reads the channel file from the content store; a file that is missing or does not
// parse (or, verified, does not validate) leaves the sensor with empty content.
func (s *Sensor) load() *content.ChannelFile {
	empty := &content.ChannelFile{Name: "(no content)", Channel: content.FixtureChannel}
	b, err := ipc.ReadContent(ContentFile)
	if err != nil {
		s.logf("no content: %v", err)
		return empty
	}
	c, err := content.Parse(ContentFile, b)
	if err == nil && s.cfg.Verify {
		err = content.Validate(c, content.SensorSupplies())
	}
	if err != nil {
		s.logf("content not loaded: %v", err)
		return empty
	}
	return c
}

// screen runs the content interpreter over one pipe-creation event.
func (s *Sensor) screen(ev ipc.Event) {
	in := content.NewInput(Values(ev))
	c := s.content.Load()
	d, ok := c.MatchNative(&in.Values)
	n := s.screened.Add(1)
	if ok {
		s.hits.Add(1)
		s.logf("detection %s (%s, %s) on %s by pid %d [sequence %d]; %d events screened",
			d.Name, d.Severity, d.Action, in.Values[content.FieldPipeName], ev.Args[3], d.Sequence, n)
	}
}

// Values turns a pipe.created event into the 20 input values the sensor supplies.
func Values(ev ipc.Event) [content.SuppliedValues]string {
	var v [content.SuppliedValues]string
	v[content.FieldPipeName] = `\\.\pipe\` + PipeName(ev.Args)
	v[content.FieldCreatorImage] = `\SimpleOS\ring3\app`
	v[content.FieldCreatorPID] = strconv.FormatUint(ev.Args[3], 10)
	v[content.FieldParentPID] = "1"
	v[content.FieldUser] = `SIMPLEOS\app`
	v[content.FieldSessionID] = "1"
	v[content.FieldIntegrity] = "Medium"
	v[content.FieldOpenMode] = "duplex"
	v[content.FieldPipeMode] = "message"
	v[content.FieldMaxInstances] = "unlimited"
	v[content.FieldHostname] = "simpleos"
	v[content.FieldTimestamp] = strconv.FormatInt(time.Now().UnixNano(), 10)
	return v
}

// Names (pipe names, update file names) travel in three message words: 24 bytes, NUL-padded.
const maxName = 24

// EncodeName packs a name of 1 to 24 bytes into three words.
func EncodeName(name string) ([3]uint64, error) {
	var w [3]uint64
	if len(name) == 0 || len(name) > maxName {
		return w, fmt.Errorf("names are 1 to %d bytes, not %d", maxName, len(name))
	}
	for i := 0; i < len(name); i++ {
		w[i/8] |= uint64(name[i]) << (8 * (i % 8))
	}
	return w, nil
}

// DecodeName unpacks a name packed by EncodeName.
func DecodeName(w [3]uint64) string {
	var b [maxName]byte
	n := 0
	for n < maxName {
		if b[n] = byte(w[n/8] >> (8 * (n % 8))); b[n] == 0 {
			break
		}
		n++
	}
	return string(b[:n])
}

// PipeName decodes the pipe name of a pipe.created event.
func PipeName(args [4]uint64) string { return DecodeName([3]uint64{args[0], args[1], args[2]}) }

// PipeArgs encodes a pipe name and its creator into pipe.created event arguments.
func PipeArgs(name string, creator uint64) ([4]uint64, error) {
	w, err := EncodeName(name)
	return [4]uint64{w[0], w[1], w[2], creator}, err
}

// update is the content-update endpoint: Words[0] is the file's length, Words[1..3] its name
// (24 bytes, NUL-padded), the bytes arrive in the call's page grant.
func (s *Sensor) update(m ipc.Msg) ipc.Msg {
	cur := s.content.Load()
	reply := func(st uint64) ipc.Msg {
		return ipc.Msg{Label: st, Words: [4]uint64{uint64(s.content.Load().Sequence)}}
	}
	name := DecodeName([3]uint64{m.Words[1], m.Words[2], m.Words[3]})
	g := m.Grant()
	if m.Words[0] > uint64(len(g)) {
		s.logf("update %s refused: %d bytes announced, %d granted", name, m.Words[0], len(g))
		return reply(Malformed)
	}
	b := append([]byte(nil), g[:m.Words[0]]...) // copy: the grant goes away at the reply
	c, err := content.Parse(name, b)
	if err != nil {
		s.logf("update refused: %v", err)
		return reply(Malformed)
	}
	if s.cfg.Verify {
		if err := content.Validate(c, content.SensorSupplies()); err != nil {
			s.logf("update rejected: %v", err)
			return reply(Rejected)
		}
	}
	if c.Channel == cur.Channel && c.Sequence <= cur.Sequence && len(cur.Instances) > 0 {
		s.logf("update %s (sequence %d) ignored: sequence %d is in force", name, c.Sequence, cur.Sequence)
		return reply(Stale)
	}
	if err := ipc.WriteContent(ContentFile, b); err != nil {
		if errors.Is(err, ipc.ErrQuarantined) {
			s.logf("update %s (sequence %d) refused by the core: quarantined", name, c.Sequence)
			return reply(Quarantined)
		}
		s.logf("update %s: content store: %v", name, err)
		return reply(Failed)
	}
	s.content.Store(c)
	s.logf("content updated: %s (channel %d, sequence %d, %d instances)", name, c.Channel, c.Sequence, len(c.Instances))
	return reply(Applied)
}

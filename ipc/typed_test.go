package ipc

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type pipeRequest struct {
	Op   uint64
	Name [24]byte
}

type pipeReply struct{ ID, Status uint64 }

var pipeRequests = Codec[pipeRequest]{
	Encode: func(r pipeRequest) Msg {
		m := Msg{Label: r.Op}
		for i := 0; i < 3; i++ {
			for j := 0; j < 8; j++ {
				m.Words[i] |= uint64(r.Name[i*8+j]) << (8 * j)
			}
		}
		return m
	},
	Decode: func(m Msg) pipeRequest {
		r := pipeRequest{Op: m.Label}
		for i := 0; i < 24; i++ {
			r.Name[i] = byte(m.Words[i/8] >> (8 * (i % 8)))
		}
		return r
	},
}

var pipeReplies = Codec[pipeReply]{
	Encode: func(r pipeReply) Msg { return Msg{Label: r.Status, Words: [4]uint64{r.ID}} },
	Decode: func(m Msg) pipeReply { return pipeReply{ID: m.Words[0], Status: m.Label} },
}

// loopback hands a call straight to a handler, as the core would to a server.
type loopback struct {
	serve func(Msg) Msg
	badge uint64
}

func (l loopback) Call(m Msg) (Msg, error) {
	m.Badge = l.badge
	return l.serve(m), nil
}

func TestTypedClientAndServerRoundTrip(t *testing.T) {
	var seen []string
	server := Typed(pipeRequests, pipeReplies, func(r pipeRequest, badge uint64) pipeReply {
		seen = append(seen, string(r.Name[:6]))
		return pipeReply{ID: 100 + badge, Status: r.Op}
	})
	c := &TypedClient[pipeRequest, pipeReply]{c: loopback{serve: server, badge: 7}, req: pipeRequests, resp: pipeReplies}
	var name [24]byte
	copy(name[:], "alpha1")
	reply, err := c.Call(pipeRequest{Op: 1, Name: name})
	require.NoError(t, err)
	assert.Equal(t, pipeReply{ID: 107, Status: 1}, reply)
	assert.Equal(t, []string{"alpha1"}, seen)
}

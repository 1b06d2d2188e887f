package ipc

import "time"

// Codec turns a Go value into a message and back, so that module code exchanges its own
// types instead of raw labels and words.
type Codec[T any] struct {
	Encode func(T) Msg
	Decode func(Msg) T
}

// caller is what a TypedClient calls through (a *Client, or a fake in tests).
type caller interface {
	Call(Msg) (Msg, error)
}

// TypedClient calls a named endpoint with requests of type Req and replies of type Resp.
type TypedClient[Req, Resp any] struct {
	c    caller
	req  Codec[Req]
	resp Codec[Resp]
}

// NewTypedClient returns a client for name (see NewClient).
func NewTypedClient[Req, Resp any](name string, timeout time.Duration, req Codec[Req], resp Codec[Resp]) *TypedClient[Req, Resp] {
	return &TypedClient[Req, Resp]{c: NewClient(name, timeout), req: req, resp: resp}
}

// Call sends r and decodes the reply.
func (t *TypedClient[Req, Resp]) Call(r Req) (Resp, error) {
	m, err := t.c.Call(t.req.Encode(r))
	if err != nil {
		var zero Resp
		return zero, err
	}
	return t.resp.Decode(m), nil
}

// Handler answers one typed request; badge is the caller's pid, as the core reports it.
type Handler[Req, Resp any] func(r Req, badge uint64) Resp

// Typed adapts a typed handler to Endpoint.Serve.
func Typed[Req, Resp any](req Codec[Req], resp Codec[Resp], h Handler[Req, Resp]) func(Msg) Msg {
	return func(m Msg) Msg { return resp.Encode(h(req.Decode(m), m.Badge)) }
}

// Package ipc is how SimpleOS tasks talk to each other: synchronous calls to named endpoints,
// served by another task, through the core (docs/ipc.md).
//
// A server registers a name and serves it:
//
//	ep, err := ipc.Register("echo")
//	err = ep.Serve(func(req ipc.Msg) ipc.Msg {
//		return ipc.Msg{Label: req.Label + 1, Words: req.Words}
//	})
//
// A client calls it:
//
//	c := ipc.NewClient("echo", time.Second)
//	reply, err := c.Call(ipc.Msg{Label: 1, Words: [4]uint64{2, 3, 4, 5}})
//
// req.Badge, set by the core, is the caller's pid: the server learns who is calling from the
// kernel, not from the caller. If the server dies during a call, Call returns ErrPeerDied at
// once; the Client looks the name up again on its next call, so once the server has been
// restarted, calls succeed again.
//
// Typed helpers let module code exchange its own types: a Codec says how a type becomes a
// message, NewTypedClient calls with it, and Typed adapts a typed handler for Serve.
//
// The package uses SimpleOS's own system calls (0x410-0x415); elsewhere they fail with ENOSYS.
package ipc

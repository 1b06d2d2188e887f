// Package vfs is the Linux file ABI of every task, served by a file-system server (endpoint
// abi.FSEndpoint, ring3/fs) rather than by the core, as MINIX 3's VFS serves it: the core
// resolves a task's paths against its root and working directory, checks them against the
// paths its policy grants (files PATH ro|rw: anything else is EACCES with an audit line),
// keeps the open file descriptions (offset, flags, the server's handle), and forwards each
// operation to the server as one IPC call made on the task's own thread (ipc.KernelCall),
// the task's buffer lent to the server as a page grant — the data never passes through the
// core. The protocol is abi/fs.go.
//
// A call that needs the server waits for its reply and then runs again (c.Again): the
// thread's pending state (pending.go) says what the reply finishes. Without a server (no
// disk, or before it registers) paths are ENOENT, as they were before there were files.
//
// Files: path.go (paths, roots, working directories, grants), table.go (open file
// descriptions), pending.go (the call in flight), open.go, rw.go, stat.go, dir.go (the
// system calls, one family each).
//
// Runs in trap context: nosplit, no allocation, no heap pointer writes (Setup, which runs in
// goroutine context at a task's start, aside).
package vfs

package abi

// IPC messages (the kernel's IPC service; the user side is package ipc).

// MessageWords is the number of inline words a message carries.
const MessageWords = 4

// MessageSize is the size of a Message in bytes: what the kernel copies in and out.
const MessageSize = 64

// MaxGrantPages is the most pages one call may lend the server.
const MaxGrantPages = 16

// GrantBuffer, as a message's GrantPages, says the message carries GrantAddr bytes (at most
// IPCBufferSize) in IPC buffers instead of lending pages: the first GrantAddr bytes of the
// sender's IPC buffer (ipc_buffer, registered per thread) are copied to the start of the
// receiver's, which gets the message with the same two fields. A call or reply with it whose
// sender has no IPC buffer fails with EINVAL; one whose receiver has none fails with EFAULT
// (a call: the caller's call, the server goes on waiting; a reply: the caller's call).
const GrantBuffer = 1 << 62

// IPCBufferSize is the size of a thread's IPC buffer: one page.
const IPCBufferSize = 4096

// Message is one IPC message as it crosses the kernel: a label and four inline words. Badge is
// written by the kernel: on a received call, the caller's pid; on a reply, the server's; no
// task can choose it. A call may lend whole pages of the caller's own memory to the server for
// the duration of the call: GrantAddr (page-aligned) and GrantPages (at most MaxGrantPages);
// the server receives them read-only, at the GrantAddr of the message it gets.
type Message struct {
	Label      uint64
	Words      [MessageWords]uint64
	Badge      uint64
	GrantAddr  uint64
	GrantPages uint64
}

package boot

// A QEMU Machine Protocol client: just enough to take screenshots of a running machine. QMP
// is JSON, one object per line, over the socket QEMU serves with
// -qmp unix:PATH,server=on,wait=off: a greeting, then capabilities negotiation, then commands,
// each answered by {"return": ...} or {"error": ...}; asynchronous {"event": ...} objects may
// come in between.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// qmpTimeout bounds one command's round trip.
const qmpTimeout = 10 * time.Second

// qmpClient is a connection to one QEMU's QMP socket, negotiated and ready for commands.
type qmpClient struct {
	mu   sync.Mutex // one command at a time
	conn net.Conn
	r    *bufio.Reader
}

// dialQMP connects to the QMP socket at path, retrying until ctx ends (QEMU creates the socket
// as it starts), reads the greeting and leaves capabilities negotiation.
func dialQMP(ctx context.Context, path string) (*qmpClient, error) {
	var d net.Dialer
	for {
		conn, err := d.DialContext(ctx, "unix", path)
		if err == nil {
			c := &qmpClient{conn: conn, r: bufio.NewReader(conn)}
			if err := c.handshake(); err != nil {
				conn.Close()
				return nil, err
			}
			return c, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("boot: QMP socket %s: %w", path, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (c *qmpClient) handshake() error {
	_ = c.conn.SetDeadline(time.Now().Add(qmpTimeout))
	line, err := c.r.ReadBytes('\n')
	if err != nil {
		return fmt.Errorf("boot: QMP greeting: %w", err)
	}
	var greeting struct {
		QMP *json.RawMessage `json:"QMP"`
	}
	if err := json.Unmarshal(line, &greeting); err != nil || greeting.QMP == nil {
		return fmt.Errorf("boot: QMP greeting: not QMP: %.80q", line)
	}
	return c.execute("qmp_capabilities", nil)
}

// execute runs one command and waits for its answer.
func (c *qmpClient) execute(command string, arguments any) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_ = c.conn.SetDeadline(time.Now().Add(qmpTimeout))
	msg := map[string]any{"execute": command}
	if arguments != nil {
		msg["arguments"] = arguments
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return err
	}
	if _, err := c.conn.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("boot: QMP %s: %w", command, err)
	}
	for {
		line, err := c.r.ReadBytes('\n')
		if err != nil {
			return fmt.Errorf("boot: QMP %s: %w", command, err)
		}
		var answer struct {
			Return *json.RawMessage `json:"return"`
			Error  *struct {
				Class string `json:"class"`
				Desc  string `json:"desc"`
			} `json:"error"`
		}
		if err := json.Unmarshal(line, &answer); err != nil {
			return fmt.Errorf("boot: QMP %s: %w", command, err)
		}
		switch {
		case answer.Error != nil:
			return fmt.Errorf("boot: QMP %s: %s: %s", command, answer.Error.Class, answer.Error.Desc)
		case answer.Return != nil:
			return nil
		}
		// an event: not the answer
	}
}

// screendump has QEMU write the display as a PPM file (the format every QEMU writes).
func (c *qmpClient) screendump(file string) error {
	return c.execute("screendump", map[string]string{"filename": file})
}

func (c *qmpClient) Close() error {
	if c == nil {
		return errors.New("boot: no QMP connection")
	}
	return c.conn.Close()
}

package proxy

import (
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// tunnel copies bytes between a client and its destination. The copy in
// each direction is io.Copy between the two TCP connections, which Linux
// does with splice(2) (no copy through user space). Idleness is measured
// without touching the copy: each direction's read deadline ends a window
// of a quarter of the idle time, and the copy goes on after it while some
// byte moved, in either direction, within the idle time.
type tunnel struct {
	c, up  net.Conn
	idle   time.Duration
	window time.Duration
	last   atomic.Int64 // when a byte last moved (Unix nanoseconds)

	mu      sync.Mutex
	why     string // why it ended: "eof", "idle", "error", "shutdown"
	halves  int    // directions finished by EOF
	closing sync.Once
}

// Close ends the tunnel by force (a shutdown after the grace period).
func (t *tunnel) Close() error {
	t.end("shutdown")
	return nil
}

// end closes both connections, recording why (the first reason wins).
func (t *tunnel) end(why string) {
	t.mu.Lock()
	if t.why == "" {
		t.why = why
	}
	t.mu.Unlock()
	t.closing.Do(func() {
		t.c.Close()
		t.up.Close()
	})
}

// reason returns why the tunnel ended.
func (t *tunnel) reason() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.why
}

// pump copies src to dst until EOF (then half-closes dst), an error, or
// idleness, and returns the bytes copied.
func (t *tunnel) pump(dst, src net.Conn) int64 {
	var total int64
	for {
		src.SetReadDeadline(time.Now().Add(t.window))
		n, err := io.Copy(dst, src)
		total += n
		now := time.Now()
		if n > 0 {
			t.last.Store(now.UnixNano())
		}
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded):
			if now.Sub(time.Unix(0, t.last.Load())) < t.idle {
				continue
			}
			t.end("idle")
		case err != nil:
			t.end("error")
		default:
			if cw, ok := dst.(interface{ CloseWrite() error }); ok {
				cw.CloseWrite()
			}
			t.mu.Lock()
			t.halves++
			both := t.halves == 2
			t.mu.Unlock()
			if both {
				t.end("eof")
			}
		}
		return total
	}
}

// tunnel runs a tunnel between client c and destination up (early: bytes
// the client sent before the tunnel opened), then logs the connection.
func (s *Server) tunnel(rec *record, final timedEvent, c, up net.Conn, early []byte) {
	start := time.Now()
	window := max(s.cfg.IdleTimeout/4, time.Millisecond)
	t := &tunnel{c: c, up: up, idle: s.cfg.IdleTimeout, window: window}
	t.last.Store(start.UnixNano())
	s.open.Add(1)
	defer s.open.Add(-1)
	var sent int64
	if !s.hold(t) {
		t.end("shutdown")
	} else {
		defer s.unhold(t)
		if len(early) > 0 {
			n, err := up.Write(early)
			sent += int64(n)
			if err != nil {
				t.end("error")
			}
		}
		c.SetDeadline(time.Time{})
		var down int64
		var wg sync.WaitGroup
		wg.Go(func() { down = t.pump(c, up) })
		sent += t.pump(up, c)
		wg.Wait()
		t.end("eof")
		s.logConn(rec, final, sent, down, time.Since(start), t.reason())
		return
	}
	s.logConn(rec, final, sent, 0, time.Since(start), t.reason())
}

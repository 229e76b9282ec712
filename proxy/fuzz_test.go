package proxy

import (
	"bufio"
	"bytes"
	"testing"
)

// FuzzSOCKSRequest feeds a client's bytes (greeting, then request) to the
// SOCKS5 handshake. It never panics; a request read is exactly the bytes
// it consumed (its encoding gives them back) and names a CONNECT with a
// known address type; every reply written is well formed.
func FuzzSOCKSRequest(f *testing.F) {
	f.Add([]byte("\x05\x01\x00\x05\x01\x00\x03\x0bexample.com\x01\xbb"))
	f.Add([]byte("\x05\x01\x00\x05\x01\x00\x01\x7f\x00\x00\x01\x00\x50"))
	f.Add([]byte("\x05\x01\x00\x05\x01\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x50"))
	f.Add([]byte("\x05\x02\x02\x00\x05\x02\x00\x01\x7f\x00\x00\x01\x00\x50"))
	f.Add([]byte("\x05\x01\x02"))
	f.Add([]byte("\x04\x01\x00\x50\x7f\x00\x00\x01\x00"))
	f.Add([]byte("\x05\x01\x00\x05\x01\x00\x09"))
	f.Add([]byte("\x05\x01\x00\x05\x01\x00\x03\x00\x00\x50"))
	f.Fuzz(func(t *testing.T, data []byte) {
		src := &countReader{r: bytes.NewReader(data)}
		br := bufio.NewReaderSize(src, 16)
		var out bytes.Buffer
		if err := readGreeting(br, &out); err != nil {
			checkReplies(t, out.Bytes(), true)
			return
		}
		greeting := src.n - br.Buffered()
		if m := out.Bytes(); len(m) != 2 || m[0] != 5 || m[1] != 0 {
			t.Fatalf("method reply %x", m)
		}
		out.Reset()
		q, err := readRequest(br, &out)
		if err != nil {
			checkReplies(t, out.Bytes(), false)
			return
		}
		if out.Len() != 0 {
			t.Fatalf("a reply was written for a good request: %x", out.Bytes())
		}
		consumed := src.n - br.Buffered()
		if got := q.encode(); !bytes.Equal(got, data[greeting:consumed]) {
			t.Fatalf("request %+v encodes to %x, read from %x", q, got, data[greeting:consumed])
		}
		if q.cmd != cmdConnect || q.atyp != atypIPv4 && q.atyp != atypIPv6 && q.atyp != atypDomain {
			t.Fatalf("request %+v accepted", q)
		}
		if q.atyp != atypDomain && !q.addr.IsValid() {
			t.Fatalf("request %+v has no address", q)
		}
		_ = q.target()
	})
}

// countReader counts the bytes read from r.
type countReader struct {
	r *bytes.Reader
	n int
}

func (c *countReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += n
	return n, err
}

// checkReplies checks what a failed handshake wrote: nothing, the method
// refusal (05 FF), or one reply of ten bytes (05 REP 00 01 0.0.0.0:0).
func checkReplies(t *testing.T, b []byte, greeting bool) {
	t.Helper()
	switch {
	case len(b) == 0:
	case greeting && bytes.Equal(b, []byte{5, 0xff}):
	case !greeting && len(b) == 10 && b[0] == 5 && (b[1] == repCmdNotSupported || b[1] == repAddrNotSupported) && b[3] == atypIPv4:
	default:
		t.Fatalf("reply %x", b)
	}
}

package proxy

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strconv"
	"syscall"

	"github.com/capspec/capspec/enforce"
)

// SOCKS5 (RFC 1928) without authentication: only what a CONNECT needs.

const socksVersion = 5

// Commands and address types of a request (RFC 1928 §4).
const (
	cmdConnect   = 1
	cmdBind      = 2
	cmdAssociate = 3

	atypIPv4   = 1
	atypDomain = 3
	atypIPv6   = 4
)

// Methods (§3) and replies (§6).
const (
	methodNoAuth       = 0x00
	methodNoAcceptable = 0xff

	repSucceeded        = 0x00
	repGeneralFailure   = 0x01
	repNotAllowed       = 0x02 // connection not allowed by ruleset
	repNetworkUnreach   = 0x03
	repHostUnreach      = 0x04
	repConnRefused      = 0x05
	repCmdNotSupported  = 0x07
	repAddrNotSupported = 0x08
)

// socksRequest is a client's request: the command and the destination,
// a domain name (host) or an address.
type socksRequest struct {
	cmd  byte
	rsv  byte // reserved: 0 by the RFC; other values are let through
	atyp byte
	host string     // atypDomain: the name as sent (any bytes)
	addr netip.Addr // atypIPv4, atypIPv6
	port uint16
}

// target returns the destination as "host:port" for a dial.
func (q socksRequest) target() string {
	h := q.host
	if q.atyp != atypDomain {
		h = q.addr.String()
	}
	return net.JoinHostPort(h, strconv.Itoa(int(q.port)))
}

// encode writes the request as a client sends it.
func (q socksRequest) encode() []byte {
	b := []byte{socksVersion, q.cmd, q.rsv, q.atyp}
	switch q.atyp {
	case atypDomain:
		b = append(b, byte(len(q.host)))
		b = append(b, q.host...)
	default:
		b = append(b, q.addr.AsSlice()...)
	}
	return binary.BigEndian.AppendUint16(b, q.port)
}

// errSOCKS is a handshake that failed: the reply already sent (or none).
type errSOCKS struct {
	rep byte // the reply sent, or 0 when none was
	msg string
}

func (e *errSOCKS) Error() string { return "socks5: " + e.msg }

// readGreeting reads the client's version and methods (§3) and answers
// with the method chosen: no authentication, or none acceptable.
func readGreeting(br *bufio.Reader, w io.Writer) error {
	var hdr [2]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return err
	}
	if hdr[0] != socksVersion {
		return &errSOCKS{msg: fmt.Sprintf("version %d, not 5", hdr[0])}
	}
	methods := make([]byte, hdr[1])
	if _, err := io.ReadFull(br, methods); err != nil {
		return err
	}
	for _, m := range methods {
		if m == methodNoAuth {
			_, err := w.Write([]byte{socksVersion, methodNoAuth})
			return err
		}
	}
	w.Write([]byte{socksVersion, methodNoAcceptable})
	return &errSOCKS{msg: "the client offers no method without authentication"}
}

// readRequest reads a request (§4). A request for another command than
// CONNECT, or with an unknown address type, is answered with its reply
// (0x07, 0x08) and is an error.
func readRequest(br *bufio.Reader, w io.Writer) (socksRequest, error) {
	var q socksRequest
	var hdr [4]byte
	if _, err := io.ReadFull(br, hdr[:]); err != nil {
		return q, err
	}
	if hdr[0] != socksVersion {
		return q, &errSOCKS{msg: fmt.Sprintf("request version %d, not 5", hdr[0])}
	}
	q.cmd, q.rsv, q.atyp = hdr[1], hdr[2], hdr[3]
	switch q.atyp {
	case atypIPv4, atypIPv6:
		n := 4
		if q.atyp == atypIPv6 {
			n = 16
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			return q, err
		}
		q.addr, _ = netip.AddrFromSlice(b)
	case atypDomain:
		n, err := br.ReadByte()
		if err != nil {
			return q, err
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			return q, err
		}
		q.host = string(b)
	default:
		w.Write(socksReply(repAddrNotSupported, netip.AddrPort{}))
		return q, &errSOCKS{rep: repAddrNotSupported, msg: fmt.Sprintf("address type %d not supported", q.atyp)}
	}
	var p [2]byte
	if _, err := io.ReadFull(br, p[:]); err != nil {
		return q, err
	}
	q.port = binary.BigEndian.Uint16(p[:])
	if q.cmd != cmdConnect {
		w.Write(socksReply(repCmdNotSupported, netip.AddrPort{}))
		return q, &errSOCKS{rep: repCmdNotSupported, msg: fmt.Sprintf("command %d not supported (only CONNECT)", q.cmd)}
	}
	return q, nil
}

// socksReply writes a reply with the bound address (0.0.0.0:0 when none).
func socksReply(rep byte, bnd netip.AddrPort) []byte {
	a := bnd.Addr().Unmap()
	if !a.IsValid() {
		a = netip.IPv4Unspecified()
	}
	b := []byte{socksVersion, rep, 0, atypIPv4}
	if a.Is6() {
		b[3] = atypIPv6
	}
	b = append(b, a.AsSlice()...)
	return binary.BigEndian.AppendUint16(b, bnd.Port())
}

// replyFor returns the reply for a failed connect: 0x02 for a denial,
// 0x04/0x05/0x03 for an unreachable host, a refused connection or an
// unreachable network, 0x01 otherwise.
func replyFor(err error) byte {
	var dnsErr *net.DNSError
	var timeout interface{ Timeout() bool }
	switch {
	case errors.Is(err, enforce.ErrDenied):
		return repNotAllowed
	case errors.Is(err, syscall.ECONNREFUSED):
		return repConnRefused
	case errors.Is(err, syscall.ENETUNREACH):
		return repNetworkUnreach
	case errors.Is(err, syscall.EHOSTUNREACH), errors.As(err, &dnsErr):
		return repHostUnreach
	case errors.As(err, &timeout) && timeout.Timeout():
		return repHostUnreach
	}
	return repGeneralFailure
}

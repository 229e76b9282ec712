package proxy_test

import (
	"fmt"
	"io"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/capspec/capspec/internal/loopback"
	"github.com/capspec/capspec/internal/policygen"
	"github.com/capspec/capspec/proxy"
)

// benchRig is a proxy whose policy is 1,000 generated rules plus the
// rules for 16 echo servers on loopback, reached by address and by mapped
// names (no DNS).
func benchRig(b *testing.B) (*rig, []*loopback.Server) {
	var servers []*loopback.Server
	flags := policygen.Bench(1000)
	for i := range 16 {
		s := newEchoServer(b, "127.0.0.1:0")
		servers = append(servers, s)
		flags = append(flags,
			fmt.Sprintf("--allow-outbound=tcp://127.0.0.1:%d", s.Port()),
			fmt.Sprintf("--allow-outbound=tcp://svc%d.internal->127.0.0.1:%d", i, s.Port()))
	}
	return newRig(b, proxy.Config{}, flags...), servers
}

// percentile returns the p-th percentile (0..100) of ds, sorted in place.
func percentile(ds []time.Duration, p int) time.Duration {
	slices.Sort(ds)
	if len(ds) == 0 {
		return 0
	}
	return ds[min(len(ds)-1, len(ds)*p/100)]
}

// BenchmarkConnectLatency measures what the proxy adds to opening a
// connection: each iteration opens one connection directly and one
// through the proxy to the same echo server (16 servers in turn, by
// address and by mapped name, against a policy of 1,016 rules) and waits
// for one byte echoed. Reported: the p50 and p99 of each, in µs, and
// what the proxy adds at p50 and p99 (target: ≤ 100 µs at p50).
func BenchmarkConnectLatency(b *testing.B) {
	r, servers := benchRig(b)
	for _, mode := range []string{"socks5-addr", "socks5-name", "http-connect"} {
		b.Run(mode, func(b *testing.B) {
			var direct, proxied []time.Duration
			one := []byte{1}
			for i := 0; b.Loop(); i++ {
				s := servers[i%len(servers)]
				t0 := time.Now()
				c, err := net.Dial("tcp", s.Addr())
				if err != nil {
					b.Fatal(err)
				}
				c.Write(one)
				io.ReadFull(c, one)
				direct = append(direct, time.Since(t0))
				c.Close()

				t0 = time.Now()
				switch mode {
				case "http-connect":
					c, err = net.Dial("tcp", r.http)
					if err == nil && connectStatus(c, fmt.Sprintf("svc%d.internal:%d", i%len(servers), s.Port())) != "200" {
						b.Fatal("CONNECT failed")
					}
				default:
					c, err = net.Dial("tcp", r.socks)
					req := []byte{5, 1, 0, 1, 127, 0, 0, 1, byte(s.Port() >> 8), byte(s.Port())}
					if mode == "socks5-name" {
						req = domainRequest(fmt.Sprintf("svc%d.internal", i%len(servers)), s.Port())
					}
					if err == nil && socksHandshake(c, req) != 0 {
						b.Fatal("SOCKS connect failed")
					}
				}
				if err != nil {
					b.Fatal(err)
				}
				c.Write(one)
				if _, err := io.ReadFull(c, one); err != nil {
					b.Fatal(err)
				}
				proxied = append(proxied, time.Since(t0))
				c.Close()
			}
			us := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1000 }
			d50, d99 := percentile(direct, 50), percentile(direct, 99)
			p50, p99 := percentile(proxied, 50), percentile(proxied, 99)
			b.ReportMetric(us(d50), "direct-p50-µs")
			b.ReportMetric(us(d99), "direct-p99-µs")
			b.ReportMetric(us(p50), "proxy-p50-µs")
			b.ReportMetric(us(p99), "proxy-p99-µs")
			b.ReportMetric(us(p50-d50), "added-p50-µs")
			b.ReportMetric(us(p99-d99), "added-p99-µs")
		})
	}
}

// send writes n bytes on c, half-closes it and waits for the other side
// to close (all was received).
func send(b *testing.B, c net.Conn, n int64, buf []byte) {
	for sent := int64(0); sent < n; sent += int64(len(buf)) {
		if _, err := c.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	c.(*net.TCPConn).CloseWrite()
	io.Copy(io.Discard, c)
	c.Close()
}

// BenchmarkTunnelThroughput moves 1 GiB through a SOCKS5 tunnel (and an
// HTTP CONNECT tunnel) to a server that reads it all, and the same 1 GiB
// over a direct loopback connection, untimed, in the same iteration.
// MB/s is the tunnel's; pct-of-direct compares it with the direct
// connection (target: ≥ 80%).
func BenchmarkTunnelThroughput(b *testing.B) {
	const size = 1 << 30
	r, _ := benchRig(b)
	sink := loopback.Sink(b, "127.0.0.1:0")
	port := sink.Port()
	r.enf.SetPolicy(nil)
	p, _ := compileFlags(fmt.Sprintf("--allow-outbound=tcp://127.0.0.1:%d", port))
	r.enf.SetPolicy(p)
	buf := make([]byte, 256<<10)
	for _, mode := range []string{"socks5", "http-connect"} {
		b.Run(mode, func(b *testing.B) {
			b.SetBytes(size)
			var direct, tunnel time.Duration
			for b.Loop() {
				b.StopTimer()
				t0 := time.Now()
				c, err := net.Dial("tcp", sink.Addr())
				if err != nil {
					b.Fatal(err)
				}
				send(b, c, size, buf)
				direct += time.Since(t0)
				b.StartTimer()

				t0 = time.Now()
				if mode == "socks5" {
					c, err = net.Dial("tcp", r.socks)
					if err == nil && socksHandshake(c, []byte{5, 1, 0, 1, 127, 0, 0, 1, byte(port >> 8), byte(port)}) != 0 {
						b.Fatal("SOCKS connect failed")
					}
				} else {
					c, err = net.Dial("tcp", r.http)
					if err == nil && connectStatus(c, sink.Addr()) != "200" {
						b.Fatal("CONNECT failed")
					}
				}
				if err != nil {
					b.Fatal(err)
				}
				send(b, c, size, buf)
				tunnel += time.Since(t0)
			}
			mbps := func(d time.Duration) float64 { return float64(b.N) * size / d.Seconds() / 1e6 }
			b.ReportMetric(mbps(direct), "direct-MB/s")
			b.ReportMetric(100*direct.Seconds()/tunnel.Seconds(), "pct-of-direct")
		})
	}
}

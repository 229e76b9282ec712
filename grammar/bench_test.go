package grammar

import (
	"fmt"
	"strings"
	"testing"

	"github.com/capspec/capspec/source"
)

// typicalFlags are flags as people write them: the seed's examples.
var typicalFlags = []string{
	"--allow-outbound=tcp://example.com:80",
	"--allow-inbound=tcp://localhost:80",
	"--allow-resolve=example.com",
	"--allow-resolve=*.example.com",
	"--allow-resolve=*",
	"--allow-resolve=example.com#ipv4-only",
	"--allow-resolve=example.com#ipv6-only",
	"--allow-outbound=tcp://127.0.0.1:80",
	"--allow-outbound=tcp://127.0.0.1:*",
	"--allow-outbound=tcp://*:80",
	"--allow-outbound=tcp://*:*",
	"--allow-outbound=tcp://...#ipv4-only",
	"--allow-outbound=tcp://...#ipv6-only",
	"--allow-outbound=tcp://*:80,443",
	"--allow-outbound=tcp://*:21,35000-35999",
	"--allow-outbound=udp://...",
	"--allow-inbound=tcp://eth0:80",
	"--allow-inbound=tcp://*:80",
	"--allow-inbound=tcp://*:0",
	"--allow-resolve=my-database.internal->172.17.0.14",
	"--allow-inbound=tcp://*:80->8888",
	"--allow-outbound=tcp://my-database.internal->172.17.0.14:5432->5433",
	"--allow-outbound=tcp://[2001:db8::1]:443",
	"--allow-outbound=tcp://10.0.0.0/8:5432",
}

// BenchmarkParse parses typical flags; ns/op is per flag.
func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if r, _ := ParseFlag(typicalFlags[i%len(typicalFlags)], nil); r == nil {
			b.Fatal("typical flag did not parse")
		}
	}
}

// BenchmarkParseRequest reads request lines of every form, each distinct
// (addresses, ports, names); ns/op is per line. A line costs the request's
// parts, not a lexer and a token buffer (requestLexers).
func BenchmarkParseRequest(b *testing.B) {
	lines := make([]string, 4096)
	for i := range lines {
		switch i % 6 {
		case 0:
			lines[i] = fmt.Sprintf("connect tcp 10.%d.%d.%d:%d", i>>16&255, i>>8&255, i&255, 1+i)
		case 1:
			lines[i] = fmt.Sprintf("connect tcp api%d.example.com:443 via 192.168.0.%d", i, i&255)
		case 2:
			lines[i] = fmt.Sprintf("lookup host%d.example.org ipv6", i)
		case 3:
			lines[i] = fmt.Sprintf("send udp [2001:db8::%x]:53", i)
		case 4:
			lines[i] = fmt.Sprintf("listen tcp 0.0.0.0:%d", 1024+i)
		default:
			lines[i] = fmt.Sprintf("bind udp [::1]:%d # comment %d", 1024+i, i)
		}
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if _, err := ParseRequest(lines[i%len(lines)]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParseLarge parses large inputs of 256 KiB and 1 MiB of hostile
// shapes: a long port list, garbage, one huge word, a huge name, colons,
// ranges, commas, brackets, arrows, family modifiers, fullwidth letters,
// blanks. MB/s staying the same
// across sizes shows time linear in size.
func BenchmarkParseLarge(b *testing.B) {
	for _, size := range []int{256 << 10, 1 << 20} {
		var ports strings.Builder
		ports.WriteString("--allow-outbound=tcp://example.com:")
		for i := 0; ports.Len() < size; i++ {
			if i > 0 {
				ports.WriteByte(',')
			}
			ports.WriteString("1000")
		}
		cases := []struct{ name, text string }{
			{"ports", ports.String()},
			{"garbage", strings.Repeat("--allow-outbound=tcp://ex@mple!$", size/32)},
			{"word", strings.Repeat("x", size)},
			{"name", "--allow-resolve=" + strings.Repeat("a.", size/2)},
			{"colons", "--allow-inbound=tcp://eth0" + strings.Repeat(":1", size/2) + ":80"},
			{"ranges", "--allow-outbound=tcp://x:" + strings.Repeat("1-", size/2) + "2"},
			{"commas", "--allow-outbound=tcp://x:80" + strings.Repeat(",", size)},
			{"brackets", "--allow-outbound=tcp://" + strings.Repeat("[", size/2) + strings.Repeat("]", size/2)},
			{"arrows", "--allow-outbound=tcp://a" + strings.Repeat("->", size/2)},
			{"families", "--allow-outbound=tcp://a:80" + strings.Repeat("#ipv4-only", size/10)},
			{"fullwidth", "--allow-resolve=" + strings.Repeat("ｅ", size/3)},
			{"blanks", "--allow-resolve " + strings.Repeat(" a", size/2)},
		}
		for _, c := range cases {
			b.Run(fmt.Sprintf("%s/%dKiB", c.name, size>>10), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(c.text)))
				for b.Loop() {
					ParseFlag(c.text, nil)
				}
			})
		}
	}
}

// BenchmarkParseShapes reads and parses 1k and 10k distinct flags written
// one a line and all on one line: the two shapes must cost alike (time
// linear in the input, whatever its lines).
func BenchmarkParseShapes(b *testing.B) {
	for _, n := range []int{1_000, 10_000} {
		flags := make([]string, n)
		for i := range flags {
			flags[i] = fmt.Sprintf("--allow-outbound=tcp://h%d.example.com:%d", i, 1+i%60000)
		}
		for _, shape := range []struct{ name, sep string }{{"lines", "\n"}, {"oneline", " "}} {
			content := strings.Join(flags, shape.sep) + "\n"
			b.Run(fmt.Sprintf("%s/%d", shape.name, n), func(b *testing.B) {
				b.ReportAllocs()
				b.SetBytes(int64(len(content)))
				for b.Loop() {
					ins, err := source.FlagsFile{Name: "gen.flags", Content: content}.Read()
					if err != nil {
						b.Fatal(err)
					}
					if p, ds := Parse(ins[0]); len(ds) > 0 || len(p.Rules) != n {
						b.Fatalf("%d rules, %d diagnostics", len(p.Rules), len(ds))
					}
				}
			})
		}
	}
}

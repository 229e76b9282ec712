// Package hostile makes the large hostile inputs of the resource
// benchmarks and of the hostile corpus test (cli): texts of Size bytes of
// every shape that can cost a parser, linter or formatter more than linear
// time or memory — one long line of modifiers, one huge word, huge lists,
// many flags on one line, garbage, NUL bytes, invalid UTF-8, deep nesting,
// conflicts that pair every rule with every other.
package hostile

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// Size is the size of each large input: 1 MiB.
const Size = 1 << 20

// Input is one hostile input: a flags file.
type Input struct {
	Name string
	Text string
}

// Large returns the large inputs, each exactly Size bytes, the same on
// every call.
func Large() []Input { return Inputs(Size) }

// Inputs returns the hostile inputs of Large made size bytes each (tests
// use smaller ones than the benchmarks).
func Inputs(size int) []Input {
	var ins []Input
	add := func(name, text string) {
		ins = append(ins, Input{Name: name, Text: fit(text, size)})
	}
	add("modifiers", "--allow-outbound=tcp://a:80"+strings.Repeat("#ipv4-only", size/10))
	add("word", strings.Repeat("x", size))
	add("name", "--allow-resolve="+strings.Repeat("a.", size/2))
	add("label", "--allow-resolve="+strings.Repeat("a", size)+".com")
	add("fullwidth-name", "--allow-resolve="+strings.Repeat("ｅｘ．", size/9))
	add("ports", "--allow-outbound=tcp://example.com:"+list(size, func(i int) string { return fmt.Sprint(1 + i*7%65535) }))
	add("port-lists", join(size, "\n", func(i int) string {
		return "--allow-outbound=tcp://h.example.com:" + strings.Join(portsOf(i*40, 40), ",")
	}))
	add("long-port-lists", join(size, "\n", func(i int) string {
		// 16 flags of ports of one digit, each 1/16 of the input.
		return "--allow-outbound=tcp://h.example.com:" + list(size/16, func(j int) string { return fmt.Sprint(1 + (i+j)%9) })
	}))
	add("port-ranges", "--allow-inbound=tcp://*:"+list(size, func(i int) string { return fmt.Sprintf("%d-%d", 1+i%60000, 2+i%60000+i%7) }))
	add("commas", "--allow-outbound=tcp://a:"+strings.Repeat(",", size))
	add("one-line", join(size, " ", func(i int) string { return fmt.Sprintf("--allow-outbound=tcp://h%d.example.com:%d", i, 1+i%65535) }))
	add("lines", join(size, "\n", mixed))
	add("small-flags", join(size, "\n", func(i int) string { return fmt.Sprintf("--allow-outbound=tcp://a:%d", 1+i%65535) }))
	add("duplicates", strings.Repeat("--allow-outbound=tcp://*:443\n", size/29+1))
	add("name-conflicts", join(size, "\n", func(i int) string { return fmt.Sprintf("--allow-resolve=db->10.%d.%d.%d", i>>16&255, i>>8&255, i&255) }))
	add("same-mappings", strings.Repeat("--allow-inbound=tcp://*:80->8080\n", size/33+1))
	add("mapped-name", join(size, "\n", func(i int) string {
		// one name mapped to as many addresses as it has rules with port
		// mappings: each rule overlaps every address (CS101 once cost n²)
		if i%2 == 0 {
			return fmt.Sprintf("--allow-resolve=db->10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
		}
		return fmt.Sprintf("--allow-outbound=tcp://db:%d->%d", 1+i%60000, 1024+i%60000)
	}))
	add("port-conflicts", join(size, "\n", func(i int) string { return fmt.Sprintf("--allow-inbound=tcp://*:80->%d", 1024+i%60000) }))
	add("wildcards", join(size, "\n", func(i int) string {
		return fmt.Sprintf("--allow-outbound=tcp://*.z%d.example.com:%d", i%5000, 1+i%65535)
	}))
	add("networks", join(size, "\n", func(i int) string { return fmt.Sprintf("--allow-outbound=tcp://10.%d.%d.0/24:443", i>>8&255, i&255) }))
	add("suppressions", join(size, "\n", func(i int) string {
		return fmt.Sprintf("# capspec:ignore CS201 reason %d\n--allow-outbound=tcp://*:%d", i, 1+i%65535)
	}))
	add("comments", strings.Repeat("# a comment #ipv4-only\n", size/23+1))
	add("continuations", "--allow-outbound=tcp://a"+strings.Repeat("\\\n", size/2))
	add("garbage", garbage(size))
	add("nul", "--allow-outbound=tcp://a:80"+strings.Repeat("\x00", size))
	add("invalid-utf8", "--allow-outbound=tcp://a"+strings.Repeat("\xff", size))
	add("invisible", "--allow-resolve=ex"+strings.Repeat("\u200b", size/3))
	add("brackets", "--allow-outbound=tcp://"+strings.Repeat("[", size/2)+strings.Repeat("]", size/2))
	add("bracket-pairs", "--allow-outbound=tcp://"+strings.Repeat("[]", size/2))
	add("arrows", "--allow-outbound=tcp://a"+strings.Repeat("->", size/2))
	add("tokens", join(size, "\n", func(int) string { return "--allow-outbound=tcp://" + strings.Repeat("[]", 120) }))
	add("bom-lines", join(size, "\n", func(i int) string { return fmt.Sprintf("\ufeff--allow-outbound=tcp://h%d.example:1", i) }))
	return ins
}

// fit cuts or pads text to exactly size bytes (padding with newlines).
func fit(text string, size int) string {
	if len(text) >= size {
		return text[:size]
	}
	return text + strings.Repeat("\n", size-len(text))
}

// join joins item(0), item(1), ... with sep until Size bytes are reached,
// ending on a whole item.
func join(size int, sep string, item func(int) string) string {
	var b strings.Builder
	for i := 0; ; i++ {
		s := item(i)
		if b.Len()+len(sep)+len(s) > size {
			break
		}
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s)
	}
	return b.String()
}

// list is join with commas.
func list(size int, item func(int) string) string { return join(size-64, ",", item) }

// portsOf returns n distinct ports from the i-th on.
func portsOf(i, n int) []string {
	ports := make([]string, n)
	for j := range ports {
		ports[j] = fmt.Sprint(1 + (i+j)*7%65535)
	}
	return ports
}

// mixed is a flag of every kind, distinct for each i.
func mixed(i int) string {
	switch i % 6 {
	case 0:
		return fmt.Sprintf("--allow-resolve=host%d.example%d.com", i, i%97)
	case 1:
		return fmt.Sprintf("--allow-outbound=tcp://api%d.svc%d.example.com:443,80%d", i, i%13, i%10)
	case 2:
		return fmt.Sprintf("--allow-outbound=tcp://10.%d.%d.%d:%d", i>>16&255, i>>8&255, i&255, 1024+i%5000)
	case 3:
		return fmt.Sprintf("--allow-inbound=tcp://127.0.%d.%d:%d", i>>8&255, i&255, 1024+i%60000)
	case 4:
		return fmt.Sprintf("--allow-outbound=udp://*.zone%d.example.org:53 # zone %d", i, i)
	}
	return fmt.Sprintf("--allow-resolve=db%d.internal->10.1.%d.%d", i, i>>8&255, i&255)
}

// garbage is size bytes of random printable ASCII with blanks and line
// breaks.
func garbage(size int) string {
	r := rand.New(rand.NewPCG(1, 2))
	b := make([]byte, size)
	for i := range b {
		switch n := r.IntN(100); {
		case n < 2:
			b[i] = '\n'
		case n < 10:
			b[i] = ' '
		default:
			b[i] = byte(33 + r.IntN(94))
		}
	}
	return string(b)
}

// Policy returns a valid flags file of n rules as a large policy might
// have them, for benchmarks of commands on large policies: names (which
// repeat, so rules merge and subsume), wildcards, addresses and networks,
// lookups with and without mappings (a mapping wins over a wildcard),
// inbound rules with and without port mappings, and now and then a rule
// that lint calls a risk.
func Policy(n int) string {
	var b strings.Builder
	svc := max(n/4, 1)
	for i := range n {
		s := i * 7919 % svc
		switch i % 12 {
		case 0, 1:
			fmt.Fprintf(&b, "--allow-outbound=tcp://svc%d.example.com:%d\n", s, 443+i%3)
		case 2:
			fmt.Fprintf(&b, "--allow-outbound=tcp://*.zone%d.example.net:443\n", s)
		case 3:
			fmt.Fprintf(&b, "--allow-outbound=tcp://10.%d.%d.%d:5432\n", i>>16&255, i>>8&255, i&255)
		case 4:
			fmt.Fprintf(&b, "--allow-outbound=udp://172.%d.%d.0/24:53\n", 16+i>>16&15, i>>8&255)
		case 5:
			fmt.Fprintf(&b, "--allow-resolve=svc%d.example.com#ipv4-only\n", s)
		case 6:
			fmt.Fprintf(&b, "--allow-resolve=*.zone%d.example.org\n", s)
		case 7:
			fmt.Fprintf(&b, "--allow-resolve=db%d.zone%d.example.org->10.9.%d.%d\n", i, s, i>>8&255, i&255)
		case 8:
			fmt.Fprintf(&b, "--allow-inbound=tcp://*:%d->%d\n", 1024+i%30000, 31024+i%30000)
		case 9:
			fmt.Fprintf(&b, "--allow-outbound=tcp://[2001:db8::%x:%x]:8443\n", i>>16, i&0xffff)
		case 10:
			fmt.Fprintf(&b, "--allow-inbound=udp://eth%d:%d\n", s%64, 1024+i%60000)
		default:
			if i%1000 == 11 {
				fmt.Fprintf(&b, "--allow-outbound=tcp://*:%d\n", 1+i%65535) // CS201
			} else {
				fmt.Fprintf(&b, "--allow-inbound=tcp://localhost:%d\n", 1024+i%60000)
			}
		}
	}
	return b.String()
}

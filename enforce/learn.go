package enforce

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/grammar"
	"github.com/capspec/capspec/normalize"
	"github.com/capspec/capspec/policy"
	"github.com/capspec/capspec/source"
)

// LearnFlags are the flags of a policy that allows everything a learning
// Enforcer is asked (but never a connect or send to an unspecified
// address, which no policy allows).
var LearnFlags = []string{
	"--allow-resolve=*",
	"--allow-outbound=tcp://*:*",
	"--allow-outbound=udp://*:*",
	"--allow-inbound=tcp://*:*",
	"--allow-inbound=udp://*:*",
}

// Learner collects the requests an Enforcer allows and writes the policy
// that allows exactly those: no generalization, each rule names the exact
// name or address, port and family seen. Pass its Observe as (or call it
// from) Options.Observe of an Enforcer of LearnFlags. It is safe for
// concurrent use.
type Learner struct {
	mu   sync.Mutex
	uses map[learnKey]int
}

// learnKey is one rule a learned policy holds.
type learnKey struct {
	kind  ast.Kind
	proto ast.Protocol
	host  string // name, address (IPv6 in brackets), "*", "localhost" or interface
	port  uint16
	fam   policy.Families // 0: none named
}

// NewLearner returns a Learner that has seen nothing.
func NewLearner() *Learner { return &Learner{uses: map[learnKey]int{}} }

// Observe records one event: an allowed lookup, connect, send, listen or
// bind becomes (a use of) the rule that allows exactly it. A connect or
// send by name is learned as a rule to the name, in the family of the
// address; one by address as a rule to the address (even when a
// remembered lookup allowed it, so that the learned policy allows it
// without that lookup). Denials and IP literal lookups are not recorded.
func (l *Learner) Observe(_ context.Context, ev Event) {
	q, d := ev.Request, ev.Decision
	if !d.Allowed || d.NoRuleNeeded {
		return
	}
	var k learnKey
	switch q.Op {
	case eval.Lookup:
		k = learnKey{kind: ast.Resolve, host: q.Name, fam: q.Family}
	case eval.Connect, eval.Send:
		if !q.Addr.IsValid() {
			return
		}
		k = learnKey{kind: ast.Outbound, proto: q.Op.Protocol(), port: q.Port}
		if q.Name != "" && !ev.ByAddress {
			k.host, k.fam = q.Name, policy.FamilyOf(q.Addr)
		} else {
			k.host = eval.AddrText(q.Addr)
		}
	case eval.Listen, eval.Bind:
		k = learnKey{kind: ast.Inbound, proto: q.Op.Protocol(), port: q.Port}
		switch q.Local {
		case eval.LocalAny:
			k.host = "*"
		case eval.LocalLocalhost:
			k.host = "localhost"
		case eval.LocalInterface:
			k.host = q.Name
		default:
			k.host = eval.AddrText(q.Addr)
		}
	default:
		return
	}
	l.mu.Lock()
	l.uses[k]++
	l.mu.Unlock()
}

// Len returns the number of distinct requests (rules before formatting)
// seen.
func (l *Learner) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.uses)
}

// flag writes the rule of a key.
func (k learnKey) flag() string {
	var b strings.Builder
	b.WriteString(k.kind.FlagName())
	b.WriteByte('=')
	if k.kind != ast.Resolve {
		b.WriteString(k.proto.String())
		b.WriteString("://")
	}
	b.WriteString(k.host)
	if k.kind != ast.Resolve {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(int(k.port)))
	}
	if k.fam == policy.IPv4 || k.fam == policy.IPv6 {
		b.WriteString(k.fam.Modifier())
	}
	return b.String()
}

// comment counts the uses of a key's rule.
func (k learnKey) comment(n int) string {
	what := map[ast.Kind]string{ast.Resolve: "lookup", ast.Outbound: "connect", ast.Inbound: "listen"}[k.kind]
	if k.proto == ast.UDP {
		what = map[ast.Kind]string{ast.Outbound: "send", ast.Inbound: "bind"}[k.kind]
	}
	if n != 1 {
		what += "s"
	}
	s := fmt.Sprintf("# %d %s", n, what)
	switch k.kind {
	case ast.Resolve:
		s += " of " + k.host
	case ast.Outbound:
		s += fmt.Sprintf(" to %s:%d", k.host, k.port)
	default:
		s += fmt.Sprintf(" on %s:%d", k.host, k.port)
	}
	if k.fam == policy.IPv4 || k.fam == policy.IPv6 {
		s += " over " + k.fam.String()
	}
	return s
}

// Policy returns the learned policy as a flags file in canonical form
// (SPEC §4): a header, then the rules, each after comments counting the
// uses of the requests it allows ("# 12 connects to example.com:443 over
// ipv4"); merged rules keep every count.
func (l *Learner) Policy() (string, error) {
	l.mu.Lock()
	keys := make([]learnKey, 0, len(l.uses))
	for k := range l.uses {
		keys = append(keys, k)
	}
	uses := make(map[learnKey]int, len(keys))
	for _, k := range keys {
		uses[k] = l.uses[k]
	}
	l.mu.Unlock()
	slices.SortFunc(keys, func(a, b learnKey) int {
		return cmp.Or(cmp.Compare(a.kind, b.kind), cmp.Compare(a.proto, b.proto), strings.Compare(a.host, b.host),
			cmp.Compare(a.port, b.port), cmp.Compare(a.fam, b.fam))
	})
	var b strings.Builder
	b.WriteString("# Learned by capspec proxy --learn: exactly the requests it allowed,\n")
	b.WriteString("# with the number of times each was made.\n\n")
	if len(keys) == 0 {
		b.WriteString("# (no requests were seen: this policy allows nothing)\n")
	}
	for _, k := range keys {
		b.WriteString(k.comment(uses[k]))
		b.WriteByte('\n')
		b.WriteString(k.flag())
		b.WriteByte('\n')
	}
	return Canonical("learned", b.String())
}

// Canonical formats a flags file (SPEC §4), keeping its comments; a
// policy with errors is an error listing them.
func Canonical(name, content string) (string, error) {
	ins, err := source.FlagsFile{Name: name, Content: content}.Read()
	if err != nil {
		return "", err
	}
	in := ins[0]
	ap, ds := grammar.Parse(in)
	_, cds := policy.Compile(ap)
	ds = append(ds, cds...)
	if diag.HasErrors(ds) {
		return "", &PolicyError{Diagnostics: ds}
	}
	return normalize.Format(ap, in).String(), nil
}

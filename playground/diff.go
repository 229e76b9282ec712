package playground

// This file is the playground's diff panel: what the policy allows that the
// old policy does not, and the reverse (SPEC §8.1), computed from the
// meaning of both policies with package policy's set operations
// (policy.Subtract, policy.MergeAll, policy.Covers) and checked request by
// request with the evaluator. It stands alone so that it can be
// switched to the diff package of `capspec diff` once that exists:
// diffDocuments is its one entry point, DiffResult and DiffEntry its output.
//
// How it works. Every grant of one side — each written rule, and each
// resolve rule an outbound rule implies — has the rules of the other side
// subtracted from it. What is left is a region of requests that side allows
// and the other does not. Where policy.Subtract cannot write the rest as
// rules (a wildcard minus one of its names), the region is the granting
// rule with "except" lines naming the other side's rules that overlap it.
// Each region is then witnessed by a request in §3.6 syntax that the
// evaluator allows on one side and denies on the other; a region
// whose requests both sides allow with different host sides (a mapping
// whose target changed) is a "~" entry; a region for which no witness is
// found is still listed, and says so (Example is empty). Last, the lookups
// of every mapped name are decided on both sides, since a mapping wins over
// the other rules for its name (mappedLookups).

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"go4.org/netipx"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/literal"
	"github.com/capspec/capspec/policy"
)

// DiffResult is what the policy (NEW) allows that the old policy (OLD) does
// not, and the reverse.
type DiffResult struct {
	// Unavailable says why there is no diff: either policy has errors.
	Unavailable string      `json:"unavailable,omitempty"`
	Added       []DiffEntry `json:"added"`
	Removed     []DiffEntry `json:"removed"`
	Changed     []DiffEntry `json:"changed"`
	// Equivalent is true when both policies allow the same requests with
	// the same mappings.
	Equivalent bool `json:"equivalent"`
	// Text is the diff as `capspec diff` prints it (SPEC §8.1).
	Text string `json:"text"`
}

// DiffEntry is one region of requests one side allows and the other does
// not, or one mapping whose target changed.
type DiffEntry struct {
	// Flag is the canonical flag of the region (for a changed mapping, the
	// policy's rule).
	Flag string `json:"flag"`
	// Except are the rules of the other side the region leaves out (what
	// that side already allows), as values without the flag name.
	Except []string `json:"except"`
	// Origin is the rule that grants the region.
	Origin DiffOrigin `json:"origin"`
	// Example is one request (§3.6 syntax) that shows the difference; ""
	// when none was found, which the text says.
	Example string `json:"example"`
	// Was is, for a changed mapping, what the old policy did instead:
	// "->10.0.0.1", "answered by DNS", "->80".
	Was string `json:"was,omitempty"`
}

// DiffOrigin is where a rule is written: the file, line and column of its
// flag; Implied is true when the region is the resolve rule that flag
// implies.
type DiffOrigin struct {
	File    string `json:"file"`
	Line    int    `json:"line"`
	Column  int    `json:"column"`
	Implied bool   `json:"implied,omitempty"`
}

// String writes "policy.flags:4" or "implied by policy.flags:5".
func (o DiffOrigin) String() string {
	s := fmt.Sprintf("%s:%d", o.File, o.Line)
	if o.Implied {
		return "implied by " + s
	}
	return s
}

// Diff compares two policies as flags files: what newText allows that
// oldText does not, and the reverse. Listens are decided with the
// interface table (see ParseInterfaces).
func Diff(oldText, newText, interfaces string) DiffResult {
	return new(Session).Diff(oldText, newText, interfaces)
}

// unavailableDiff is no diff, and why.
func unavailableDiff(why string) DiffResult {
	return DiffResult{Unavailable: why, Added: []DiffEntry{}, Removed: []DiffEntry{}, Changed: []DiffEntry{}}
}

// diffDocuments is the diff of two read documents.
func diffDocuments(older, newer *document, ifaces *eval.Interfaces) DiffResult {
	for _, d := range []*document{older, newer} {
		if why := d.refusal(d.errors, "the diff"); why != "" {
			return unavailableDiff(why)
		}
	}
	res := DiffResult{Added: []DiffEntry{}, Removed: []DiffEntry{}, Changed: []DiffEntry{}}
	oldRef, newRef := eval.NewIndex(older.policy, ifaces), eval.NewIndex(newer.policy, ifaces)
	changed := map[[2]int]bool{} // deciding rules (new, old) of the changed mappings listed
	side := func(from, against *policy.Policy, fromRef, againstRef *eval.Index, added bool) []DiffEntry {
		var entries []DiffEntry
		for _, rg := range regions(from, against) {
			w, how := findWitness(rg.pieces, fromRef, againstRef, ifaces)
			if how == witnessChanged {
				newD, oldD := w.newD, w.oldD
				if !added {
					newD, oldD = w.oldD, w.newD
				}
				key := [2]int{newD.Rule, oldD.Rule}
				if changed[key] {
					continue
				}
				changed[key] = true
				r := decidingRule(newer.policy, newD.Rule, w.q.Op)
				res.Changed = append(res.Changed, DiffEntry{Flag: r.String(), Except: []string{}, Origin: originOf(r),
					Example: w.text, Was: was(w.q, newD, oldD)})
				continue
			}
			e := DiffEntry{Flag: rg.flag.String(), Except: []string{}, Origin: originOf(rg.rule)}
			for _, x := range rg.except {
				e.Except = append(e.Except, x.Spec())
			}
			if how == witnessStrict {
				e.Example = w.text
			}
			entries = append(entries, e)
		}
		return entries
	}
	res.Added = append(res.Added, side(newer.policy, older.policy, newRef, oldRef, true)...)
	res.Removed = append(res.Removed, side(older.policy, newer.policy, oldRef, newRef, false)...)
	res.Added, res.Removed = mappedLookups(older.policy, newer.policy, oldRef, newRef, ifaces, res.Added, res.Removed)
	res.Equivalent = len(res.Added)+len(res.Removed)+len(res.Changed) == 0
	res.Text = diffText(res)
	return res
}

// mappedLookups adds the lookups of mapped names that one side allows and
// the other denies and that no region holds. A mapping wins over every
// other rule for its name (SPEC §3.2): a lookup of the name in the other
// family gets no answer, so adding "db->10.0.0.1" to a policy with
// "--allow-resolve=*" takes away "lookup db ipv6". Rule-by-rule subtraction
// does not see that; deciding the lookups of every mapped name does.
func mappedLookups(older, newer *policy.Policy, oldRef, newRef *eval.Index, ifaces *eval.Interfaces, added, removed []DiffEntry) ([]DiffEntry, []DiffEntry) {
	names := map[string]bool{}
	for _, p := range []*policy.Policy{older, newer} {
		for _, r := range p.Resolves {
			if r.HostMap.IsValid() && r.Host.Kind == policy.NameHost {
				names[r.Host.Name] = true
			}
		}
	}
	sorted := slices.Sorted(maps.Keys(names))
	inAdded, inRemoved := newRegionTest(added, ifaces), newRegionTest(removed, ifaces)
	for _, n := range sorted {
		for _, f := range []policy.Families{policy.IPv4, policy.IPv6} {
			q := eval.Request{Op: eval.Lookup, Name: n, Family: f}
			nd, od := newRef.Decide(q), oldRef.Decide(q)
			switch {
			case nd.Allowed && !od.Allowed && !inAdded.holds(q):
				added = append(added, lookupEntry(newer, nd, q))
			case od.Allowed && !nd.Allowed && !inRemoved.holds(q):
				removed = append(removed, lookupEntry(older, od, q))
			}
		}
	}
	return added, removed
}

// lookupEntry is the entry of one lookup a side allows, at the rule
// deciding it.
func lookupEntry(p *policy.Policy, d eval.Decision, q eval.Request) DiffEntry {
	r := &policy.Rule{Kind: ast.Resolve, Host: policy.Host{Kind: policy.NameHost, Name: q.Name}, Families: q.Family}
	return DiffEntry{Flag: r.String(), Except: []string{}, Origin: originOf(decidingRule(p, d.Rule, eval.Lookup)), Example: q.String()}
}

// regionTest tells whether a lookup lies in one of the lookup regions of
// entries: allowed by its flag and by none of its except rules. Each
// region's rules are compiled when first needed.
type regionTest struct {
	entries  []DiffEntry
	ifaces   *eval.Interfaces
	compiled map[string]*eval.Index
}

func newRegionTest(entries []DiffEntry, ifaces *eval.Interfaces) *regionTest {
	return &regionTest{entries: entries, ifaces: ifaces, compiled: map[string]*eval.Index{}}
}

// allows reports whether a flag alone allows a request.
func (t *regionTest) allows(flag string, q eval.Request) bool {
	x, ok := t.compiled[flag]
	if !ok {
		if p, ds := eval.CompileFlags(flag); !diag.HasErrors(ds) {
			x = eval.NewIndex(p, t.ifaces)
		}
		t.compiled[flag] = x
	}
	return x != nil && x.Decide(q).Allowed
}

func (t *regionTest) holds(q eval.Request) bool {
	const resolve = "--allow-resolve"
	for _, e := range t.entries {
		if !strings.HasPrefix(e.Flag, resolve+"=") || !t.allows(e.Flag, q) {
			continue
		}
		excepted := false
		for _, x := range e.Except {
			excepted = excepted || t.allows(resolve+"="+x, q)
		}
		if !excepted {
			return true
		}
	}
	return false
}

// region is the part of one grant of a side that the other side does not
// grant.
type region struct {
	rule *policy.Rule // the grant: a written rule or an implied resolve
	// pieces are what is left of rule; exactly the difference when exact,
	// else more (the parts policy.Subtract could not take away).
	pieces []*policy.Rule
	exact  bool
	// except are the rules of the other side that overlap rule.
	except []*policy.Rule
	// flag is the region as one rule: the single piece left when exact,
	// else rule itself (with except lines).
	flag *policy.Rule
}

// grants returns the grants of a policy: every written rule, and after each
// outbound rule to a name the resolve rule it implies.
func grants(p *policy.Policy) []*policy.Rule {
	var out []*policy.Rule
	for _, r := range p.Rules {
		out = append(out, r)
		if ir := r.ImpliedResolve(); ir != nil {
			out = append(out, ir)
		}
	}
	return out
}

// regions returns, in canonical order, what each grant of from grants that
// against does not.
func regions(from, against *policy.Policy) []region {
	var out []region
	idx := newGrantIndex(against)
	for _, b := range grants(from) {
		rg := subtractAll(b, idx.overlapping(b))
		if len(rg.pieces) > 0 {
			out = append(out, rg)
		}
	}
	slices.SortStableFunc(out, func(x, y region) int { return policy.Compare(x.flag, y.flag) })
	return out
}

// grantIndex finds the grants of a policy that can overlap a rule: those
// of its kind and protocol (for lookups, the resolve rules in effect,
// implied ones included), in policy order. Rules for one exact name are
// filed under it: a rule for another exact name grants nothing in common
// (compiled names are canonical: lowercase A-labels without a trailing
// dot), so most grants are compared with few rules, not all.
type grantIndex struct {
	byName map[grantKey][]*policy.Rule // exact-name rules by kind, protocol and name
	others map[grantKey][]*policy.Rule // every other rule by kind and protocol (name "")
	all    map[grantKey][]*policy.Rule // every rule by kind and protocol (name ""), in order
}

type grantKey struct {
	kind     ast.Kind
	protocol ast.Protocol
	name     string
}

func newGrantIndex(p *policy.Policy) *grantIndex {
	x := &grantIndex{byName: map[grantKey][]*policy.Rule{}, others: map[grantKey][]*policy.Rule{}, all: map[grantKey][]*policy.Rule{}}
	add := func(r *policy.Rule) {
		all := grantKey{r.Kind, r.Protocol, ""}
		x.all[all] = append(x.all[all], r)
		if r.Host.Kind == policy.NameHost {
			k := grantKey{r.Kind, r.Protocol, r.Host.Name}
			x.byName[k] = append(x.byName[k], r)
			return
		}
		k := grantKey{r.Kind, r.Protocol, ""}
		x.others[k] = append(x.others[k], r)
	}
	for _, r := range p.Resolves {
		add(r)
	}
	for _, r := range p.Rules {
		if r.Kind != ast.Resolve {
			add(r)
		}
	}
	for _, rs := range x.all {
		inOrder(rs)
	}
	return x
}

// overlapping returns the rules that may grant something r grants, in
// policy order.
func (x *grantIndex) overlapping(r *policy.Rule) []*policy.Rule {
	if r.Host.Kind != policy.NameHost {
		return x.all[grantKey{r.Kind, r.Protocol, ""}]
	}
	rest := x.others[grantKey{r.Kind, r.Protocol, ""}]
	return inOrder(append(slices.Clone(x.byName[grantKey{r.Kind, r.Protocol, r.Host.Name}]), rest...))
}

// inOrder sorts rules in policy order (implied resolves after the rule
// implying them), so that except lines follow the policy.
func inOrder(rs []*policy.Rule) []*policy.Rule {
	slices.SortStableFunc(rs, func(a, b *policy.Rule) int {
		if a.Index != b.Index {
			return a.Index - b.Index
		}
		return boolInt(a.IsImplied()) - boolInt(b.IsImplied())
	})
	return rs
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// maxPieces bounds the pieces one grant is cut into; past it, the region is
// the grant with except lines (which is exact as a description).
const maxPieces = 256

// subtractAll takes every rule of others away from b.
func subtractAll(b *policy.Rule, others []*policy.Rule) region {
	rg := region{rule: b, pieces: []*policy.Rule{b}, exact: true}
	for _, a := range others {
		var next []*policy.Rule
		touched := false
		for _, pc := range rg.pieces {
			rest, exact := policy.Subtract(a, pc)
			if !exact || !unchanged(pc, rest) {
				touched = true
			}
			rg.exact = rg.exact && exact
			next = append(next, rest...)
		}
		if touched {
			rg.except = append(rg.except, a)
		}
		rg.pieces = next
		if len(next) == 0 {
			break
		}
		if len(next) > maxPieces {
			rg.exact = false
		}
	}
	if len(rg.pieces) > 0 {
		rg.pieces = policy.MergeAll(rg.pieces)
	}
	rg.flag = b
	if rg.exact && len(rg.pieces) == 1 {
		rg.flag, rg.except = rg.pieces[0], nil // the difference itself
	}
	return rg
}

// unchanged reports whether rest, what Subtract left of r, still grants
// all r grants: r itself, a copy of it, or parts that merge back into it.
func unchanged(r *policy.Rule, rest []*policy.Rule) bool {
	if len(rest) == 1 && (rest[0] == r || rest[0].Key() == r.Key() && rest[0].Ports.Equal(r.Ports)) {
		return true
	}
	if len(rest) < 2 {
		return false
	}
	for _, m := range policy.MergeAll(rest) {
		if policy.Covers(m, r) {
			return true
		}
	}
	return false
}

// How a witness shows a difference.
type witnessKind int

const (
	witnessNone    witnessKind = iota
	witnessStrict              // one side allows, the other denies
	witnessChanged             // both allow, with different host sides (a mapping changed)
)

// witness is a request and both sides' decisions on it.
type witness struct {
	text       string
	q          eval.Request
	newD, oldD eval.Decision // the side the region is of, and the other
}

// maxCandidates bounds the requests tried per region.
const maxCandidates = 400

// findWitness looks for a request in the pieces that side allows and other
// denies; failing that, one both allow with different host sides.
func findWitness(pieces []*policy.Rule, side, other *eval.Index, ifaces *eval.Interfaces) (witness, witnessKind) {
	var strict, changed witness
	kind := witnessNone
	tried := 0
	for _, pc := range pieces {
		candidates(pc, ifaces, func(q eval.Request) bool {
			if tried++; tried > maxCandidates {
				return false
			}
			sd, od := side.Decide(q), other.Decide(q)
			if !sd.Allowed {
				return true
			}
			w := witness{text: q.String(), q: q, newD: sd, oldD: od}
			if !od.Allowed {
				strict, kind = w, witnessStrict
				return false
			}
			if kind == witnessNone && hostSideDiffers(q, sd, od) {
				changed, kind = w, witnessChanged
			}
			return true
		})
		if kind == witnessStrict || tried > maxCandidates {
			break
		}
	}
	if kind == witnessStrict {
		return strict, kind
	}
	return changed, kind
}

// hostSideDiffers reports whether two allowing decisions on one request
// differ in what the host does: the answer of a lookup, the address and
// port of a connect or listen.
func hostSideDiffers(q eval.Request, a, b eval.Decision) bool {
	if q.Op == eval.Lookup {
		return a.Answers != b.Answers
	}
	return a.HostAddr != b.HostAddr || a.HostPort != b.HostPort
}

// was says what the old decision did where the new one differs.
func was(q eval.Request, newD, oldD eval.Decision) string {
	if q.Op == eval.Lookup {
		for i, a := range newD.Answers {
			if a != oldD.Answers[i] {
				if oldD.Answers[i].IsValid() {
					return "->" + literal.FormatAddr(oldD.Answers[i])
				}
				return "answered by DNS"
			}
		}
	}
	switch {
	case oldD.HostAddr.IsValid() && oldD.HostAddr != newD.HostAddr:
		return "->" + eval.AddrPort(oldD.HostAddr, oldD.HostPort)
	case oldD.HostPort == 0:
		return "->the port of the address DNS gives"
	}
	return fmt.Sprintf("->%d", oldD.HostPort)
}

// decidingRule returns the rule of p that decided a request: for a lookup
// allowed through an outbound rule, the resolve rule it implies.
func decidingRule(p *policy.Policy, i int, op eval.Op) *policy.Rule {
	r := p.Rule(i)
	if op == eval.Lookup && r.Kind == ast.Outbound {
		if ir := r.ImpliedResolve(); ir != nil {
			return ir
		}
	}
	return r
}

// originOf locates a rule's flag.
func originOf(r *policy.Rule) DiffOrigin {
	src := r
	if r.IsImplied() {
		src = r.ImpliedBy
	}
	rg := src.Range()
	return DiffOrigin{File: rg.Origin, Line: rg.Start.Line, Column: rg.Start.Column, Implied: r.IsImplied()}
}

// Sample addresses and names the witnesses are drawn from where a rule
// names none: documentation ranges first, then common kinds of address.
var (
	sampleV4 = addrs("192.0.2.1", "198.51.100.1", "203.0.113.1", "93.184.216.34", "10.0.0.1", "172.16.0.1",
		"192.168.0.1", "127.0.0.1", "169.254.169.254", "100.64.0.1", "1.1.1.1", "224.0.0.1")
	sampleV6    = addrs("2001:db8::1", "2606:2800::1", "fd00::1", "::1", "fe80::1", "2a00::1", "ff02::1")
	sampleNames = []string{"example.com", "example.net", "a.example.org", "capspec.test", "localhost"}
)

func addrs(ss ...string) []netip.Addr {
	out := make([]netip.Addr, len(ss))
	for i, s := range ss {
		out[i] = netip.MustParseAddr(s)
	}
	return out
}

// familiesOf lists the families of a rule, IPv4 first.
func familiesOf(r *policy.Rule) []policy.Families {
	var out []policy.Families
	for _, f := range []policy.Families{policy.IPv4, policy.IPv6} {
		if r.Families.Has(f) {
			out = append(out, f)
		}
	}
	return out
}

// samples returns sample addresses in a rule's families.
func samples(r *policy.Rule) []netip.Addr {
	var out []netip.Addr
	for _, f := range familiesOf(r) {
		if f == policy.IPv6 {
			out = append(out, sampleV6...)
		} else {
			out = append(out, sampleV4...)
		}
	}
	return out
}

// prefixSamples returns the first, second and last address of a network.
func prefixSamples(p netip.Prefix) []netip.Addr {
	first := p.Masked().Addr()
	out := []netip.Addr{first}
	if n := first.Next(); n.IsValid() && p.Contains(n) {
		out = append(out, n)
	}
	if last := netipx.PrefixLastIP(p); last != first {
		out = append(out, last)
	}
	return out
}

// portSamples returns the lowest, next and highest port of a rule.
func portSamples(r *policy.Rule) []uint16 {
	if len(r.Ports) == 0 {
		return nil
	}
	lo, hi := r.Ports[0].Lo, r.Ports[len(r.Ports)-1].Hi
	out := []uint16{lo}
	if lo < hi && r.Ports.Contains(lo+1) {
		out = append(out, lo+1)
	}
	if hi != lo {
		out = append(out, hi)
	}
	return out
}

// namesOf returns names a host matches: the name, names under a wildcard,
// sample names for "*".
func namesOf(h policy.Host) []string {
	switch h.Kind {
	case policy.NameHost, policy.LocalhostHost:
		return []string{h.Name}
	case policy.WildcardHost:
		return []string{"a." + h.Name, "capspec-example." + h.Name}
	case policy.AnyHost:
		return sampleNames
	}
	return nil
}

// candidates calls yield with requests inside a rule's grant, the
// likeliest witnesses first, until yield returns false.
func candidates(r *policy.Rule, ifaces *eval.Interfaces, yield func(eval.Request) bool) {
	stopped := false
	add := func(q eval.Request) {
		if !stopped {
			stopped = !yield(q)
		}
	}
	switch r.Kind {
	case ast.Resolve:
		for _, n := range namesOf(r.Host) {
			add(eval.Request{Op: eval.Lookup, Name: n})
			for _, f := range familiesOf(r) {
				add(eval.Request{Op: eval.Lookup, Name: n, Family: f})
			}
		}
	case ast.Outbound:
		op := eval.Connect
		if r.Protocol == ast.UDP {
			op = eval.Send
		}
		for _, port := range portSamples(r) {
			if port == 0 {
				continue
			}
			switch r.Host.Kind {
			case policy.AddressHost:
				for _, a := range prefixSamples(r.Host.Prefix) {
					add(eval.Request{Op: op, Addr: a, Port: port})
				}
			case policy.AnyHost:
				for _, a := range samples(r) {
					add(eval.Request{Op: op, Addr: a, Port: port})
				}
				for _, n := range sampleNames {
					add(eval.Request{Op: op, Name: n, Port: port})
				}
			default:
				addrs := samples(r)
				if r.HostMap.IsValid() {
					addrs = append([]netip.Addr{r.HostMap}, addrs...)
				}
				if r.Host.Kind == policy.LocalhostHost {
					addrs = []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback()}
				}
				for _, n := range namesOf(r.Host) {
					add(eval.Request{Op: op, Name: n, Port: port})
					for _, a := range addrs {
						if r.Families.Has(policy.FamilyOf(a)) {
							add(eval.Request{Op: op, Addr: a, Port: port, Name: n})
						}
					}
				}
				if r.Host.Kind == policy.LocalhostHost {
					for _, a := range addrs {
						add(eval.Request{Op: op, Addr: a, Port: port})
					}
				}
			}
		}
	case ast.Inbound:
		op := eval.Listen
		if r.Protocol == ast.UDP {
			op = eval.Bind
		}
		var locals []eval.Request // the local sides, without op and port
		addrs := func(as ...netip.Addr) {
			for _, a := range as {
				if r.Families.Has(policy.FamilyOf(a)) {
					locals = append(locals, eval.Request{Local: eval.LocalAddr, Addr: a})
				}
			}
		}
		switch r.Host.Kind {
		case policy.AnyHost:
			locals = append(locals, eval.Request{Local: eval.LocalAny})
			addrs(netip.IPv4Unspecified(), netip.IPv6Unspecified())
			locals = append(locals, eval.Request{Local: eval.LocalLocalhost})
			for _, n := range ifaces.Names() {
				locals = append(locals, eval.Request{Local: eval.LocalInterface, Name: n})
				addrs(ifaces.Addrs(n)...)
			}
		case policy.LocalhostHost:
			locals = append(locals, eval.Request{Local: eval.LocalLocalhost})
			addrs(netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback())
		case policy.InterfaceHost:
			locals = append(locals, eval.Request{Local: eval.LocalInterface, Name: r.Host.Name})
			addrs(ifaces.Addrs(r.Host.Name)...)
		case policy.AddressHost:
			addrs(r.Host.Prefix.Addr())
		}
		for _, port := range portSamples(r) {
			for _, l := range locals {
				l.Op, l.Port = op, port
				add(l)
			}
		}
	}
}

// diffText writes a diff as `capspec diff` does (SPEC §8.1): "+", "-" and
// "~" lines, each with the position of the rule granting it (the "+" and
// "-" lines aligned on one column, the "~" lines on another), "except"
// lines under a region the other side partly allows, and a summary.
func diffText(res DiffResult) string {
	var b strings.Builder
	block := func(groups ...[]DiffEntry) {
		signs := []string{"+", "-", "~"}
		type line struct {
			left  string
			e     DiffEntry
			other string // what the except lines say of the other side
		}
		var lines []line
		width := 0
		for gi, g := range groups {
			sign, other := signs[gi], "already allowed"
			if len(groups) == 1 {
				sign = "~"
			} else if gi == 1 {
				other = "still allowed"
			}
			for _, e := range g {
				left := sign + " " + e.Flag
				if e.Was != "" {
					left += " (was " + e.Was + ")"
				}
				lines = append(lines, line{left, e, other})
				width = max(width, len(left))
			}
		}
		for _, l := range lines {
			fmt.Fprintf(&b, "%-*s   %s\n", width, l.left, l.e.Origin)
			for _, x := range l.e.Except {
				fmt.Fprintf(&b, "    except %s (%s)\n", x, l.other)
			}
			if l.e.Example == "" {
				b.WriteString("    (no request found that only this side allows: the other may allow all of it)\n")
			}
		}
	}
	block(res.Added, res.Removed)
	block(res.Changed)
	if res.Equivalent {
		b.WriteString("no change in what is allowed\n")
		return b.String()
	}
	fmt.Fprintf(&b, "%s added, %d removed, %s changed\n", plural(len(res.Added), "grant"), len(res.Removed), plural(len(res.Changed), "mapping"))
	return b.String()
}

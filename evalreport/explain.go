// Package evalreport explains the decisions of capspec eval for people and
// writes its reports. Runner decides request items in order as one guest
// making them (lookups remembered by an eval.Tracker over an eval.Index),
// and explains each with an Explainer; TextWriter and JSONWriter write each
// result as soon as it is made, so that nothing is kept per request.
//
// An Explainer computes its own decision, rule by rule, from the matching
// predicates of package policy (the engines' decisions are never copied
// into it), so that tests comparing it with eval.Reference and eval.Index
// can fail. It looks only at the rules that can bear on a request: those
// whose hosts match it (found by name, by network and by interface), the
// rules about its name that do not (a parent name, a wildcard over the
// name itself), and the first rules of the request's kind.
package evalreport

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// Explanation is a decision with its reasons: the rules that allow the
// request, and for a denial, the nearest rules and why each missed.
type Explanation struct {
	// Request is the request as decided (normalized).
	Request eval.Request
	// Decision is the explainer's own decision, made from Allowing.
	Decision eval.Decision
	// Allowing are the rules that allow the request, in policy order.
	Allowing []Match
	// Nearest are, for a denial, up to three rules of the request's kind
	// that came closest: fewest reasons first, then rules about the
	// request's host, then policy order.
	Nearest []Miss
	// Notes say what else bears on the decision.
	Notes []string
}

// Match is a rule that allows a request, in some families.
type Match struct {
	// Rule is the rule; for a lookup it may be the resolve rule an
	// outbound rule implies (Rule.ImpliedBy is then set).
	Rule     *policy.Rule
	Families policy.Families
	// Decides is true for the rule that decided (Decision.Rule).
	Decides bool
}

// Miss is a rule that does not allow a request, and why.
type Miss struct {
	Rule    *policy.Rule
	Reasons []string
}

const (
	maxNearest  = 3    // missing rules a denial lists
	maxFallback = 8    // first rules of a kind considered as near misses
	maxMemo     = 4096 // network summaries remembered
)

var families = [2]policy.Families{policy.IPv4, policy.IPv6}

func famIndex(f policy.Families) int {
	if f == policy.IPv6 {
		return 1
	}
	return 0
}

func protoIndex(p ast.Protocol) int {
	if p == ast.UDP {
		return 1
	}
	return 0
}

// Explainer explains decisions on requests against one policy. It is safe
// for concurrent use.
type Explainer struct {
	p      *policy.Policy
	ifaces *eval.Interfaces

	res, out nameBuckets                          // resolve rules (explicit and implied); outbound rules to "*" and names
	nets     map[netip.Prefix][]*policy.Rule      // outbound networks, by prefix
	netBits  [2][]int                             // the prefix lengths of nets, per family
	addrNets [2][2][]*policy.Rule                 // outbound networks per protocol and family
	in       inBuckets                            // inbound rules
	first    [3][]*policy.Rule                    // the first rules of each kind (resolve: Policy.Resolves)
	mu       sync.Mutex                           // guards memo
	memo     map[netKey]*netInfo                  // network summaries by protocol, family and port

	// everyRule makes every rule of the request's kind a candidate (tests
	// compare it with the rules found by host).
	everyRule bool
}

// nameBuckets hold rules by host: "*", exact names (and localhost), and
// wildcards by their domain.
type nameBuckets struct {
	any   []*policy.Rule
	exact map[string][]*policy.Rule
	wild  map[string][]*policy.Rule
}

// inBuckets hold inbound rules by local side.
type inBuckets struct {
	any, localhost []*policy.Rule
	addr           map[netip.Addr][]*policy.Rule
	iface          map[string][]*policy.Rule
}

type netKey struct {
	proto, fam int
	port       uint16
}

// netInfo is what the networks allowing a protocol, family and port say
// about an address DNS gives; nets are the networks when they cover the
// family (and so allow it).
type netInfo struct {
	sum  policy.NetSummary
	nets []*policy.Rule
}

// NewExplainer indexes the rules of a policy by host, with the interface
// table listens are decided with (nil: none).
func NewExplainer(p *policy.Policy, ifaces *eval.Interfaces) *Explainer {
	e := &Explainer{p: p, ifaces: ifaces,
		res: newNameBuckets(), out: newNameBuckets(), nets: map[netip.Prefix][]*policy.Rule{},
		in:   inBuckets{addr: map[netip.Addr][]*policy.Rule{}, iface: map[string][]*policy.Rule{}},
		memo: map[netKey]*netInfo{}}
	for _, r := range p.Resolves {
		e.res.add(r)
		if len(e.first[0]) < maxFallback {
			e.first[0] = append(e.first[0], r)
		}
	}
	bits := [2]map[int]bool{{}, {}}
	for _, r := range p.Rules {
		k := 1
		switch r.Kind {
		case ast.Resolve:
			continue
		case ast.Outbound:
			if r.Host.Kind == policy.AddressHost {
				fi := famIndex(policy.FamilyOf(r.Host.Prefix.Addr()))
				e.nets[r.Host.Prefix] = append(e.nets[r.Host.Prefix], r)
				bits[fi][r.Host.Prefix.Bits()] = true
				e.addrNets[protoIndex(r.Protocol)][fi] = append(e.addrNets[protoIndex(r.Protocol)][fi], r)
			} else {
				e.out.add(r)
			}
		case ast.Inbound:
			k = 2
			e.in.add(r)
		}
		if len(e.first[k]) < maxFallback {
			e.first[k] = append(e.first[k], r)
		}
	}
	for fi := range bits {
		for b := range bits[fi] {
			e.netBits[fi] = append(e.netBits[fi], b)
		}
		slices.Sort(e.netBits[fi])
	}
	return e
}

func newNameBuckets() nameBuckets {
	return nameBuckets{exact: map[string][]*policy.Rule{}, wild: map[string][]*policy.Rule{}}
}

func (b *nameBuckets) add(r *policy.Rule) {
	switch r.Host.Kind {
	case policy.AnyHost:
		b.any = append(b.any, r)
	case policy.WildcardHost:
		b.wild[r.Host.Name] = append(b.wild[r.Host.Name], r)
	default:
		b.exact[r.Host.Name] = append(b.exact[r.Host.Name], r)
	}
}

// hits adds to c the rules whose hosts match name: "*", the name, and the
// wildcards over each domain the name is below.
func (b *nameBuckets) hits(name string, c *cands) {
	c.add(b.any, true)
	c.add(b.exact[name], true)
	for i := 0; i < len(name); i++ {
		if name[i] == '.' {
			c.add(b.wild[name[i+1:]], true)
		}
	}
}

// related adds to c the rules about name whose hosts do not match it: its
// parent names, and the wildcard over the name itself (which does not
// cover its apex).
func (b *nameBuckets) related(name string, c *cands) {
	c.add(b.wild[name], true)
	for i := 0; i < len(name); i++ {
		if name[i] == '.' {
			c.add(b.exact[name[i+1:]], true)
		}
	}
}

func (b *inBuckets) add(r *policy.Rule) {
	switch r.Host.Kind {
	case policy.AnyHost:
		b.any = append(b.any, r)
	case policy.LocalhostHost:
		b.localhost = append(b.localhost, r)
	case policy.AddressHost:
		a := r.Host.Prefix.Addr()
		b.addr[a] = append(b.addr[a], r)
	case policy.InterfaceHost:
		b.iface[r.Host.Name] = append(b.iface[r.Host.Name], r)
	}
}

// cands are the rules an explanation looks at: hits (rules whose hosts
// match the request, among which every rule allowing it) and near misses.
type cands struct {
	rules []*policy.Rule
	about map[*policy.Rule]bool // rules about the request's host (hits and related), not only fallback
}

func (c *cands) add(rs []*policy.Rule, about bool) {
	if c.about == nil {
		c.about = map[*policy.Rule]bool{}
	}
	for _, r := range rs {
		seen, ok := c.about[r]
		if !ok {
			c.rules = append(c.rules, r)
		}
		c.about[r] = seen || about
	}
}

// netsContaining adds the outbound networks holding a.
func (e *Explainer) netsContaining(a netip.Addr, c *cands) {
	if !a.IsValid() {
		return
	}
	for _, b := range e.netBits[famIndex(policy.FamilyOf(a))] {
		p, _ := a.Prefix(b)
		c.add(e.nets[p], true)
	}
}

// netInfo summarizes the networks allowing q's protocol and port in f.
func (e *Explainer) netInfo(q eval.Request, f policy.Families) *netInfo {
	k := netKey{protoIndex(q.Op.Protocol()), famIndex(f), q.Port}
	e.mu.Lock()
	ni, ok := e.memo[k]
	e.mu.Unlock()
	if ok {
		return ni
	}
	var nets []*policy.Rule
	for _, r := range e.addrNets[k.proto][k.fam] {
		if r.Applies(q.Op.Protocol(), q.Port, f) {
			nets = append(nets, r)
		}
	}
	ni = &netInfo{sum: policy.SummarizeNets(nets, f)}
	if ni.sum.Covers {
		ni.nets = nets
	}
	e.mu.Lock()
	if len(e.memo) >= maxMemo {
		clear(e.memo)
	}
	e.memo[k] = ni
	e.mu.Unlock()
	return ni
}

// lookupResult is the outcome of a lookup of one name in one family.
type lookupResult struct {
	ok     bool
	rule   *policy.Rule // the deciding rule
	answer netip.Addr   // the answer without DNS, if any
}

// nameInfo is what the resolve rules say about one name.
type nameInfo struct {
	name     string
	maps     policy.NameMaps
	mapRules [2]*policy.Rule // the mapping answering in each family
	lk       [2]lookupResult
	cands    cands // the resolve rules matching the name
}

// nameOf works out the lookups of name in both families from the resolve
// rules matching it.
func (e *Explainer) nameOf(name string) *nameInfo {
	n := &nameInfo{name: name}
	if e.everyRule {
		n.cands.add(e.p.Resolves, true)
	}
	e.res.hits(name, &n.cands)
	for _, r := range n.cands.rules {
		for i, f := range families {
			if r.MapsName(name, f) && policy.BetterHostMap(r, n.mapRules[i]) {
				n.mapRules[i] = r
			}
		}
	}
	for i, r := range n.mapRules {
		if r != nil {
			n.maps[i] = r.HostMap
		}
	}
	for i, f := range families {
		var first *policy.Rule
		for _, r := range n.cands.rules {
			if len(n.resolveReasons(r, f)) == 0 && (first == nil || r.Index < first.Index) {
				first = r
			}
		}
		if first == nil {
			continue
		}
		answer, _, ok := policy.Answer(name, f, n.maps)
		n.lk[i] = lookupResult{ok: ok, rule: first, answer: answer}
		if m := n.mapRules[i]; m != nil {
			n.lk[i].rule = m
		}
	}
	return n
}

// resolveReasons says why resolve rule r does not allow the lookup of the
// name in family f (nothing: it does).
func (n *nameInfo) resolveReasons(r *policy.Rule, f policy.Families) []string {
	var out []string
	if !r.Families.Has(f) {
		out = append(out, familyMiss(r, f, "lookup"))
	}
	if !r.Host.MatchesName(n.name) {
		out = append(out, nameMiss(r.Host, n.name))
	}
	if len(out) == 0 && n.maps.Mapped() && !n.maps.In(f).IsValid() {
		out = append(out, n.mappedElsewhere(f))
	}
	return out
}

// mappedElsewhere says that a mapped name has no answer in family f.
func (n *nameInfo) mappedElsewhere(f policy.Families) string {
	for i, m := range n.mapRules {
		if m != nil {
			return fmt.Sprintf("%s is mapped to %s by rule %d, and a mapping is the whole answer: no %s lookup is made",
				n.name, n.maps[i], m.Index+1, f)
		}
	}
	return ""
}

// Explain decides a request and says why, rule by rule.
func (e *Explainer) Explain(q eval.Request) Explanation {
	nq, err := q.Normalize()
	if err != nil {
		return Explanation{Request: nq, Decision: eval.Decision{Rule: -1, Invalid: err}, Notes: []string{err.Error()}}
	}
	x := Explanation{Request: nq}
	switch nq.Op {
	case eval.Lookup:
		if nq.Addr.IsValid() {
			x.Decision = literalLookup(nq)
			x.Notes = append(x.Notes, "a lookup of an IP literal sends no query and needs no permission")
			return x
		}
		e.explainLookup(&x)
	case eval.Connect, eval.Send:
		e.explainConnect(&x)
	default:
		e.explainListen(&x)
	}
	return x
}

// literalLookup decides a lookup of an IP literal: no rule needed.
func literalLookup(q eval.Request) eval.Decision {
	want := q.Family
	if want == 0 {
		want = policy.AllFamilies
	}
	f := policy.FamilyOf(q.Addr)
	d := eval.Decision{Allowed: true, Rule: -1, NoRuleNeeded: true, Families: f & want}
	if want.Has(f) {
		d.Answers[famIndex(f)] = q.Addr
	}
	return d
}

// verdict collects, family by family, what allows a request.
type verdict struct {
	allowed [2]bool
	winner  [2]*policy.Rule
	host    [2]netip.Addr
	port    [2]uint16
	answer  [2]netip.Addr
	allow   map[*policy.Rule]policy.Families // the rules allowing, and in which families
}

func (v *verdict) allowBy(r *policy.Rule, f policy.Families) {
	if v.allow == nil {
		v.allow = map[*policy.Rule]policy.Families{}
	}
	v.allow[r] |= f
}

// finish makes the decision and the lists of an explanation from the
// verdict: the first family allowed decides the rule and the host side;
// the rules allowing are listed, the others of cands ranked as misses.
func (e *Explainer) finish(x *Explanation, v *verdict, c *cands, fams []policy.Families, reasons func(*policy.Rule, policy.Families) []string) {
	d := eval.Decision{Rule: -1}
	var decider *policy.Rule
	for i, f := range families {
		d.Answers[i] = v.answer[i]
		if !v.allowed[i] {
			continue
		}
		d.Families |= f
		if !d.Allowed {
			d.Allowed, decider = true, v.winner[i]
			d.Rule, d.HostAddr, d.HostPort = decider.Index, v.host[i], v.port[i]
		}
	}
	x.Decision = d
	for r, fs := range v.allow {
		x.Allowing = append(x.Allowing, Match{Rule: r, Families: fs, Decides: r == decider})
	}
	slices.SortFunc(x.Allowing, func(a, b Match) int { return cmp.Compare(a.Rule.Index, b.Rule.Index) })
	if d.Allowed {
		return
	}
	var misses []Miss
	for _, r := range c.rules {
		var best []string
		for _, f := range fams {
			if rs := reasons(r, f); best == nil || len(rs) < len(best) {
				best = rs
			}
		}
		if len(best) > 0 {
			misses = append(misses, Miss{Rule: r, Reasons: best})
		}
	}
	slices.SortStableFunc(misses, func(a, b Miss) int {
		return cmp.Or(cmp.Compare(missWeight(a), missWeight(b)), -cmp.Compare(btoi(c.about[a.Rule]), btoi(c.about[b.Rule])), cmp.Compare(a.Rule.Index, b.Rule.Index))
	})
	x.Nearest = slices.Clip(misses[:min(len(misses), maxNearest)])
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// missWeight orders misses: fewer reasons first; a miss by protocol alone
// after a miss by one other reason.
func missWeight(m Miss) int {
	w := 2 * len(m.Reasons)
	for _, r := range m.Reasons {
		if strings.HasPrefix(r, "protocol ") {
			w++
		}
	}
	return w
}

// explainLookup explains a lookup of a name.
func (e *Explainer) explainLookup(x *Explanation) {
	q := x.Request
	n := e.nameOf(q.Name)
	fams := requested(q.Family)
	var v verdict
	for _, f := range fams {
		i := famIndex(f)
		for _, r := range n.cands.rules {
			if len(n.resolveReasons(r, f)) == 0 {
				v.allowBy(r, f)
			}
		}
		if lk := n.lk[i]; lk.ok {
			v.allowed[i], v.winner[i], v.answer[i] = true, lk.rule, lk.answer
		}
	}
	c := n.cands
	e.res.related(q.Name, &c)
	c.add(e.first[0], false)
	e.finish(x, &v, &c, fams, n.resolveReasons)
	if !x.Decision.Allowed {
		if len(e.p.Resolves) == 0 {
			x.Notes = append(x.Notes, "the policy has no --allow-resolve rules")
			for _, r := range e.p.Rules {
				if r.Kind == ast.Outbound && !r.Host.Kind.IsName() {
					x.Notes = append(x.Notes, "outbound rules to * or to addresses allow connects, not lookups")
					break
				}
			}
		}
	}
	if n.maps.Mapped() {
		for _, f := range fams {
			if a := n.maps.In(f); a.IsValid() && x.Decision.Families.Has(f) {
				x.Notes = append(x.Notes, fmt.Sprintf("the %s lookup of %s answers %s without DNS (rule %d): the mapping is the whole answer", f, q.Name, a, n.mapRules[famIndex(f)].Index+1))
			}
		}
	}
}

// requested returns the families a request asks for (both for none).
func requested(f policy.Families) []policy.Families {
	if f == 0 {
		return families[:]
	}
	return []policy.Families{f}
}

// connectCtx is what bears on a connect or send, family by family.
type connectCtx struct {
	q     eval.Request
	name  *nameInfo          // the name resolved from (nil: a bare address)
	addr  [2]netip.Addr      // the address in each family (the zero Addr: unknown, from DNS)
	nets  [2]*netInfo        // for an unknown address: the networks allowing the port
	fams  []policy.Families  // the families examined
	e     *Explainer
}

// explainConnect explains a connect or send.
func (e *Explainer) explainConnect(x *Explanation) {
	q := x.Request
	cc := &connectCtx{q: q, e: e}
	var c cands
	if e.everyRule {
		c.add(e.p.OfKind(ast.Outbound), true)
	}
	c.add(e.out.any, true)
	if q.Name != "" {
		cc.name = e.nameOf(q.Name)
		e.out.hits(q.Name, &c)
		e.out.related(q.Name, &c)
	}
	switch {
	case q.Addr.IsValid():
		f := policy.FamilyOf(q.Addr)
		cc.fams = []policy.Families{f}
		cc.addr[famIndex(f)] = q.Addr
		e.netsContaining(q.Addr, &c)
	default:
		for i, f := range families {
			lk := cc.name.lk[i]
			if !lk.ok {
				continue
			}
			cc.fams = append(cc.fams, f)
			if lk.answer.IsValid() {
				cc.addr[i] = lk.answer
				e.netsContaining(lk.answer, &c)
				x.Notes = append(x.Notes, fmt.Sprintf("the %s lookup of %s answers %s without DNS", f, q.Name, lk.answer))
			}
		}
		if len(cc.fams) == 0 {
			x.Notes = append(x.Notes, fmt.Sprintf("a connect to %s needs its lookup, and no resolve rule (explicit, or implied by an outbound rule to a name) allows the lookup of %s", q.Name, q.Name))
			cc.fams = families[:]
		}
	}
	hits := len(c.rules)
	var v verdict
	for _, f := range cc.fams {
		i := famIndex(f)
		if !q.Addr.IsValid() && !cc.name.lk[i].ok {
			continue
		}
		if a := cc.addr[i]; a.IsValid() {
			var pk policy.Pick
			for _, r := range c.rules[:hits] {
				if len(cc.reasons(r, f)) == 0 {
					pk.Add(r)
					v.allowBy(r, f)
				}
			}
			if w := pk.Winner(); w != nil {
				v.allowed[i], v.winner[i], v.host[i], v.port[i] = true, w, a, w.HostPort(q.Port)
			}
			continue
		}
		// An address DNS gives: the rules allowing every address, and the
		// networks if together they cover the family.
		ni := cc.netInfo(f)
		var whole policy.Pick
		for _, r := range c.rules[:hits] {
			if r.Host.Kind != policy.AddressHost && len(cc.reasons(r, f)) == 0 {
				whole.Add(r)
				v.allowBy(r, f)
			}
		}
		if ni.sum.Covers {
			for _, r := range ni.nets {
				v.allowBy(r, f)
			}
		}
		if w, port := policy.DecideUnknown(whole, ni.sum, q.Port); w != nil {
			v.allowed[i], v.winner[i], v.port[i] = true, w, port
		}
	}
	c.add(e.first[1], false)
	e.finish(x, &v, &c, cc.fams, cc.reasons)
	cc.notes(x)
}

// netInfo returns the summary of the networks for family f, computing it once.
func (cc *connectCtx) netInfo(f policy.Families) *netInfo {
	i := famIndex(f)
	if cc.nets[i] == nil {
		cc.nets[i] = cc.e.netInfo(cc.q, f)
	}
	return cc.nets[i]
}

// reasons says why outbound rule r does not allow the connect or send in
// family f (nothing: it does).
func (cc *connectCtx) reasons(r *policy.Rule, f policy.Families) []string {
	q := cc.q
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if proto := q.Op.Protocol(); r.Protocol != proto {
		add("protocol %s, but the rule is %s", proto, r.Protocol)
	}
	if !r.Ports.Contains(q.Port) {
		add("port %d not in %s", q.Port, r.Ports.Spell(true))
	}
	if !r.Families.Has(f) {
		noun := "address"
		if !q.Addr.IsValid() {
			noun = "connection"
		}
		out = append(out, familyMiss(r, f, noun))
		if r.Host.Kind == policy.AddressHost {
			return out
		}
	}
	i := famIndex(f)
	addr := cc.addr[i]
	if addr.IsValid() && policy.IsUnspecifiedDestination(addr) {
		// Whatever the host: nothing else about it matters.
		add("%s is an unspecified address (denied whatever the rules say)", eval.AddrText(addr))
		return out
	}
	lookupOK := q.Addr.IsValid() || cc.name.lk[i].ok
	if !lookupOK && !r.Host.Kind.IsName() {
		add("the %s lookup of %s is not allowed", f, q.Name)
	}
	h := r.Host
	switch h.Kind {
	case policy.AnyHost:
	case policy.AddressHost:
		switch {
		case !addr.IsValid() && !cc.netInfo(f).sum.Covers:
			add("the address of %s comes from DNS, and %s covers only some addresses (give it: %s %s ADDRESS:%d via %s)",
				q.Name, h, q.Op, q.Op.Protocol(), q.Port, q.Name)
		case addr.IsValid() && !h.MatchesAddr(addr):
			if h.Prefix.IsSingleIP() {
				add("address %s is not %s", addr, h)
			} else {
				add("address %s not in %s", addr, h)
			}
		}
	default:
		switch {
		case q.Name == "":
			add("%s is a bare address; the rule allows addresses resolved from %s", eval.AddrText(addr), h)
		case !h.MatchesName(q.Name):
			out = append(out, nameMiss(h, q.Name))
		case !policy.ResolvedFrom(q.Name, f, cc.name.maps, addr):
			out = append(out, cc.notResolvedFrom(f, addr))
		}
	}
	return out
}

// notResolvedFrom says why addr (or an address DNS gives) is not resolved
// from the request's name in family f.
func (cc *connectCtx) notResolvedFrom(f policy.Families, addr netip.Addr) string {
	n := cc.name
	i := famIndex(f)
	switch {
	case n.maps.Mapped() && !n.maps[i].IsValid():
		return n.mappedElsewhere(f)
	case n.maps.Mapped():
		return fmt.Sprintf("%s resolves to %s (mapped by rule %d), not %s", n.name, n.maps[i], n.mapRules[i].Index+1, addrOr(addr, "an address from DNS"))
	case n.name == "localhost":
		return fmt.Sprintf("localhost resolves to loopback addresses, not %s", addrOr(addr, "an address from DNS"))
	}
	return fmt.Sprintf("%s is not resolved from %s", addrOr(addr, "the address"), n.name)
}

func addrOr(a netip.Addr, none string) string {
	if a.IsValid() {
		return a.String()
	}
	return none
}

// notes adds what else bears on a connect or send.
func (cc *connectCtx) notes(x *Explanation) {
	q := cc.q
	d := x.Decision
	for i, a := range cc.addr {
		if a.IsValid() && policy.IsUnspecifiedDestination(a) && (q.Addr.IsValid() || cc.name.lk[i].ok) {
			x.Notes = append(x.Notes, fmt.Sprintf("%s is an unspecified address (0.0.0.0/8 or [::]): on Linux a connect or send to it reaches the host itself, so it is denied whatever the rules say", eval.AddrText(a)))
			break
		}
	}
	if d.Allowed && !q.Addr.IsValid() {
		for i, f := range families {
			if cc.nets[i] == nil || !cc.nets[i].sum.Covers || !d.Families.Has(f) {
				continue
			}
			var nets []string
			for _, m := range x.Allowing {
				if h := m.Rule.Host; h.Kind == policy.AddressHost && h.Prefix.Bits() != 0 && m.Families.Has(f) {
					nets = append(nets, fmt.Sprint(m.Rule.Index+1))
				}
			}
			if len(nets) > 0 {
				x.Notes = append(x.Notes, fmt.Sprintf("the address DNS gives for %s is not known; the networks of rules %s together cover every %s address", q.Name, strings.Join(nets, ", "), f))
			}
		}
		if d.HostPort == 0 && !d.HostAddr.IsValid() {
			x.Notes = append(x.Notes, fmt.Sprintf("the host port depends on the address DNS gives: networks map port %d for some addresses (or differently); give the address (via %s) to know it", q.Port, q.Name))
		}
	}
	if d.Allowed {
		return
	}
	if len(cc.e.first[1]) == 0 {
		x.Notes = append(x.Notes, "the policy has no --allow-outbound rules")
	}
	if q.Addr.IsValid() && q.Name == "" && !policy.IsUnspecifiedDestination(q.Addr) && len(cc.e.out.exact)+len(cc.e.out.wild) > 0 {
		x.Notes = append(x.Notes, fmt.Sprintf("%s is a bare address: rules to names allow only addresses resolved from a matching name (write via NAME, or record the lookup)", eval.AddrText(q.Addr)))
	}
}

// explainListen explains a listen or bind.
func (e *Explainer) explainListen(x *Explanation) {
	q := x.Request
	lc := &listenCtx{q: q, e: e}
	var c cands
	if e.everyRule {
		c.add(e.p.OfKind(ast.Inbound), true)
	}
	c.add(e.in.any, true)
	lc.fams = families[:]
	if q.Local == eval.LocalAddr {
		lc.fams = []policy.Families{policy.FamilyOf(q.Addr)}
	}
	for _, f := range lc.fams {
		local, addr := lc.local(f)
		switch local {
		case eval.LocalAddr:
			c.add(e.in.addr[addr], true)
			for _, o := range e.ifaces.Owners(addr) {
				c.add(e.in.iface[o], true)
			}
			if policy.IsLoopback(addr) {
				c.add(e.in.localhost, true)
			}
		case eval.LocalInterface:
			c.add(e.in.iface[q.Name], true)
			if e.ifaces.IsLoopback(q.Name) {
				c.add(e.in.localhost, true)
			}
		}
	}
	hits := len(c.rules)
	var v verdict
	for _, f := range lc.fams {
		i := famIndex(f)
		var pk policy.Pick
		for _, r := range c.rules[:hits] {
			if len(lc.reasons(r, f)) == 0 {
				pk.Add(r)
				v.allowBy(r, f)
			}
		}
		w := pk.Winner()
		if w == nil {
			continue
		}
		v.allowed[i], v.winner[i], v.port[i] = true, w, w.HostPort(q.Port)
		if local, addr := lc.local(f); local == eval.LocalAddr || local == eval.LocalAny && addr.IsValid() {
			v.host[i] = addr
		}
	}
	c.add(e.first[2], false)
	e.finish(x, &v, &c, lc.fams, lc.reasons)
	if !x.Decision.Allowed && len(e.first[2]) == 0 {
		x.Notes = append(x.Notes, "the policy has no --allow-inbound rules")
	}
}

// listenCtx is what bears on a listen or bind.
type listenCtx struct {
	q    eval.Request
	fams []policy.Families
	e    *Explainer
}

// local returns the local side in family f: an address (localhost is its
// loopback address), an interface, or every interface ("*", and 0.0.0.0
// and [::] with their address kept).
func (lc *listenCtx) local(f policy.Families) (eval.LocalKind, netip.Addr) {
	switch q := lc.q; {
	case q.Local == eval.LocalAddr && q.Addr.IsUnspecified():
		return eval.LocalAny, q.Addr
	case q.Local == eval.LocalLocalhost:
		return eval.LocalAddr, policy.LoopbackAddr(f)
	default:
		return q.Local, q.Addr
	}
}

// reasons says why inbound rule r does not allow the listen or bind in
// family f (nothing: it does).
func (lc *listenCtx) reasons(r *policy.Rule, f policy.Families) []string {
	q := lc.q
	var out []string
	add := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	if proto := q.Op.Protocol(); r.Protocol != proto {
		add("protocol %s, but the rule is %s", proto, r.Protocol)
	}
	if !r.Ports.Contains(q.Port) {
		if q.Port == 0 {
			add("port 0 (chosen by the system) not in %s", r.Ports.Spell(false))
		} else {
			add("port %d not in %s", q.Port, r.Ports.Spell(false))
		}
	}
	if !r.Families.Has(f) {
		noun := "address"
		if q.Local != eval.LocalAddr {
			noun = "listen"
		}
		out = append(out, familyMiss(r, f, noun))
		if r.Host.Kind == policy.AddressHost {
			return out
		}
	}
	h := r.Host
	local, addr := lc.local(f)
	ifaces := lc.e.ifaces
	switch {
	case local == eval.LocalAny:
		if h.Kind == policy.AnyHost {
			break
		}
		if addr.IsValid() {
			add("%s is every %s interface: it needs a * rule (or %s); this rule is for %s", eval.AddrText(addr), policy.FamilyOf(addr), eval.AddrText(addr), h)
		} else {
			add("listening on * (every interface) needs a * rule; this rule is for %s", h)
		}
	case local == eval.LocalInterface:
		if h.MatchesInterface(q.Name, ifaces.IsLoopback(q.Name)) {
			break
		}
		switch h.Kind {
		case policy.InterfaceHost:
			add("interface %s is not %s", q.Name, h.Name)
		case policy.LocalhostHost:
			add("interface %s is not a loopback interface", q.Name)
		default:
			add("the rule is for the address %s, not an interface", h)
		}
	case !h.MatchesLocalAddr(addr, ifaces.Owners(addr)):
		switch h.Kind {
		case policy.AddressHost:
			add("address %s is not %s", addr, h)
		case policy.LocalhostHost:
			add("%s is not a loopback address (localhost is 127.0.0.0/8 and ::1)", addr)
		case policy.InterfaceHost:
			if !ifaces.Has(h.Name) {
				add("%s is not an address of %s (%s is not in the interface table)", addr, h.Name, h.Name)
			} else {
				add("%s is not an address of %s (%s has %s)", addr, h.Name, h.Name, addrList(ifaces.Addrs(h.Name)))
			}
		}
	}
	return out
}

// familyMiss says that a rule is not for family f; noun names what is
// asked ("address", "lookup", "connection", "listen").
func familyMiss(r *policy.Rule, f policy.Families, noun string) string {
	switch {
	case r.Host.Kind == policy.AddressHost:
		return fmt.Sprintf("%s %s but the rule is for the %s %s %s", f, noun, policy.FamilyOf(r.Host.Prefix.Addr()), hostNoun(r.Host), r.Host)
	case r.HostMap.IsValid():
		return fmt.Sprintf("%s %s but %s is mapped to the %s address %s", f, noun, r.Host.Name, policy.FamilyOf(r.HostMap), r.HostMap)
	case r.Source != nil && r.Source.Host != nil && r.Source.Host.Addr.IsUnspecified():
		return fmt.Sprintf("%s %s but the rule's %s means %s", f, noun, r.Source.Host.Raw, "*"+r.Families.Modifier())
	}
	return fmt.Sprintf("%s %s but rule is %s", f, noun, r.Families.Modifier())
}

// hostNoun names an address host: "address" or "network".
func hostNoun(h policy.Host) string {
	if h.Prefix.IsSingleIP() {
		return "address"
	}
	return "network"
}

// nameMiss says why a name host does not match name.
func nameMiss(h policy.Host, name string) string {
	switch h.Kind {
	case policy.WildcardHost:
		switch {
		case name == h.Name:
			return fmt.Sprintf("name %s: *.%s does not cover its apex", name, name)
		case strings.HasSuffix(name, h.Name):
			return fmt.Sprintf("name %s is not below %s (a wildcard matches whole labels)", name, h.Name)
		}
		return fmt.Sprintf("name %s is not below %s", name, h.Name)
	case policy.NameHost, policy.LocalhostHost:
		if policy.UnderDomain(name, h.Name) {
			return fmt.Sprintf("name %s is not %s (a subdomain needs *.%s)", name, h.Name, h.Name)
		}
		return fmt.Sprintf("name %s is not %s", name, h.Name)
	}
	return fmt.Sprintf("name %s does not match %s", name, h)
}

func addrList(as []netip.Addr) string {
	if len(as) == 0 {
		return "no address"
	}
	ss := make([]string, len(as))
	for i, a := range as {
		ss[i] = a.String()
	}
	return strings.Join(ss, ", ")
}

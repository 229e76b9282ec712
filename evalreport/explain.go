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

	res, out nameBuckets                     // resolve rules (explicit and implied); outbound rules to "*" and names
	nets     map[netip.Prefix][]*policy.Rule // outbound networks, by prefix
	netBits  [2][]int                        // the prefix lengths of nets, per family
	addrNets [2][2][]*policy.Rule            // outbound networks per protocol and family
	in       inBuckets                       // inbound rules
	first    [3][]*policy.Rule               // the first rules of each kind (resolve: Policy.Resolves)
	pool     sync.Pool                       // of *scratch
	mu       sync.Mutex                      // guards memo
	memo     map[netKey]*netInfo             // network summaries by protocol, family and port

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
// match the request, among which every rule allowing it) and near misses,
// each with what its reasons came to in each family (counted once). Rules
// in one list are of one kind, so their indexes differ; pos and stamp find
// a rule's place by its index without a map.
type cands struct {
	list  []cand
	pos   []int32  // by rule index: the rule's place in list, when stamp is gen
	stamp []uint32 // by rule index
	gen   uint32
	w     why // scratch for counting
}

type cand struct {
	r     *policy.Rule
	about bool // about the request's host (a hit or related), not only a first rule of its kind
	why   [2]count
}

// count is what a rule's reasons in one family came to.
type count struct {
	known bool
	n     int
	proto bool
}

// reset empties the list for a policy of n rules.
func (c *cands) reset(n int) {
	c.list = c.list[:0]
	if len(c.stamp) != n {
		c.pos, c.stamp, c.gen = make([]int32, n), make([]uint32, n), 0
	}
	if c.gen++; c.gen == 0 {
		clear(c.stamp)
		c.gen = 1
	}
}

// add adds rules not yet there; about marks them (or those already there).
func (c *cands) add(rs []*policy.Rule, about bool) {
	for _, r := range rs {
		c.addCand(cand{r: r, about: about})
	}
}

// addCand adds one candidate, or marks it about when it is there.
func (c *cands) addCand(x cand) {
	if i := c.find(x.r); i >= 0 {
		c.list[i].about = c.list[i].about || x.about
		return
	}
	c.list = append(c.list, x)
	if i := x.r.Index; i >= 0 && i < len(c.stamp) && c.stamp[i] != c.gen {
		c.stamp[i], c.pos[i] = c.gen, int32(len(c.list)-1)
	}
}

// find returns the index of r in the list, or -1.
func (c *cands) find(r *policy.Rule) int {
	if i := r.Index; i >= 0 && i < len(c.stamp) {
		if c.stamp[i] != c.gen {
			return -1
		}
		if j := c.pos[i]; c.list[j].r == r {
			return int(j)
		}
	}
	for j, x := range c.list { // a rule made by hand, its index taken
		if x.r == r {
			return j
		}
	}
	return -1
}

// count returns what the reasons of candidate i in family f come to.
func (c *cands) count(i int, f policy.Families, reasons reasonsFunc) count {
	k := &c.list[i].why[famIndex(f)]
	if !k.known {
		c.w = why{}
		reasons(c.list[i].r, f, &c.w)
		*k = count{known: true, n: c.w.n, proto: c.w.proto}
	}
	return *k
}

// allows reports whether candidate i allows the request in family f.
func (c *cands) allows(i int, f policy.Families, reasons reasonsFunc) bool {
	return c.count(i, f, reasons).n == 0
}

// scratch is the memory one explanation works in, reused from a pool so
// that explaining does not allocate per rule looked at.
type scratch struct {
	c, allow, names cands
	fams            []policy.Families
	name            nameInfo
	misses          []miss
}

// miss is a rule that misses, ranked.
type miss struct {
	r      *policy.Rule
	about  bool
	f      policy.Families
	weight int
}

func (e *Explainer) getScratch() *scratch {
	s, _ := e.pool.Get().(*scratch)
	if s == nil {
		s = &scratch{}
	}
	n := len(e.p.Rules)
	s.c.reset(n)
	s.allow.reset(n)
	s.names.reset(n)
	s.fams = s.fams[:0]
	s.misses = s.misses[:0]
	return s
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
func (e *Explainer) nameOf(name string, s *scratch) *nameInfo {
	n := &s.name
	*n = nameInfo{name: name, cands: s.names}
	if e.everyRule {
		n.cands.add(e.p.Resolves, true)
	}
	e.res.hits(name, &n.cands)
	for _, c := range n.cands.list {
		for i, f := range families {
			if c.r.MapsName(name, f) && policy.BetterHostMap(c.r, n.mapRules[i]) {
				n.mapRules[i] = c.r
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
		for j, c := range n.cands.list {
			if n.cands.allows(j, f, n.resolveReasons) && (first == nil || c.r.Index < first.Index) {
				first = c.r
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
	s.names = n.cands // its list may have grown
	return n
}

// resolveReasons says why resolve rule r does not allow the lookup of the
// name in family f (nothing: it does).
func (n *nameInfo) resolveReasons(r *policy.Rule, f policy.Families, w *why) {
	if !r.Families.Has(f) && w.miss() {
		w.says(familyMiss(r, f, "lookup"))
	}
	if !r.Host.MatchesName(n.name) && w.miss() {
		w.says(nameMiss(r.Host, n.name))
	}
	if w.n == 0 && n.maps.Mapped() && !n.maps.In(f).IsValid() && w.miss() {
		w.says(n.mappedElsewhere(f))
	}
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
	if nq.Op == eval.Lookup && nq.Addr.IsValid() {
		x.Decision = literalLookup(nq)
		x.Notes = append(x.Notes, "a lookup of an IP literal sends no query and needs no permission")
		return x
	}
	s := e.getScratch()
	defer e.pool.Put(s)
	switch nq.Op {
	case eval.Lookup:
		e.explainLookup(&x, s)
	case eval.Connect, eval.Send:
		e.explainConnect(&x, s)
	default:
		e.explainListen(&x, s)
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
	allow   *cands // the rules allowing
	fams    []policy.Families
}

func newVerdict(s *scratch) verdict { return verdict{allow: &s.allow, fams: s.fams} }

// allowBy records that r allows the request in f.
func (v *verdict) allowBy(r *policy.Rule, f policy.Families) {
	i := v.allow.find(r)
	if i < 0 {
		v.allow.addCand(cand{r: r})
		v.fams = append(v.fams, 0)
		i = len(v.fams) - 1
	}
	v.fams[i] |= f
}

// reasonsFunc says why a rule does not allow a request in a family.
type reasonsFunc func(r *policy.Rule, f policy.Families, w *why)

// why collects the reasons a rule misses a request: each one counted, and
// written out only when say is set, since ranking the misses needs the
// count alone and only the nearest are shown.
type why struct {
	say   bool
	n     int
	proto bool // one of the reasons is the protocol
	text  []string
}

// miss counts one more reason and reports whether to write it.
func (w *why) miss() bool {
	w.n++
	return w.say
}

func (w *why) sayf(format string, args ...any) { w.text = append(w.text, fmt.Sprintf(format, args...)) }

func (w *why) says(s string) { w.text = append(w.text, s) }

// finish makes the decision and the lists of an explanation from the
// verdict: the first family allowed decides the rule and the host side;
// the rules allowing are listed, the others of cands ranked as misses.
func (e *Explainer) finish(x *Explanation, v *verdict, c *cands, fams []policy.Families, reasons reasonsFunc, s *scratch) {
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
	for i, a := range v.allow.list {
		x.Allowing = append(x.Allowing, Match{Rule: a.r, Families: v.fams[i], Decides: a.r == decider})
	}
	slices.SortFunc(x.Allowing, func(a, b Match) int { return cmp.Compare(a.Rule.Index, b.Rule.Index) })
	if d.Allowed {
		return
	}
	// Rank the misses by their reasons in the family they come closest in,
	// then write out the reasons of the nearest.
	misses := s.misses[:0]
	defer func() { s.misses = misses }()
	for i, cd := range c.list {
		best := miss{r: cd.r, about: cd.about, weight: -1}
		for _, f := range fams {
			// Fewer reasons first; a miss by protocol alone after a miss
			// by one other reason.
			k := c.count(i, f, reasons)
			if wt := 2*k.n + btoi(k.proto); k.n > 0 && (best.weight < 0 || wt < best.weight) {
				best.f, best.weight = f, wt
			}
		}
		if best.weight >= 0 {
			misses = append(misses, best)
		}
	}
	slices.SortStableFunc(misses, func(a, b miss) int {
		return cmp.Or(cmp.Compare(a.weight, b.weight), -cmp.Compare(btoi(a.about), btoi(b.about)), cmp.Compare(a.r.Index, b.r.Index))
	})
	for _, m := range misses[:min(len(misses), maxNearest)] {
		w := why{say: true}
		reasons(m.r, m.f, &w)
		x.Nearest = append(x.Nearest, Miss{Rule: m.r, Reasons: w.text})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// explainLookup explains a lookup of a name.
func (e *Explainer) explainLookup(x *Explanation, s *scratch) {
	q := x.Request
	n := e.nameOf(q.Name, s)
	fams := requested(q.Family)
	v := newVerdict(s)
	for _, f := range fams {
		i := famIndex(f)
		for j, c := range n.cands.list {
			if n.cands.allows(j, f, n.resolveReasons) {
				v.allowBy(c.r, f)
			}
		}
		if lk := n.lk[i]; lk.ok {
			v.allowed[i], v.winner[i], v.answer[i] = true, lk.rule, lk.answer
		}
	}
	c := &s.c
	for _, cd := range n.cands.list {
		c.addCand(cd)
	}
	e.res.related(q.Name, c)
	c.add(e.first[0], false)
	e.finish(x, &v, c, fams, n.resolveReasons, s)
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
	q    eval.Request
	name *nameInfo         // the name resolved from (nil: a bare address)
	addr [2]netip.Addr     // the address in each family (the zero Addr: unknown, from DNS)
	nets [2]*netInfo       // for an unknown address: the networks allowing the port
	fams []policy.Families // the families examined
	e    *Explainer
}

// explainConnect explains a connect or send.
func (e *Explainer) explainConnect(x *Explanation, s *scratch) {
	q := x.Request
	cc := &connectCtx{q: q, e: e}
	c := &s.c
	if e.everyRule {
		c.add(e.p.OfKind(ast.Outbound), true)
	}
	c.add(e.out.any, true)
	if q.Name != "" {
		cc.name = e.nameOf(q.Name, s)
		e.out.hits(q.Name, c)
		e.out.related(q.Name, c)
	}
	switch {
	case q.Addr.IsValid():
		f := policy.FamilyOf(q.Addr)
		cc.fams = []policy.Families{f}
		cc.addr[famIndex(f)] = q.Addr
		e.netsContaining(q.Addr, c)
	default:
		for i, f := range families {
			lk := cc.name.lk[i]
			if !lk.ok {
				continue
			}
			cc.fams = append(cc.fams, f)
			if lk.answer.IsValid() {
				cc.addr[i] = lk.answer
				e.netsContaining(lk.answer, c)
				x.Notes = append(x.Notes, fmt.Sprintf("the %s lookup of %s answers %s without DNS", f, q.Name, lk.answer))
			}
		}
		if len(cc.fams) == 0 {
			x.Notes = append(x.Notes, fmt.Sprintf("a connect to %s needs its lookup, and no resolve rule (explicit, or implied by an outbound rule to a name) allows the lookup of %s", q.Name, q.Name))
			cc.fams = families[:]
		}
	}
	hits := len(c.list)
	v := newVerdict(s)
	for _, f := range cc.fams {
		i := famIndex(f)
		if !q.Addr.IsValid() && !cc.name.lk[i].ok {
			continue
		}
		if a := cc.addr[i]; a.IsValid() {
			var pk policy.Pick
			for j, cd := range c.list[:hits] {
				if c.allows(j, f, cc.reasons) {
					pk.Add(cd.r)
					v.allowBy(cd.r, f)
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
		for j, cd := range c.list[:hits] {
			if cd.r.Host.Kind != policy.AddressHost && c.allows(j, f, cc.reasons) {
				whole.Add(cd.r)
				v.allowBy(cd.r, f)
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
	e.finish(x, &v, c, cc.fams, cc.reasons, s)
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
func (cc *connectCtx) reasons(r *policy.Rule, f policy.Families, w *why) {
	q := cc.q
	if proto := q.Op.Protocol(); r.Protocol != proto {
		w.proto = true
		if w.miss() {
			w.sayf("protocol %s, but the rule is %s", proto, r.Protocol)
		}
	}
	if !r.Ports.Contains(q.Port) && w.miss() {
		w.sayf("port %d not in %s", q.Port, r.Ports.Spell(true))
	}
	if !r.Families.Has(f) {
		if w.miss() {
			noun := "address"
			if !q.Addr.IsValid() {
				noun = "connection"
			}
			w.says(familyMiss(r, f, noun))
		}
		if r.Host.Kind == policy.AddressHost {
			return
		}
	}
	i := famIndex(f)
	addr := cc.addr[i]
	if addr.IsValid() && policy.IsUnspecifiedDestination(addr) {
		// Whatever the host: nothing else about it matters.
		if w.miss() {
			w.sayf("%s is an unspecified address (denied whatever the rules say)", eval.AddrText(addr))
		}
		return
	}
	lookupOK := q.Addr.IsValid() || cc.name.lk[i].ok
	if !lookupOK && !r.Host.Kind.IsName() && w.miss() {
		w.sayf("the %s lookup of %s is not allowed", f, q.Name)
	}
	h := r.Host
	switch h.Kind {
	case policy.AnyHost:
	case policy.AddressHost:
		switch {
		case !addr.IsValid() && !cc.netInfo(f).sum.Covers:
			if w.miss() {
				w.sayf("the address of %s comes from DNS, and %s covers only some addresses (give it: %s %s ADDRESS:%d via %s)",
					q.Name, h, q.Op, q.Op.Protocol(), q.Port, q.Name)
			}
		case addr.IsValid() && !h.MatchesAddr(addr):
			if !w.miss() {
				break
			}
			if h.Prefix.IsSingleIP() {
				w.sayf("address %s is not %s", addr, h)
			} else {
				w.sayf("address %s not in %s", addr, h)
			}
		}
	default:
		switch {
		case q.Name == "":
			if w.miss() {
				w.sayf("%s is a bare address; the rule allows addresses resolved from %s", eval.AddrText(addr), h)
			}
		case !h.MatchesName(q.Name):
			if w.miss() {
				w.says(nameMiss(h, q.Name))
			}
		case !policy.ResolvedFrom(q.Name, f, cc.name.maps, addr):
			if w.miss() {
				w.says(cc.notResolvedFrom(f, addr))
			}
		}
	}
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
func (e *Explainer) explainListen(x *Explanation, s *scratch) {
	q := x.Request
	lc := &listenCtx{q: q, e: e}
	c := &s.c
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
	hits := len(c.list)
	v := newVerdict(s)
	for _, f := range lc.fams {
		i := famIndex(f)
		var pk policy.Pick
		for j, cd := range c.list[:hits] {
			if c.allows(j, f, lc.reasons) {
				pk.Add(cd.r)
				v.allowBy(cd.r, f)
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
	e.finish(x, &v, c, lc.fams, lc.reasons, s)
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
func (lc *listenCtx) reasons(r *policy.Rule, f policy.Families, w *why) {
	q := lc.q
	if proto := q.Op.Protocol(); r.Protocol != proto {
		w.proto = true
		if w.miss() {
			w.sayf("protocol %s, but the rule is %s", proto, r.Protocol)
		}
	}
	if !r.Ports.Contains(q.Port) && w.miss() {
		if q.Port == 0 {
			w.sayf("port 0 (chosen by the system) not in %s", r.Ports.Spell(false))
		} else {
			w.sayf("port %d not in %s", q.Port, r.Ports.Spell(false))
		}
	}
	if !r.Families.Has(f) {
		if w.miss() {
			noun := "address"
			if q.Local != eval.LocalAddr {
				noun = "listen"
			}
			w.says(familyMiss(r, f, noun))
		}
		if r.Host.Kind == policy.AddressHost {
			return
		}
	}
	h := r.Host
	local, addr := lc.local(f)
	ifaces := lc.e.ifaces
	switch {
	case local == eval.LocalAny:
		if h.Kind == policy.AnyHost || !w.miss() {
			break
		}
		if addr.IsValid() {
			w.sayf("%s is every %s interface: it needs a * rule (or %s); this rule is for %s", eval.AddrText(addr), policy.FamilyOf(addr), eval.AddrText(addr), h)
		} else {
			w.sayf("listening on * (every interface) needs a * rule; this rule is for %s", h)
		}
	case local == eval.LocalInterface:
		if h.MatchesInterface(q.Name, ifaces.IsLoopback(q.Name)) || !w.miss() {
			break
		}
		switch h.Kind {
		case policy.InterfaceHost:
			w.sayf("interface %s is not %s", q.Name, h.Name)
		case policy.LocalhostHost:
			w.sayf("interface %s is not a loopback interface", q.Name)
		default:
			w.sayf("the rule is for the address %s, not an interface", h)
		}
	case !h.MatchesLocalAddr(addr, ifaces.Owners(addr)):
		if !w.miss() {
			break
		}
		switch h.Kind {
		case policy.AddressHost:
			w.sayf("address %s is not %s", addr, h)
		case policy.LocalhostHost:
			w.sayf("%s is not a loopback address (localhost is 127.0.0.0/8 and ::1)", addr)
		case policy.InterfaceHost:
			if !ifaces.Has(h.Name) {
				w.sayf("%s is not an address of %s (%s is not in the interface table)", addr, h.Name, h.Name)
			} else {
				w.sayf("%s is not an address of %s (%s has %s)", addr, h.Name, h.Name, addrList(ifaces.Addrs(h.Name)))
			}
		}
	}
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

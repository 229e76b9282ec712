package evalreport

import (
	"net/netip"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

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
	s := e.spare.Swap(nil)
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

// hitsOfKind starts the candidates of an outbound or inbound request with
// the rules to "*" (every rule of the kind, for tests, with everyRule).
func (e *Explainer) hitsOfKind(s *scratch, k ast.Kind, any []*policy.Rule) *cands {
	c := &s.c
	if e.everyRule {
		c.add(e.p.OfKind(k), true)
	}
	c.add(any, true)
	return c
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

package explain

import (
	"strings"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/policy"
)

// Denial is one broad statement of what a policy does not allow.
type Denial struct {
	// Code identifies the statement for tools: "no_udp", "no_other_lookups".
	Code string
	// Text states it for people.
	Text string
}

// The denial codes.
const (
	DenyNothing          = "nothing_allowed"       // no rule at all
	DenySockets          = "no_sockets"            // lookups only: no connections, no listeners
	DenyLookups          = "no_lookups"            // no lookup is allowed
	DenyOtherLookups     = "no_other_lookups"      // lookups of names not listed
	DenyLookupFamily     = "no_lookup_family"      // no A, or no AAAA, lookups
	DenyApex             = "apex_excluded"         // *.x granted, x not
	DenyTCP              = "no_tcp"                // no TCP at all
	DenyUDP              = "no_udp"                // no UDP at all
	DenyOutbound         = "no_outbound"           // no outbound at all, or none of one protocol
	DenyOtherOutbound    = "no_other_outbound"     // outbound of a protocol limited
	DenyInbound          = "no_inbound"            // no listener at all, or none of one protocol
	DenyOtherInbound     = "no_other_inbound"      // listeners of a protocol limited
	DenyRemoteInbound    = "loopback_only_inbound" // listeners on loopback only
	DenyFamily           = "no_family"             // no IPv4, or no IPv6, connections and listeners
	DenyUnresolved       = "names_need_lookup"     // name rules reach only looked-up addresses
	DenyAnyAddressLookup = "any_address_no_lookup" // outbound * allows no lookup
)

// facts are what the denial rules look at, gathered from the grants.
type facts struct {
	lookups     []*policy.Rule
	out, in     map[ast.Protocol][]*policy.Rule
	anyLookup   policy.Families // families of "--allow-resolve=*"
	lookupFams  policy.Families
	connFams    policy.Families // families of outbound and inbound grants
	nameTargets []*policy.Rule  // outbound rules to names and wildcards (not localhost)
	anyOutbound []*policy.Rule  // outbound rules to every address
}

func gather(gs []Grant) *facts {
	f := &facts{out: map[ast.Protocol][]*policy.Rule{}, in: map[ast.Protocol][]*policy.Rule{}}
	for _, g := range gs {
		r := g.Rule
		switch r.Kind {
		case ast.Resolve:
			f.lookups = append(f.lookups, r)
			f.lookupFams |= r.Families
			if r.Host.Kind == policy.AnyHost {
				f.anyLookup |= r.Families
			}
		case ast.Outbound:
			f.out[r.Protocol] = append(f.out[r.Protocol], r)
			f.connFams |= r.Families
			switch {
			case r.Host.Kind == policy.NameHost && !r.HostMap.IsValid(), r.Host.Kind == policy.WildcardHost:
				f.nameTargets = append(f.nameTargets, r)
			case r.Host.Kind == policy.AnyHost:
				f.anyOutbound = append(f.anyOutbound, r)
			}
		case ast.Inbound:
			f.in[r.Protocol] = append(f.in[r.Protocol], r)
			f.connFams |= r.Families
		}
	}
	return f
}

// denied states in broad strokes what the grants leave out.
func denied(gs []Grant) []Denial {
	if len(gs) == 0 {
		return []Denial{{DenyNothing, "Nothing is allowed: no lookups, no outbound connections, no inbound listeners."}}
	}
	f := gather(gs)
	var out []Denial
	add := func(code, text string) { out = append(out, Denial{code, text}) }

	// Lookups.
	switch {
	case len(f.lookups) == 0:
		add(DenyLookups, "No DNS lookups: no name can be looked up (connections to IP addresses need none).")
	case f.anyLookup == policy.AllFamilies:
	case f.anyLookup == policy.IPv4:
		add(DenyOtherLookups, "Names not listed can be looked up for A records only (IPv4 addresses).")
	case f.anyLookup == policy.IPv6:
		add(DenyOtherLookups, "Names not listed can be looked up for AAAA records only (IPv6 addresses).")
	default:
		add(DenyOtherLookups, "No other names can be looked up.")
	}
	switch f.lookupFams {
	case policy.IPv4:
		add(DenyLookupFamily, "No AAAA lookups: no name resolves to an IPv6 address.")
	case policy.IPv6:
		add(DenyLookupFamily, "No A lookups: no name resolves to an IPv4 address.")
	}
	lookups := policy.NewIndex(f.lookups)
	for _, r := range f.lookups {
		if r.Host.Kind == policy.WildcardHost && !lookupGranted(f.lookups, lookups, r) {
			add(DenyApex, r.Host.Name+" itself cannot be looked up: *."+r.Host.Name+" covers only the names below it.")
		}
	}

	// Protocols and directions.
	noTCP := len(f.out[ast.TCP]) == 0 && len(f.in[ast.TCP]) == 0
	noUDP := len(f.out[ast.UDP]) == 0 && len(f.in[ast.UDP]) == 0
	switch {
	case noTCP && noUDP:
		add(DenySockets, "No outbound connections and no inbound listeners: the guest can only look names up.")
	case noTCP:
		add(DenyTCP, "No TCP at all: no TCP connections, no TCP listeners.")
	case noUDP:
		add(DenyUDP, "No UDP at all: no datagrams sent, no UDP sockets bound.")
	}
	if !noTCP || !noUDP {
		outboundDenials(f, noTCP, noUDP, add)
		inboundDenials(f, noTCP, noUDP, add)
		switch f.connFams {
		case policy.IPv4:
			add(DenyFamily, "No IPv6: every connection and listener is IPv4 only.")
		case policy.IPv6:
			add(DenyFamily, "No IPv4: every connection and listener is IPv6 only.")
		}
	}

	// Names and lookups.
	if len(f.nameTargets) > 0 {
		r := f.nameTargets[0]
		for _, t := range f.nameTargets {
			if t.Host.Kind == policy.NameHost {
				r = t
				break
			}
		}
		name := r.Host.Name
		if r.Host.Kind == policy.WildcardHost {
			name = "a." + name
		}
		add(DenyUnresolved, "Connections to names reach only addresses that an allowed lookup of that name returned: a hard-coded address of "+
			name+" is denied unless an address rule allows it.")
	}
	if len(f.anyOutbound) > 0 && f.anyLookup != policy.AllFamilies {
		text := "a host whose name no rule lets the guest look up is reachable by IP address only."
		if len(f.lookups) == 0 {
			text = "every host is reachable by IP address only."
		}
		add(DenyAnyAddressLookup, "Outbound "+f.anyOutbound[0].Spec()+" reaches any address but allows no lookup: "+text)
	}
	return out
}

func outboundDenials(f *facts, noTCP, noUDP bool, add func(code, text string)) {
	if len(f.out[ast.TCP]) == 0 && len(f.out[ast.UDP]) == 0 {
		add(DenyOutbound, "No outbound connections: the guest cannot connect or send to any address.")
		return
	}
	for _, p := range []ast.Protocol{ast.TCP, ast.UDP} {
		rs := f.out[p]
		byHost := policy.NewIndex(rs)
		for _, r := range rs {
			if r.Host.Kind == policy.WildcardHost && !outboundToName(rs, byHost, r) {
				add(DenyApex, strings.ToUpper(p.String())+" "+outNoun(p)+" to "+r.Host.Name+" itself are denied: *."+r.Host.Name+" covers only the names below it.")
			}
		}
		switch {
		case len(rs) == 0 && p == ast.TCP && !noTCP:
			add(DenyOutbound, "No outbound TCP connections.")
		case len(rs) == 0 && p == ast.UDP && !noUDP:
			add(DenyOutbound, "No outbound UDP datagrams.")
		case len(rs) > 0 && !allOf(rs, true):
			add(DenyOtherOutbound, "No "+strings.ToUpper(p.String())+" "+outNoun(p)+" to other addresses or ports.")
		}
	}
}

func inboundDenials(f *facts, noTCP, noUDP bool, add func(code, text string)) {
	if len(f.in[ast.TCP]) == 0 && len(f.in[ast.UDP]) == 0 {
		add(DenyInbound, "No inbound listeners: the guest cannot listen for TCP connections or bind UDP sockets.")
		return
	}
	loopOnly := true
	for _, p := range []ast.Protocol{ast.TCP, ast.UDP} {
		rs := f.in[p]
		for _, r := range rs {
			if !(r.Host.Kind == policy.LocalhostHost || r.Host.Kind == policy.AddressHost && policy.IsLoopback(r.Host.Prefix.Addr())) {
				loopOnly = false
			}
		}
		switch {
		case len(rs) == 0 && p == ast.TCP && !noTCP:
			add(DenyInbound, "No TCP listeners.")
		case len(rs) == 0 && p == ast.UDP && !noUDP:
			add(DenyInbound, "No UDP sockets bound for receiving.")
		case len(rs) > 0 && !allOf(rs, false):
			add(DenyOtherInbound, "No "+strings.ToUpper(p.String())+" "+inNoun(p)+" on other interfaces or ports.")
		}
	}
	if loopOnly {
		add(DenyRemoteInbound, "Listeners are on loopback only: other machines cannot reach them.")
	}
}

// allOf reports whether rules grant every address and port of a direction,
// in both families, without mapping.
func allOf(rs []*policy.Rule, outbound bool) bool {
	var fams policy.Families
	for _, r := range rs {
		if r.Host.Kind == policy.AnyHost && r.Ports.Equal(policy.AllPorts(outbound)) && !r.PortMap.IsMapped() {
			fams |= r.Families
		}
	}
	return fams == policy.AllFamilies
}

// apexOf returns a rule like the wildcard rule w for the apex of its
// domain: the name a policy.Index is asked about.
func apexOf(w *policy.Rule) *policy.Rule {
	apex := *w
	apex.Host = policy.Host{Kind: policy.NameHost, Name: w.Host.Name}
	return &apex
}

// lookupGranted reports whether a lookup grant matches the apex of the
// wildcard lookup w; byHost indexes lookups.
func lookupGranted(lookups []*policy.Rule, byHost *policy.Index, w *policy.Rule) bool {
	for _, i := range byHost.Covering(apexOf(w), nil) {
		if lookups[i].Host.MatchesName(w.Host.Name) {
			return true
		}
	}
	return false
}

// outNoun and inNoun name what a protocol does outbound and inbound.
func outNoun(p ast.Protocol) string {
	if p == ast.UDP {
		return "datagrams"
	}
	return "connections"
}

func inNoun(p ast.Protocol) string {
	if p == ast.UDP {
		return "binds"
	}
	return "listeners"
}

// outboundToName reports whether an outbound grant reaches the addresses
// resolved from the apex of the wildcard rule w: a name or wildcard rule
// matching it, or "*"; byHost indexes rs.
func outboundToName(rs []*policy.Rule, byHost *policy.Index, w *policy.Rule) bool {
	n := w.Host.Name
	for _, i := range byHost.Covering(apexOf(w), nil) {
		if r := rs[i]; (r.Host.Kind == policy.AnyHost || r.Host.Kind == policy.NameHost || r.Host.Kind == policy.WildcardHost) && r.Host.MatchesName(n) {
			return true
		}
	}
	return false
}

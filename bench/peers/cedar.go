package peers

import (
	"fmt"
	"strings"

	cedar "github.com/cedar-policy/cedar-go"

	"github.com/capspec/capspec/ast"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// The Cedar model. One principal (Guest::"guest"), one resource
// (Host::"host"); the action is the request's operation (Action::"lookup",
// "connect", "send", "listen", "bind"); everything else is in the context:
//
//	family   "ipv4" or "ipv6": the family asked about
//	name     String: the name looked up, connected to or connected via
//	addr     ipaddr: the remote address of a connect or send (absent when
//	         DNS gives it), the local address of a listen or bind
//	port     Long
//	local    "addr", "any" or "iface": what a listen or bind is on
//	iface    String: the interface of a listen or bind on one
//	loopback Bool: the local address or interface is loopback
//	owners   Set<String>: the interfaces owning the local address
//
// Each compiled rule is one permit policy (an outbound rule to a name or a
// wildcard also gives the permit of the lookup it implies, SPEC §3.4); one
// forbid policy denies connects and sends to unspecified addresses. A
// wildcard "*.d" is `context.name like "*.d"`, exact for normalized names
// ("*" matches one or more whole labels, never the apex); a network is
// `context.addr.isInRange(ip("10.0.0.0/8"))`; ports are comparisons of
// context.port. cedar-go evaluates every policy of the set for each
// question (it has no index).

// Cedar decides with cedar-go.
type Cedar struct {
	ps     *cedar.PolicySet
	ifaces *eval.Interfaces
	text   string
}

// CedarPolicies writes the Cedar policies of a compiled policy.
func CedarPolicies(p *policy.Policy) (string, error) {
	if err := checkModel(p); err != nil {
		return "", err
	}
	var b strings.Builder
	permit := func(action string, conds ...string) {
		var cs []string
		for _, c := range conds {
			if c != "" {
				cs = append(cs, c)
			}
		}
		if len(cs) == 0 {
			cs = []string{"true"}
		}
		fmt.Fprintf(&b, "permit (principal, action == Action::%q, resource) when { %s };\n", action, strings.Join(cs, " && "))
	}
	for _, r := range p.Resolves {
		permit("lookup", cedarFamily(r.Families), cedarName(r.Host))
	}
	for _, r := range p.Rules {
		switch r.Kind {
		case ast.Outbound:
			var host string
			switch r.Host.Kind {
			case policy.AnyHost:
			case policy.AddressHost:
				host = fmt.Sprintf(`context has addr && context.addr.isInRange(ip("%s"))`, r.Host.Prefix.Masked())
			case policy.LocalhostHost:
				// Resolved from localhost: a loopback address.
				host = `context has name && context.name == "localhost" && context has addr && context.addr.isLoopback()`
			default:
				host = "context has name && " + cedarName(r.Host)
			}
			permit(ruleOp(r).String(), cedarFamily(r.Families), cedarPorts(r.Ports), host)
		case ast.Inbound:
			var host string
			switch r.Host.Kind {
			case policy.AnyHost:
			case policy.AddressHost:
				host = fmt.Sprintf(`context.local == "addr" && context.addr == ip("%s")`, r.Host.Prefix.Addr())
			case policy.LocalhostHost:
				host = `(context.local == "addr" || context.local == "iface") && context.loopback`
			case policy.InterfaceHost:
				host = fmt.Sprintf(`((context.local == "addr" && context.owners.contains(%[1]s)) || (context.local == "iface" && context.iface == %[1]s))`, quoteCedar(r.Host.Name))
			}
			permit(ruleOp(r).String(), cedarFamily(r.Families), cedarPorts(r.Ports), host)
		}
	}
	b.WriteString(`forbid (principal, action in [Action::"connect", Action::"send"], resource) when { context has addr && (context.addr.isInRange(ip("0.0.0.0/8")) || context.addr == ip("::")) };` + "\n")
	return b.String(), nil
}

// ruleOp returns the operation an outbound or inbound rule allows.
func ruleOp(r *policy.Rule) eval.Op {
	switch {
	case r.Kind == ast.Outbound && r.Protocol == ast.UDP:
		return eval.Send
	case r.Kind == ast.Outbound:
		return eval.Connect
	case r.Protocol == ast.UDP:
		return eval.Bind
	}
	return eval.Listen
}

// cedarFamily is the condition of a rule's families ("" for both).
func cedarFamily(fs policy.Families) string {
	if fs == policy.AllFamilies {
		return ""
	}
	return fmt.Sprintf("context.family == %q", famName(fs))
}

// cedarName is the condition of a name host on context.name.
func cedarName(h policy.Host) string {
	switch h.Kind {
	case policy.AnyHost:
		return ""
	case policy.WildcardHost:
		return "context.name like " + likeBelow(h.Name)
	}
	return "context.name == " + quoteCedar(h.Name)
}

// cedarPorts is the condition of a rule's ports.
func cedarPorts(ps policy.PortSet) string {
	var cs []string
	for _, r := range ps {
		if r.Lo == r.Hi {
			cs = append(cs, fmt.Sprintf("context.port == %d", r.Lo))
		} else {
			cs = append(cs, fmt.Sprintf("(context.port >= %d && context.port <= %d)", r.Lo, r.Hi))
		}
	}
	return "(" + strings.Join(cs, " || ") + ")"
}

// NewCedar translates a compiled policy to Cedar and parses it.
func NewCedar(p *policy.Policy, ifaces *eval.Interfaces) (*Cedar, error) {
	text, err := CedarPolicies(p)
	if err != nil {
		return nil, err
	}
	ps, err := cedar.NewPolicySetFromBytes("mix.cedar", []byte(text))
	if err != nil {
		return nil, err
	}
	return &Cedar{ps: ps, ifaces: ifaces, text: text}, nil
}

var (
	cedarGuest = cedar.NewEntityUID("Guest", "guest")
	cedarHost  = cedar.NewEntityUID("Host", "host")
)

// Decide asks cedar-go a question per family.
func (c *Cedar) Decide(q eval.Request) Verdict {
	return askPerFamily(q, c.ifaces, c.ask)
}

func (c *Cedar) ask(q *question) bool {
	ctx := cedar.RecordMap{
		"family": cedar.String(famName(q.family)),
		"port":   cedar.Long(q.port),
	}
	if q.name != "" {
		ctx["name"] = cedar.String(q.name)
	}
	if q.addr.IsValid() {
		ctx["addr"] = cedar.IPAddr(netipPrefix(q.addr))
	}
	if q.local != "" {
		ctx["local"] = cedar.String(q.local)
		ctx["iface"] = cedar.String(q.iface)
		ctx["loopback"] = cedar.Boolean(q.loopback)
		owners := make([]cedar.Value, len(q.owners))
		for i, o := range q.owners {
			owners[i] = cedar.String(o)
		}
		ctx["owners"] = cedar.NewSet(owners...)
	}
	req := cedar.Request{
		Principal: cedarGuest,
		Action:    cedar.NewEntityUID("Action", cedar.String(q.op.String())),
		Resource:  cedarHost,
		Context:   cedar.NewRecord(ctx),
	}
	d, _ := cedar.Authorize(c.ps, cedar.EntityMap{}, req)
	return d == cedar.Allow
}

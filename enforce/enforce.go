// Package enforce applies a capspec policy to real sockets (SPEC §9): an
// Enforcer dials by name and by address (TCP connects, UDP sends), listens
// and binds, and resolves names, deciding every request through the
// compiled index (eval.NewIndex) and the lookup tracker (eval.Tracker)
// exactly as eval decides it:
//
//   - a lookup is decided as "lookup NAME"; a mapped name (and localhost)
//     is answered without a DNS query; DNS answers are filtered to the
//     allowed families and remembered for their TTL, so that a later
//     connect to one of them counts as resolved from the name;
//   - a connect by name resolves as above and tries each allowed address;
//     a connect by address is decided as "connect tcp ADDR:PORT" (address
//     and network rules, or a remembered lookup that gave ADDR);
//   - the address the socket finally connects to is decided again in the
//     dialer's Control hook, just before the connect, so a DNS answer that
//     changes between the check and the use (rebinding) gains nothing;
//   - host and port mappings apply: a connect to my-database.internal:5432
//     goes to 172.17.0.14:5433, a listen on port 80 listens on 8888;
//   - a denial is a *DeniedError carrying the request and the decision.
//
// An Enforcer is safe for concurrent use; SetPolicy replaces its policy
// for every later request (what is open stays open).
package enforce

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/evalreport"
	"github.com/capspec/capspec/policy"
)

// DNS answers the lookups a policy allows. *net.Resolver is a DNS (point
// its Dial at a server of your own to choose where queries go).
type DNS interface {
	// LookupNetIP looks up host ("ip", "ip4" or "ip6" for network).
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// TTLDNS is a DNS that also says how long its answers hold (the smallest
// TTL of the records). Its answers are remembered for that long; the
// answers of a DNS without TTLs (such as *net.Resolver) for the tracker's
// DefaultTTL.
type TTLDNS interface {
	DNS
	LookupNetIPTTL(ctx context.Context, network, host string) ([]netip.Addr, time.Duration, error)
}

// Options configure an Enforcer. The zero value is usable.
type Options struct {
	// Interfaces is the interface table listens and binds are decided
	// with (which interface owns which address). Nil: the running
	// machine's, read once by New (eval.SystemInterfaces).
	Interfaces *eval.Interfaces
	// DNS answers lookups. Nil: net.DefaultResolver.
	DNS DNS
	// Tracker bounds what is remembered of lookups (eval.TrackerOptions;
	// a zero field takes its default).
	Tracker eval.TrackerOptions
	// Dialer is the dialer connects and sends are made with (timeouts,
	// keep-alive, local address). Its Control or ControlContext hook, if
	// any, runs after the enforcer's own. Nil: a zero net.Dialer.
	Dialer *net.Dialer
	// ListenConfig is what listens and binds are made with. Nil: a zero
	// net.ListenConfig.
	ListenConfig *net.ListenConfig
	// Observe, when set, is called once for every decision, after the
	// operation it decided was attempted, with the context of the call
	// (for a proxy, to know its client). It must be safe for concurrent
	// use and should return quickly.
	Observe func(ctx context.Context, ev Event)
}

// Event is one decision of an Enforcer, reported to Options.Observe.
type Event struct {
	// Request is the request as decided: normalized, with the name a bare
	// address was resolved from (a remembered lookup) as its via name.
	Request eval.Request
	// Decision is the decision on it.
	Decision eval.Decision
	// Policy is the policy that decided: Policy.Rule(Decision.Rule) is
	// the deciding rule (nil when none).
	Policy *policy.Policy
	// ByAddress is true for a connect or send the program asked for by
	// address (not by name): Request.Name, if set, is then the name a
	// remembered lookup gave the address for.
	ByAddress bool
	// Answers are, for an allowed lookup, the addresses given.
	Answers []netip.Addr
	// Host is, for an allowed connect, send, listen or bind, the host
	// side used: the remote address and port after mappings, or the
	// local address bound (the port the system picked for port 0).
	Host netip.AddrPort
	// Err is why the operation failed: a *DeniedError for a denial, or
	// the network or DNS error of an allowed operation; nil on success.
	Err error
}

// Rule returns the rule that decided the event, or nil.
func (ev Event) Rule() *policy.Rule {
	if ev.Policy == nil {
		return nil
	}
	return ev.Policy.Rule(ev.Decision.Rule)
}

// Enforcer applies a policy to sockets. It is safe for concurrent use.
type Enforcer struct {
	cur    atomic.Pointer[state]
	ifaces *eval.Interfaces
	dns    DNS
	topt   eval.TrackerOptions
	dialer net.Dialer
	lc     net.ListenConfig
	obs    func(context.Context, Event)
}

// state is one policy in force: its index and its lookup tracker. A
// request is decided, checked and reported against one state, so that a
// rule index always refers to the policy that decided.
type state struct {
	p       *policy.Policy
	index   *eval.Index
	tracker *eval.Tracker
	ifaces  *eval.Interfaces

	once      sync.Once
	explainer *evalreport.Explainer
}

// explain returns the explanation of a request (built on first use: only
// denials are explained).
func (st *state) explain(q eval.Request) evalreport.Explanation {
	st.once.Do(func() { st.explainer = evalreport.NewExplainer(st.p, st.ifaces) })
	return st.explainer.Explain(q)
}

// New returns an Enforcer of a compiled policy (nil: the empty policy,
// which denies everything). The policy must have no errors: check the
// diagnostics of eval.CompileFlags or policy.Compile first (or use
// NewFromFlags). New fails only when it cannot read the machine's
// interfaces.
func New(p *policy.Policy, o Options) (*Enforcer, error) {
	e := &Enforcer{ifaces: o.Interfaces, dns: o.DNS, topt: o.Tracker, obs: o.Observe}
	if e.ifaces == nil {
		t, err := eval.SystemInterfaces()
		if err != nil {
			return nil, fmt.Errorf("reading the network interfaces: %w", err)
		}
		e.ifaces = t
	}
	if e.dns == nil {
		e.dns = net.DefaultResolver
	}
	if o.Dialer != nil {
		e.dialer = *o.Dialer
	}
	if o.ListenConfig != nil {
		e.lc = *o.ListenConfig
	}
	e.SetPolicy(p)
	return e, nil
}

// PolicyError is a policy that cannot be enforced: its error diagnostics.
type PolicyError struct {
	Diagnostics []diag.Diagnostic
}

func (e *PolicyError) Error() string {
	var msgs []string
	for _, d := range e.Diagnostics {
		msgs = append(msgs, d.Error())
	}
	return "policy with errors: " + strings.Join(msgs, "; ")
}

// NewFromFlags compiles flags as a runtime receives them (each
// "--allow-X=SPEC") and returns their Enforcer, or a *PolicyError when the
// policy has errors.
func NewFromFlags(o Options, flags ...string) (*Enforcer, error) {
	p, ds := eval.CompileFlags(flags...)
	if diag.HasErrors(ds) {
		var errs []diag.Diagnostic
		for _, d := range ds {
			if d.Severity == diag.Error {
				errs = append(errs, d)
			}
		}
		return nil, &PolicyError{Diagnostics: errs}
	}
	return New(p, o)
}

// SetPolicy puts a policy in force for every later request. Connections
// and listeners already open stay open; what the tracker remembered of
// lookups is forgotten (which only ever denies).
func (e *Enforcer) SetPolicy(p *policy.Policy) {
	if p == nil {
		p = &policy.Policy{}
	}
	index := eval.NewIndex(p, e.ifaces)
	e.cur.Store(&state{p: p, index: index, tracker: eval.NewTrackerWith(index, e.topt), ifaces: e.ifaces})
}

// Policy returns the policy in force.
func (e *Enforcer) Policy() *policy.Policy { return e.cur.Load().p }

// Interfaces returns the interface table listens are decided with.
func (e *Enforcer) Interfaces() *eval.Interfaces { return e.ifaces }

// Decide decides a request against the policy in force as the tracker
// does (a bare address counts as resolved from the names remembered for
// it), without doing anything or reporting it.
func (e *Enforcer) Decide(q eval.Request) eval.Decision {
	return e.cur.Load().tracker.Decide(q)
}

// observe reports an event.
func (e *Enforcer) observe(ctx context.Context, st *state, ev Event) {
	if e.obs != nil {
		ev.Policy = st.p
		e.obs(ctx, ev)
	}
}

// ErrDenied is what every *DeniedError is (errors.Is(err, ErrDenied)).
var ErrDenied = errors.New("denied by the capspec policy")

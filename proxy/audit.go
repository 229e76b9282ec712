package proxy

import (
	"context"
	"encoding/json"
	"io"
	"sync"
	"time"

	"github.com/capspec/capspec/enforce"
)

// AuditLog writes one JSON object a line (docs/enforce.md, "Audit log"):
// a "decision" line for every decision, and "start", "reload", "stop" and
// "learned" lines for what the proxy does. It is safe for concurrent use;
// each line is written whole with one Write.
type AuditLog struct {
	mu  sync.Mutex
	w   io.Writer
	now func() time.Time
}

// NewAuditLog returns a log writing to w (nil: nowhere).
func NewAuditLog(w io.Writer) *AuditLog {
	if w == nil {
		w = io.Discard
	}
	return &AuditLog{w: w, now: time.Now}
}

// Entry is one line of the audit log. Fields that do not apply are left
// out; no field is ever renamed or removed within a major version.
type Entry struct {
	// Time is when the decision was made (RFC 3339, UTC, nanoseconds).
	Time time.Time `json:"time"`
	// Event is "decision", "start", "reload", "stop" or "learned".
	Event string `json:"event"`
	// Proxy is the listener the client came through: "socks5" or "http".
	Proxy string `json:"proxy,omitempty"`
	// Client is the client's address.
	Client string `json:"client,omitempty"`
	// Request is the request decided, in SPEC §3.6 syntax.
	Request string `json:"request,omitempty"`
	// Decision is "allow" or "deny".
	Decision string `json:"decision,omitempty"`
	// Rule is the deciding rule, or null for a denial without one.
	Rule *Rule `json:"rule,omitempty"`
	// Reason says why a request was denied.
	Reason string `json:"reason,omitempty"`
	// Answers are the addresses an allowed lookup gave.
	Answers []string `json:"answers,omitempty"`
	// Host is where an allowed connect went, after mappings.
	Host string `json:"host,omitempty"`
	// Error is why an allowed connect or lookup failed (DNS or network).
	Error string `json:"error,omitempty"`
	// BytesUp and BytesDown count the bytes from the client to the
	// destination and back, once the connection closed; DurationMS is how
	// long it was open.
	BytesUp    *int64   `json:"bytes_up,omitempty"`
	BytesDown  *int64   `json:"bytes_down,omitempty"`
	DurationMS *float64 `json:"duration_ms,omitempty"`
	// Closed says why a connection closed: "eof" (both sides finished),
	// "idle", "error" or "shutdown".
	Closed string `json:"closed,omitempty"`

	// Start: where the proxy listens, how many rules, whether learning.
	SOCKS string `json:"socks,omitempty"`
	HTTP  string `json:"http,omitempty"`
	Rules *int   `json:"rules,omitempty"`
	Learn bool   `json:"learn,omitempty"`
	// Reload: whether the new policy was taken, and its diagnostics.
	OK          *bool    `json:"ok,omitempty"`
	Diagnostics []string `json:"diagnostics,omitempty"`
	// Stop: the connections still open when the grace period ended,
	// closed by force. Learned: the file written.
	Forced *int   `json:"forced,omitempty"`
	File   string `json:"file,omitempty"`
}

// Rule is the deciding rule of a decision.
type Rule struct {
	// Index is the rule's position in the policy, from 0.
	Index int `json:"index"`
	// Position is where its flag is: file:line:col, or argv[N]:col.
	Position string `json:"position"`
	// Flag is the flag as written.
	Flag string `json:"flag"`
}

// Write writes one entry (its time is set when zero).
func (l *AuditLog) Write(e Entry) {
	if e.Time.IsZero() {
		e.Time = l.now()
	}
	e.Time = e.Time.UTC()
	b, err := json.Marshal(e)
	if err != nil {
		return
	}
	b = append(b, '\n')
	l.mu.Lock()
	l.w.Write(b)
	l.mu.Unlock()
}

// decisionEntry makes the line of one decision.
func decisionEntry(proxy, client string, at time.Time, ev enforce.Event) Entry {
	e := Entry{Time: at, Event: "decision", Proxy: proxy, Client: client, Request: ev.Request.String(), Decision: "deny"}
	if ev.Decision.Allowed {
		e.Decision = "allow"
	}
	if r := ev.Rule(); r != nil {
		e.Rule = &Rule{Index: r.Index, Position: r.Range().String(), Flag: r.Text()}
	}
	var de *enforce.DeniedError
	if ev.Err != nil {
		if asDenied(ev.Err, &de) {
			e.Reason = de.Reason()
		} else {
			e.Error = ev.Err.Error()
		}
	}
	for _, a := range ev.Answers {
		e.Answers = append(e.Answers, a.String())
	}
	if ev.Host.IsValid() {
		e.Host = ev.Host.String()
	}
	return e
}

// record collects the decisions made for one client request (a SOCKS or
// HTTP CONNECT, or one plain HTTP request): enforce reports them to
// Observe with the context the proxy dialed with.
type record struct {
	mu     sync.Mutex
	proxy  string
	client string
	events []timedEvent
}

type timedEvent struct {
	at time.Time
	ev enforce.Event
}

type recordKey struct{}

// withRecord attaches a record to a context.
func withRecord(ctx context.Context, r *record) context.Context {
	return context.WithValue(ctx, recordKey{}, r)
}

// Observe gives an event of an enforcer to the proxy request whose dial
// made it (events of other dials are ignored). Pass it as (or call it
// from) enforce.Options.Observe of the proxy's enforcer.
func Observe(ctx context.Context, ev enforce.Event) {
	if r, ok := ctx.Value(recordKey{}).(*record); ok {
		r.mu.Lock()
		r.events = append(r.events, timedEvent{time.Now(), ev})
		r.mu.Unlock()
	}
}

// take returns the events recorded so far and forgets them.
func (r *record) take() []timedEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	evs := r.events
	r.events = nil
	return evs
}

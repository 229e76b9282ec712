package enforce_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/enforce"
	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/evalreq"
	"github.com/capspec/capspec/internal/dnstest"
	"github.com/capspec/capspec/policy"
)

// The learned policy allows every request that was seen, and nothing else
// that was tried here.
func TestLearnRoundTrip(t *testing.T) {
	srv := newServer(t, "127.0.0.1:0")
	srv6 := newServer(t, "[::1]:0")
	srv4 := newServer(t, "127.0.0.4:0") // reached by address only
	d := dnstest.New(t)
	d.Set("app.test", "127.0.0.1")
	d.Set("six.test", "::1")
	d.Set("lookup-only.test", "127.0.0.7")
	l := enforce.NewLearner()
	var mu sync.Mutex
	var seen []enforce.Event
	e, err := enforce.NewFromFlags(enforce.Options{DNS: d.Resolver(), Interfaces: loTable(), Observe: func(ctx context.Context, ev enforce.Event) {
		l.Observe(ctx, ev)
		mu.Lock()
		seen = append(seen, ev)
		mu.Unlock()
	}}, enforce.LearnFlags...)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	dial := func(addr string) {
		t.Helper()
		for range 3 {
			c, err := e.DialContext(ctx, "tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			c.Close()
		}
	}
	dial(fmt.Sprintf("app.test:%d", srv.Port()))
	dial(fmt.Sprintf("six.test:%d", srv6.Port()))
	dial(fmt.Sprintf("127.0.0.4:%d", srv4.Port()))
	// 127.0.0.1 was given for app.test: a connect to it by address counts
	// as resolved from app.test, and is learned as a rule to the address
	// (so that it is allowed without the lookup).
	dial(fmt.Sprintf("127.0.0.1:%d", srv.Port()))
	dial(fmt.Sprintf("localhost:%d", srv.Port()))
	if _, err := e.Resolver().LookupNetIP(ctx, "ip4", "lookup-only.test"); err != nil {
		t.Fatal(err)
	}
	ln, err := e.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close()
	// Unspecified destinations are denied even when learning, and not learned.
	if _, err := e.Dial("tcp", "0.0.0.0:80"); err == nil {
		t.Fatal("0.0.0.0 allowed")
	}

	text, err := l.Policy()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("learned:\n%s", text)
	for _, want := range []string{
		fmt.Sprintf("# 3 connects to app.test:%d over ipv4\n--allow-outbound=tcp://app.test:%d#ipv4-only\n", srv.Port(), srv.Port()),
		fmt.Sprintf("# 3 connects to 127.0.0.1:%d\n--allow-outbound=tcp://127.0.0.1:%d\n", srv.Port(), srv.Port()),
		"# 1 lookup of lookup-only.test over ipv4\n--allow-resolve=lookup-only.test#ipv4-only\n",
		fmt.Sprintf("# 3 connects to 127.0.0.4:%d\n--allow-outbound=tcp://127.0.0.4:%d\n", srv4.Port(), srv4.Port()),
		"# 3 lookups of app.test\n--allow-resolve=app.test\n",
		fmt.Sprintf("--allow-outbound=tcp://six.test:%d#ipv6-only\n", srv6.Port()),
		"--allow-inbound=tcp://127.0.0.1:0\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("learned policy lacks %q", want)
		}
	}
	again, err := enforce.Canonical("learned", text)
	if err != nil || again != text {
		t.Errorf("the learned policy is not canonical:\n%s", again)
	}

	// Replay what was seen against the learned policy: all allowed.
	p, ds := compileText(t, text)
	if diag.HasErrors(ds) {
		t.Fatal(ds)
	}
	tr := eval.NewTracker(eval.NewIndex(p, loTable()))
	for _, ev := range seen {
		var dec eval.Decision
		if ev.Request.Op == eval.Lookup {
			dec, _ = tr.Lookup(ev.Request, ev.Answers)
		} else {
			dec = tr.Decide(ev.Request)
		}
		if dec.Allowed != ev.Decision.Allowed {
			t.Errorf("%s: learned policy allowed=%v, when learning %v", ev.Request, dec.Allowed, ev.Decision.Allowed)
		}
	}
	// Requests not seen are denied.
	for _, line := range []string{
		fmt.Sprintf("connect tcp app.test:%d", srv.Port()+1),
		fmt.Sprintf("connect tcp 127.0.0.2:%d", srv.Port()),
		fmt.Sprintf("connect tcp 127.0.0.4:%d", srv4.Port()+1),
		fmt.Sprintf("connect tcp 127.0.0.9:%d via app.test", srv.Port()+1),
		fmt.Sprintf("connect tcp [::1]:%d via app.test", srv.Port()),
		fmt.Sprintf("connect tcp 127.0.0.1:%d via six.test", srv6.Port()),
		fmt.Sprintf("send udp 127.0.0.1:%d", srv.Port()),
		"lookup other.test",
		"lookup lookup-only.test ipv6",
		"lookup sub.app.test",
		"connect tcp lookup-only.test:80",
		"listen tcp 127.0.0.1:8080",
		"listen tcp *:0",
		"connect tcp 0.0.0.0:80",
	} {
		it, err := evalreq.ParseRequest(line)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		if dec := tr.Decide(it.Request); dec.Allowed && it.Request.Op != eval.Lookup || it.Request.Op == eval.Lookup && eval.NewIndex(p, loTable()).Decide(it.Request).Allowed {
			t.Errorf("the learned policy allows %s, which was not seen", line)
		}
	}
}

func compileText(t *testing.T, text string) (p *policy.Policy, ds []diag.Diagnostic) {
	t.Helper()
	var flags []string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, "--") {
			flags = append(flags, line)
		}
	}
	return eval.CompileFlags(flags...)
}

// The learner's empty policy allows nothing and is canonical.
func TestLearnNothing(t *testing.T) {
	text, err := enforce.NewLearner().Policy()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(text, "--allow") {
		t.Errorf("empty learner wrote rules:\n%s", text)
	}
	_ = net.IPv4len
}

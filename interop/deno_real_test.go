package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/policy"
)

// denoBinary finds a Deno binary: $CAPSPEC_DENO (the binary or its
// directory), deno on PATH, or the npm package .ci/run installs under
// $HOME/.cache/capspec-deno.
func denoBinary() string {
	if p := os.Getenv("CAPSPEC_DENO"); p != "" {
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			p = filepath.Join(p, "deno")
		}
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath("deno"); err == nil {
		return p
	}
	home, _ := os.UserHomeDir()
	matches, _ := filepath.Glob(filepath.Join(home, ".cache", "capspec-deno", "node_modules", "@deno", "*", "deno"))
	for _, m := range matches {
		if st, err := os.Stat(m); err == nil && !st.IsDir() {
			return m
		}
	}
	return ""
}

// denoProbe is what the test asks real Deno: a permission query, a real
// connect or a real listen, always on loopback.
type denoProbe struct {
	Kind string `json:"kind"` // "query", "connect", "listen"
	Host string `json:"host"`
	Port int    `json:"port"`
	req  eval.Request
	fam  policy.Families
}

const denoScript = `
const probes = JSON.parse(Deno.args[0]);
for (const p of probes) {
  let state;
  try {
    if (p.kind === "query") {
      state = (await Deno.permissions.query({ name: "net", host: p.host + ":" + p.port })).state;
    } else if (p.kind === "connect") {
      const c = await Deno.connect({ hostname: p.host, port: p.port });
      c.close();
      state = "granted";
    } else {
      const l = Deno.listen({ hostname: p.host, port: p.port });
      l.close();
      state = "granted";
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) {
      state = "denied";
    } else {
      state = "granted (" + e.name + ")"; // the permission passed; the socket failed
    }
  }
  console.log(JSON.stringify({ kind: p.kind, host: p.host, port: p.port, state }));
}
`

// TestRealDeno runs the exported --allow-net in real Deno (from npm:
// .ci/run installs it) and checks that what Deno grants is what the model
// says, and that every request on which Deno and the policy disagree is in
// the export's report — the *.x apex trap included, and a real connect to
// 0.0.0.0 (which on Linux reaches the loopback listener) in the one
// unspecified-destination difference.
func TestRealDeno(t *testing.T) {
	bin := denoBinary()
	if bin == "" {
		t.Skip("deno not found: set CAPSPEC_DENO, put deno on PATH, or run `npm install --prefix $HOME/.cache/capspec-deno deno` (.ci/run does)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	// Two loopback listeners the connects reach, and a free port to listen on.
	var ports []int
	for i := 0; i < 3; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
		if i < 2 {
			defer l.Close()
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					c.Close()
				}
			}()
		} else {
			l.Close()
		}
	}
	p1, p2, p3 := ports[0], ports[1], ports[2]
	flags := []string{
		fmt.Sprintf("--allow-outbound=tcp://*.localhost:%d", p1), // Deno's *.localhost also grants localhost
		fmt.Sprintf("--allow-outbound=tcp://127.0.0.1:%d", p2),
		fmt.Sprintf("--allow-outbound=tcp://*.example.com:%d", p1),
		fmt.Sprintf("--allow-inbound=tcp://127.0.0.1:%d", p3),
		fmt.Sprintf("--allow-inbound=tcp://*:%d", p2), // Deno: 0.0.0.0:p2, which also grants connecting there
		"--allow-outbound=tcp://[2001:db8::/32]:443",  // Deno cannot write an IPv6 network
	}
	p, ds := eval.CompileFlags(flags...)
	if len(ds) > 0 {
		t.Fatal(ds)
	}
	e, err := ExportPolicy("deno", p)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("export: %s", e.Config.Text)

	a4 := netip.MustParseAddr("127.0.0.1")
	conn := func(host string, port int, real bool) denoProbe {
		kind := "query"
		if real {
			kind = "connect"
		}
		q := eval.Request{Op: eval.Connect, Name: host, Port: uint16(port)}
		f := policy.IPv4
		if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
			q = eval.Request{Op: eval.Connect, Addr: a, Port: uint16(port)}
			f = policy.FamilyOf(a)
		}
		return denoProbe{Kind: kind, Host: host, Port: port, req: q, fam: f}
	}
	probes := []denoProbe{
		conn("localhost", p1, true), // the apex trap, on a real socket
		conn("localhost", p1, false),
		conn("a.localhost", p1, false),
		conn("example.com", p1, false), // apex of *.example.com
		conn("a.example.com", p1, false),
		conn("badexample.com", p1, false),
		conn("127.0.0.1", p2, true),
		conn("127.0.0.1", p1, true),
		conn("localhost", p2, true),
		conn("[2001:db8::1]", 443, false),
		conn("0.0.0.0", p2, true), // capspec denies it whatever the rules say; Deno connects, to the loopback listener
		{Kind: "listen", Host: "127.0.0.1", Port: p3, req: eval.Request{Op: eval.Listen, Local: eval.LocalAddr, Addr: a4, Port: uint16(p3)}, fam: policy.IPv4},
		{Kind: "listen", Host: "127.0.0.1", Port: p1 + 0, req: eval.Request{Op: eval.Listen, Local: eval.LocalAddr, Addr: a4, Port: uint16(p1)}, fam: policy.IPv4},
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "probe.js")
	if err := os.WriteFile(script, []byte(denoScript), 0o644); err != nil {
		t.Fatal(err)
	}
	arg, _ := json.Marshal(probes)
	args := append([]string{"run", "--no-prompt"}, e.Config.Words...)
	args = append(args, script, string(arg))
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "DENO_DIR="+filepath.Join(dir, "cache"), "NO_COLOR=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("deno %v: %v\n%s", args, err, stderr.String())
	}
	states := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var r struct {
			Kind, Host, State string
			Port              int
		}
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("bad line %q", sc.Text())
		}
		states[fmt.Sprintf("%s %s:%d", r.Kind, r.Host, r.Port)] = r.State
	}
	ref := eval.NewReference(p, noInterfaces)
	apexReported := false
	for _, pr := range probes {
		key := fmt.Sprintf("%s %s:%d", pr.Kind, pr.Host, pr.Port)
		state, ok := states[key]
		if !ok {
			t.Fatalf("deno said nothing about %s", key)
		}
		denoAllows := strings.HasPrefix(state, "granted")
		model := e.Config.Decide(pr.req).Families()&pr.fam != 0
		capspec := ref.Decide(pr.req).Families&pr.fam != 0
		t.Logf("%-32s deno %-28s model %-5v capspec %v", key, state, model, capspec)
		if denoAllows != model {
			t.Errorf("%s: real Deno says %s, the model says allowed=%v", key, state, model)
		}
		if denoAllows == capspec {
			continue
		}
		want := Wider
		if capspec {
			want = Narrower
		}
		found := false
		for i := range e.Differences {
			if e.Differences[i].Kind == want && e.Differences[i].Contains(pr.req, pr.fam) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: Deno allowed=%v, the policy allowed=%v, but the export reports no %s difference holding it", key, denoAllows, capspec, want)
		}
		if pr.Kind == "connect" && pr.Host == "localhost" && pr.Port == p1 && found {
			apexReported = true
		}
	}
	unspec := 0
	for _, d := range e.Differences {
		if d.Unspecified {
			unspec++
			if d.Kind != Wider || !d.Contains(conn("0.0.0.0", p2, true).req, policy.IPv4) {
				t.Errorf("the unspecified difference %+v does not hold the real connect to 0.0.0.0:%d", d, p2)
			}
		}
	}
	if unspec != 1 {
		t.Errorf("%d unspecified differences, want 1", unspec)
	}
	if !apexReported {
		t.Errorf("the apex trap (*.localhost granting localhost in Deno) was not reported on a real connect")
	}
}

package interop_test

import (
	"fmt"
	"net/netip"

	"github.com/capspec/capspec/eval"
	"github.com/capspec/capspec/interop"
	"github.com/capspec/capspec/policy"
)

// A runtime embedding capspec exports a policy to Deno and learns exactly
// what Deno's --allow-net would grant beyond it. One difference is the
// same for every export with a name: Deno connects to an unspecified
// address a name resolves to, which capspec always denies.
func ExampleExportPolicy() {
	p, _ := eval.CompileFlags("--allow-outbound=tcp://*.example.com:443")
	e, err := interop.ExportPolicy("deno", p)
	if err != nil {
		panic(err)
	}
	fmt.Println(e.Config.Text)
	for _, d := range e.Differences {
		if d.Unspecified {
			fmt.Println("unspecified", d.Example)
			continue
		}
		fmt.Println(d.Kind, d.Example)
	}
	fmt.Println("wider:", e.Wider())
	// Output:
	// --allow-net=*.example.com:443
	// wider lookup example.com ipv4
	// wider connect tcp example.com:443 (ipv4)
	// wider send udp example.com:443 (ipv4)
	// unspecified connect tcp 0.0.0.0:443 via example.com
	// wider: true
}

// Reading a runtime's configuration gives canonical capspec flags and what
// capspec cannot say exactly.
func ExampleImportConfig() {
	src := interop.Source{Words: []interop.Word{{Text: "--net=dns:allow=*danger.xyz:443", Origin: "argv[1]"}}}
	ims, _, err := interop.ImportConfig("wasmer", src)
	if err != nil {
		panic(err)
	}
	for _, f := range ims[0].Flags {
		fmt.Println(f)
	}
	fmt.Println(ims[0].Differences[0].Kind, ims[0].Differences[0].Example)
	// Output:
	// --allow-outbound=tcp://danger.xyz:443
	// --allow-outbound=tcp://*.danger.xyz:443
	// --allow-outbound=udp://danger.xyz:443
	// --allow-outbound=udp://*.danger.xyz:443
	// narrower lookup adanger.xyz ipv4
}

// A configuration decides requests as its runtime would.
func ExampleConfig_Decide() {
	cfg, _ := interop.Read("spin", interop.Source{Name: "spin.toml", Content: `allowed_outbound_hosts = ["tcp://10.0.0.1:8000..8010"]`})
	for _, port := range []uint16{8000, 8009, 8010} {
		q := eval.Request{Op: eval.Connect, Addr: netipMust("10.0.0.1"), Port: port}
		fmt.Println(q, cfg.Decide(q).Families() != policy.NoFamily)
	}
	// Output:
	// connect tcp 10.0.0.1:8000 true
	// connect tcp 10.0.0.1:8009 true
	// connect tcp 10.0.0.1:8010 false
}

func netipMust(s string) netip.Addr { return netip.MustParseAddr(s) }

package lint

import "github.com/capspec/capspec/diag"

// The CS5xx rules are reported by capspec export and capspec import
// (package interop), not by capspec lint: they compare a policy with a
// runtime's configuration. They have no Run; their examples are flags files
// whose first line names the runtime ("# export --to deno"), checked by
// the interop package's tests.

var exportWiderRule = Rule{
	ID:       "CS501",
	Name:     "export-allows-more",
	Severity: diag.Warning,
	Doc: Doc{
		Summary: "capspec export: the runtime's configuration would allow a request the policy denies",
		Rationale: `No runtime takes capspec's flags yet, and each runtime's permission syntax is
coarser in some way: Deno has no protocols or directions, wasmer no protocols,
WAMR no ports, wasmtime no addresses at all, and Deno's *.x also matches x.
capspec export writes the runtime's closest configuration and reports, on the
rule it comes from, every request the runtime would allow that the policy does
not, with one example. --strict makes export fail on it. Narrow the rule, or
accept the runtime's wider grant knowingly. One such warning is reported once
per export, on the first rule it concerns, and --strict does not count it:
capspec denies every connect and send to an unspecified address (0.0.0.0/8,
[::]) whatever the rules say, while every runtime connects there when a name
resolves to one, and no runtime configuration can say otherwise
(docs/interop.md).`,
		Bad:  "# export --to deno\n--allow-outbound=tcp://10.0.0.1:443\n",
		Good: "# export --to deno\n--allow-outbound=tcp://10.0.0.1:443\n--allow-outbound=udp://10.0.0.1:443\n--allow-inbound=tcp://10.0.0.1:443\n--allow-inbound=udp://10.0.0.1:443\n",
	},
}

var exportNarrowerRule = Rule{
	ID:       "CS502",
	Name:     "export-cannot-allow",
	Severity: diag.Info,
	Doc: Doc{
		Summary: "capspec export: the runtime cannot allow a request the policy allows",
		Rationale: `Some grants have no form in a runtime's syntax: Spin refuses every TCP listen
and lets the guest look up no name, Deno cannot allow a lookup without a
connection nor write an IPv6 network, no runtime names interfaces. capspec
export leaves such grants out and says so on the rule, with one request the
runtime would deny; the guest will be refused there (docs/interop.md).`,
		Bad:  "# export --to spin\n--allow-inbound=tcp://*:8080\n",
		Good: "# export --to spin\n--allow-outbound=tcp://10.0.0.1:5432\n",
	},
}

var exportMappingRule = Rule{
	ID:       "CS503",
	Name:     "export-mapping-lost",
	Severity: diag.Warning,
	Doc: Doc{
		Summary: "capspec export: the runtime cannot map a request as the rule does, so it reaches what the guest asked for",
		Rationale: `A host mapping (name->ip) or a port mapping (80->8888) tells the host to send
a request elsewhere than the guest asked. No runtime capspec exports to can
map: a mapped name is resolved by DNS, a mapped port is used as is. The
export allows what the guest asks for and reports each request whose host side
changes (docs/interop.md).`,
		Bad:  "# export --to wasmer\n--allow-inbound=tcp://*:80->8888\n",
		Good: "# export --to wasmer\n--allow-inbound=tcp://*:8888\n",
	},
}

var importWiderRule = Rule{
	ID:       "CS504",
	Name:     "import-allows-more",
	Severity: diag.Warning,
	Doc: Doc{
		Summary: "capspec import: the capspec flags allow a request the runtime's configuration denies",
		Rationale: `capspec import says a runtime's configuration as canonical capspec flags.
Where capspec cannot say exactly what the runtime allows (a Deno or wasmer
deny rule, Spin's outbound interfaces that connect by name without a guest
lookup), the flags may allow more; each such request is reported on the
runtime's entry with an example (docs/interop.md).`,
		Bad:  "# import --from deno\n--allow-net=10.0.0.0/8 --deny-net=10.0.0.1\n",
		Good: "# import --from deno\n--allow-net=10.0.0.0/8\n",
	},
}

var importNarrowerRule = Rule{
	ID:       "CS505",
	Name:     "import-cannot-say",
	Severity: diag.Info,
	Doc: Doc{
		Summary: "capspec import: the runtime allows a request the capspec flags cannot say",
		Rationale: `Some runtime grants have no capspec form: wasmer's and WAMR's raw suffix
globs (*danger.xyz matches notdanger.xyz), listening on an address inside a
network, a bare port that Deno expands to three hosts. capspec import writes
the nearest narrower flags and reports, on the runtime's entry, a request the
runtime allows that the flags deny, and exits 1. One such info is reported
once per import, on the first entry it concerns, and does not by itself make
the import inexact: capspec denies every connect and send to an unspecified
address (0.0.0.0/8, [::]) whatever the rules say, stricter by design than
runtimes that connect there when a name resolves to one (docs/interop.md).`,
		Bad:  "# import --from wamr\n--allow-resolve=*danger.xyz\n",
		Good: "# import --from wamr\n--allow-resolve=*.danger.xyz\n",
	},
}

var unsupportedEntryRule = Rule{
	ID:       "CS506",
	Name:     "import-unsupported-entry",
	Severity: diag.Info,
	Doc: Doc{
		Summary: "capspec import: an entry capspec cannot read (a variable, a Unix socket, service chaining)",
		Rationale: `A Spin entry holding a variable ({{ host }}) has a value only when Spin runs;
Deno's unix: and vsock: entries and Spin's "self" are no IP network
permissions. capspec import leaves them out and says so, and the import is
not exact (exit 1).`,
		Bad:  "# import --from deno\n--allow-net=unix:/run/app.sock\n",
		Good: "# import --from deno\n--allow-net=example.com:443\n",
	},
}

var runtimeSyntaxRule = Rule{
	ID:       "CS507",
	Name:     "runtime-syntax",
	Severity: diag.Error,
	Doc: Doc{
		Summary: "capspec import: the runtime itself would reject this entry",
		Rationale: `capspec import reads entries as the runtime's own parser does and reports
what the runtime would refuse to start with: a Spin entry without a scheme or
with a port list, a Deno URL, a wasmer rule without a colon, more than 8
iwasm --addr-pool entries. Nothing is imported (exit 2).`,
		Bad:  "# import --from spin\nallowed_outbound_hosts = [\"example.com:443\"]\n",
		Good: "# import --from spin\nallowed_outbound_hosts = [\"https://example.com:443\"]\n",
	},
}

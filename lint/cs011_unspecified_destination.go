package lint

import "github.com/capspec/capspec/diag"

// unspecifiedDestinationRule is reported by package grammar while parsing; it has no Run.
var unspecifiedDestinationRule = Rule{
	ID:       "CS011",
	Name:     "unspecified-destination",
	Severity: diag.Error,
	Doc: Doc{
		Summary: "outbound to 0.0.0.0 or [::]",
		Rationale: `The unspecified address is no destination: the WASI API rejects it, and on
Linux a connect to it reaches this host. To allow connections to any address,
write *; to allow this host, write 127.0.0.1 or localhost.`,
		Bad:  "--allow-outbound=tcp://0.0.0.0:80\n",
		Good: "--allow-outbound=tcp://127.0.0.1:80\n",
	},
}

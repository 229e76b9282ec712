package lint

import "github.com/capspec/capspec/diag"

// syntaxRule is reported by package grammar while parsing; it has no Run.
var syntaxRule = Rule{
	ID:       "CS001",
	Name:     "syntax",
	Severity: diag.Error,
	Doc: Doc{
		Summary: "the text does not match the grammar (unknown flag, bad scheme, bad host, bad port, stray character)",
		Rationale: `The flag cannot be read: the flag name is unknown, the protocol is not tcp or
udp, a part is missing or a character does not belong. A runtime given such a
flag either refuses to start or, worse, reads it differently. capspec suggests
the most likely spelling where one is close (tpc:// -> tcp://, #ipv4only ->
#ipv4-only, --allow-outboud -> --allow-outbound).`,
		Bad:  "--allow-outbound=tpc://example.com:443\n",
		Good: "--allow-outbound=tcp://example.com:443\n",
	},
}

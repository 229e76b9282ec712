package lint

import "github.com/capspec/capspec/diag"

// invisibleCharactersRule is reported by package grammar while parsing; it has no Run.
var invisibleCharactersRule = Rule{
	ID:               "CS012",
	Name:             "invisible-characters",
	Severity:         diag.Error,
	SecuritySeverity: 7.5,
	Doc: Doc{
		Summary: "bidi controls, zero-width or control characters anywhere in a flag",
		Rationale: `Characters that display as nothing, or that reorder the text around them,
let a flag read differently from what it grants (a "trojan source" flag). The
Bad example holds a zero-width space (U+200B) inside "example".`,
		Bad:  "--allow-resolve=exam\u200bple.com\n",
		Good: "--allow-resolve=example.com\n",
	},
}

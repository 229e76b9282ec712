package lint

import (
	"sort"
	"strings"
	"unicode"

	"golang.org/x/net/idna"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/internal/prose"
	"github.com/capspec/capspec/policy"
)

var mixedScriptNameRule = Rule{
	ID:               "CS207",
	Name:             "mixed-script-name",
	Severity:         diag.Warning,
	SecuritySeverity: 6.0,
	Doc: Doc{
		Summary: "a name mixing scripts (e.g. Latin and Cyrillic letters): possible homoglyph",
		Rationale: `Letters of different scripts can look alike: Cyrillic "а" (U+0430) and Latin
"a" are drawn the same, so "pаypal.com" reads as paypal.com but is another
domain. A label that mixes scripts, or a name that combines Latin, Cyrillic and
Greek labels, is reported, with the Latin look-alike when there is one. The
scripts come from the Unicode tables (package unicode); the usual combinations
of Han with Hiragana/Katakana, Hangul or Bopomofo are not mixing. A-labels
(xn--...) are decoded first.`,
		Bad:  "--allow-resolve=p\u0430ypal.com\n",
		Good: "--allow-resolve=paypal.com\n",
	},
	Run: runMixedScriptName,
}

func runMixedScriptName(p *Pass) {
	for _, r := range p.Rules() {
		if r.Host.Kind != policy.NameHost && r.Host.Kind != policy.WildcardHost {
			continue
		}
		if msg := mixedScripts(r.Host.Name); msg != "" {
			p.reportAt(r, hostNode(r), "%s", msg)
		}
	}
}

// mixedScripts describes how an A-label name mixes scripts, or returns "".
func mixedScripts(name string) string {
	if !strings.Contains(name, "xn--") {
		return "" // ASCII letters are all Latin
	}
	u, err := idna.Lookup.ToUnicode(name)
	if err != nil {
		u, _ = idna.Punycode.ToUnicode(name)
	}
	all := map[string]bool{}
	for _, label := range strings.Split(u, ".") {
		scripts := labelScripts(label)
		if mixedLabel(scripts) {
			return "label \"" + label + "\" mixes " + prose.JoinAnd(sortedKeys(scripts)) + " letters" + lookalike(u)
		}
		for s := range scripts {
			all[s] = true
		}
	}
	confusable := 0
	for _, s := range [...]string{"Latin", "Cyrillic", "Greek"} {
		if all[s] {
			confusable++
		}
	}
	if confusable > 1 {
		return "name \"" + u + "\" mixes " + prose.JoinAnd(sortedKeys(all)) + " labels" + lookalike(u)
	}
	return ""
}

// labelScripts returns the scripts of the letters of a label; characters
// of the Common and Inherited scripts (digits, '-', marks) count for none.
func labelScripts(label string) map[string]bool {
	out := map[string]bool{}
	for _, r := range label {
		if s := scriptOf(r); s != "" {
			out[s] = true
		}
	}
	return out
}

// scriptNames lists the scripts of package unicode except Common and
// Inherited, sorted, so that lookups are deterministic.
var scriptNames = func() []string {
	var names []string
	for n := range unicode.Scripts {
		if n != "Common" && n != "Inherited" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}()

// scriptOf returns the script of r, or "" for Common and Inherited.
func scriptOf(r rune) string {
	if r < 0x80 {
		if 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' {
			return "Latin"
		}
		return ""
	}
	if unicode.Is(unicode.Latin, r) {
		return "Latin"
	}
	for _, n := range scriptNames {
		if unicode.Is(unicode.Scripts[n], r) {
			return n
		}
	}
	return ""
}

// cjkSets are the combinations of scripts that one label may use together.
var cjkSets = [...]map[string]bool{
	{"Han": true, "Hiragana": true, "Katakana": true},
	{"Han": true, "Hangul": true},
	{"Han": true, "Bopomofo": true},
}

// mixedLabel reports whether the scripts of one label are mixed.
func mixedLabel(scripts map[string]bool) bool {
	if len(scripts) < 2 {
		return false
	}
	for _, set := range cjkSets {
		ok := true
		for s := range scripts {
			if !set[s] {
				ok = false
				break
			}
		}
		if ok {
			return false
		}
	}
	return true
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// latinLookalikes maps Cyrillic and Greek lowercase letters to the Latin
// letters they are drawn like.
var latinLookalikes = map[rune]rune{
	'а': 'a', 'е': 'e', 'о': 'o', 'р': 'p', 'с': 'c', 'у': 'y', 'х': 'x',
	'і': 'i', 'ј': 'j', 'ѕ': 's', 'һ': 'h', 'ԁ': 'd', 'ԛ': 'q', 'ԝ': 'w',
	'ӏ': 'l', 'ү': 'y', 'к': 'k',
	'ο': 'o', 'α': 'a', 'ν': 'v', 'ρ': 'p', 'ι': 'i', 'κ': 'k', 'υ': 'u', 'χ': 'x',
}

// lookalike returns `: it reads like "paypal.com"` when every non-Latin
// letter of name has a Latin look-alike, or "".
func lookalike(name string) string {
	var b strings.Builder
	changed := false
	for _, r := range name {
		if l, ok := latinLookalikes[r]; ok {
			b.WriteRune(l)
			changed = true
			continue
		}
		if s := scriptOf(r); s != "" && s != "Latin" {
			return ""
		}
		b.WriteRune(r)
	}
	if !changed {
		return ""
	}
	return ": it reads like \"" + b.String() + "\""
}

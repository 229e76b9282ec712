package lsp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/capspec/capspec/diag"
	"github.com/capspec/capspec/lint"
)

// config holds the settings of a session, from initializationOptions and
// workspace/didChangeConfiguration (docs/editors.md, "Settings"):
//
//	{"capspec": {"minSeverity": "warning", "disable": ["CS206"], "within": ["max.flags"]}}
type config struct {
	// minSeverity is the least severity shown, as capspec lint --fail-on
	// names severities: "info" (the default) shows everything.
	minSeverity diag.Severity
	// disable holds the rule IDs not reported, as capspec lint --disable.
	disable []string
	// within holds maximum policy files, as capspec lint --within (CS401),
	// relative to the workspace root (see maximum).
	within []string
}

func defaultConfig() config { return config{minSeverity: diag.Info} }

func (c config) equal(o config) bool {
	return c.minSeverity == o.minSeverity && slices.Equal(c.disable, o.disable) && slices.Equal(c.within, o.within)
}

// settings is the JSON form of the settings.
type settings struct {
	MinSeverity *string         `json:"minSeverity"`
	Disable     json.RawMessage `json:"disable"`
	Within      json.RawMessage `json:"within"`
}

// update returns the configuration that raw settings make, and what is
// wrong with them. The settings are the object under "capspec", or the
// object itself when it has none; they replace the configuration as a
// whole (a key left out takes its default). Settings that hold neither a
// "capspec" object nor any key of it change nothing, since clients send
// empty settings when they have none. A bad value is reported and that
// key takes its default.
func (c config) update(raw json.RawMessage) (config, []string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return c, nil
	}
	var outer map[string]json.RawMessage
	if err := json.Unmarshal(raw, &outer); err != nil {
		return c, []string{"settings are not a JSON object: " + err.Error()}
	}
	section := raw
	if inner, ok := outer["capspec"]; ok {
		section = inner
	} else if _, ok := outer["minSeverity"]; !ok {
		if _, ok := outer["disable"]; !ok {
			if _, ok := outer["within"]; !ok {
				return c, nil
			}
		}
	}
	var s settings
	if err := json.Unmarshal(section, &s); err != nil {
		return c, []string{"the capspec settings are not an object with minSeverity, disable and within: " + err.Error()}
	}
	next := defaultConfig()
	var problems []string
	if s.MinSeverity != nil {
		sev, err := diag.ParseSeverity(*s.MinSeverity)
		if err != nil {
			problems = append(problems, "minSeverity: "+err.Error())
		} else {
			next.minSeverity = sev
		}
	}
	ids, err := stringList(s.Disable)
	if err != nil {
		problems = append(problems, "disable: "+err.Error())
	}
	for _, id := range ids {
		r, ok := lint.Lookup(id)
		if !ok {
			problems = append(problems, fmt.Sprintf("disable: unknown rule %q (see capspec rules)", id))
			continue
		}
		if !slices.Contains(next.disable, r.ID) {
			next.disable = append(next.disable, r.ID)
		}
	}
	slices.Sort(next.disable)
	next.within, err = stringList(s.Within)
	if err != nil {
		problems = append(problems, "within: "+err.Error())
	}
	return next, problems
}

// stringList reads a JSON string list, or one string of comma-separated
// items; null is the empty list.
func stringList(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	var list []string
	if raw[0] == '"' {
		var one string
		if err := json.Unmarshal(raw, &one); err != nil {
			return nil, err
		}
		list = strings.Split(one, ",")
	} else if err := json.Unmarshal(raw, &list); err != nil {
		return nil, fmt.Errorf("want a list of strings: %v", err)
	}
	var out []string
	for _, s := range list {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

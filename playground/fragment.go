package playground

import (
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"
)

// The page keeps its state in the URL fragment, so that a link shares it:
//
//	#p=POLICY&r=REQUESTS&o=OLD&i=INTERFACES
//
// Each value is the base64url encoding (RFC 4648 §5, no padding) of the
// UTF-8 text of one box; keys may come in any order, unknown keys are
// ignored, and a missing key is an empty box (i: the default interface
// table). base64url needs no escaping in a URL, survives being pasted into
// chats and mail, and keeps every character of a policy — newlines,
// "#", "%", non-ASCII names and invisible characters alike.

// fragmentKeys are the keys of the fragment, in the order they are written.
var fragmentKeys = []string{"p", "r", "o", "i"}

// Fragment returns the URL fragment (without "#") that holds an input.
// Empty boxes are left out, and so is the default interface table (an
// empty table is written "i=").
func Fragment(in Input) string {
	var parts []string
	for _, k := range fragmentKeys {
		v := fragmentValue(&in, k)
		if k == "i" && *v == DefaultInterfaces || k != "i" && *v == "" {
			continue
		}
		parts = append(parts, k+"="+base64.RawURLEncoding.EncodeToString([]byte(*v)))
	}
	return strings.Join(parts, "&")
}

// ParseFragment reads a URL fragment (with or without "#") written by
// Fragment or by the page. Padding ("=") is accepted; a value that is not
// base64url or not UTF-8 is an error naming its key.
func ParseFragment(s string) (Input, error) {
	in := Input{Interfaces: DefaultInterfaces}
	s = strings.TrimPrefix(s, "#")
	for _, part := range strings.Split(s, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		dst := fragmentValue(&in, k)
		if dst == nil {
			continue
		}
		b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(v, "="))
		if err != nil {
			return Input{}, fmt.Errorf("fragment key %s: not base64url: %w", k, err)
		}
		if !utf8.Valid(b) {
			return Input{}, fmt.Errorf("fragment key %s: not UTF-8 text", k)
		}
		*dst = string(b)
	}
	return in, nil
}

// fragmentValue returns the field of in a fragment key stands for, or nil.
func fragmentValue(in *Input, key string) *string {
	switch key {
	case "p":
		return &in.Policy
	case "r":
		return &in.Requests
	case "o":
		return &in.Old
	case "i":
		return &in.Interfaces
	}
	return nil
}

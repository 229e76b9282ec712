// Package version says which capspec this is, from the build information
// the Go toolchain embeds in the binary: the one place that answers it, for
// SARIF's tool.driver.version and, later, capspec --version.
package version

import (
	"regexp"
	"runtime/debug"
	"strings"
)

// Info is what is known about the running build.
type Info struct {
	// Version is the main module's version ("v1.2.3"), or "(devel)" for a
	// build from a working tree, with the VCS revision when there is one:
	// "(devel) 0123456789ab" (or "…-dirty" for uncommitted changes).
	Version string
	// Semantic is the version as semantic versioning 2.0.0 without the
	// leading "v" ("1.2.3"), or "" when Version is not one.
	Semantic string
}

// Get returns the version of the running build.
func Get() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: "(unknown)"}
	}
	return FromBuildInfo(bi)
}

// FromBuildInfo returns the version a build's information gives.
func FromBuildInfo(bi *debug.BuildInfo) Info {
	v := bi.Main.Version
	if v != "" && v != "(devel)" {
		info := Info{Version: v}
		if s := strings.TrimPrefix(v, "v"); semverRE.MatchString(s) {
			info.Semantic = s
		}
		return info
	}
	var rev string
	dirty := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	out := "(devel)"
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		out += " " + rev
		if dirty {
			out += "-dirty"
		}
	}
	return Info{Version: out}
}

// semverRE is the regular expression semver.org gives for a Semantic
// Versioning 2.0.0 version (Go module versions are these with a "v").
var semverRE = regexp.MustCompile(`^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$`)

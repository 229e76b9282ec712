package version

import (
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	for _, tc := range []struct {
		name     string
		bi       debug.BuildInfo
		want     string
		semantic string
	}{
		{"release", debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3", "1.2.3"},
		{"prerelease", debug.BuildInfo{Main: debug.Module{Version: "v0.4.0-rc.1"}}, "v0.4.0-rc.1", "0.4.0-rc.1"},
		{"pseudo", debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20260101120000-0123456789ab"}}, "v0.0.0-20260101120000-0123456789ab", "0.0.0-20260101120000-0123456789ab"},
		{"incompatible", debug.BuildInfo{Main: debug.Module{Version: "v2.0.0+incompatible"}}, "v2.0.0+incompatible", "2.0.0+incompatible"},
		{"devel", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "(devel)", ""},
		{"devel with revision", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.modified", Value: "true"}}}, "(devel) 0123456789ab-dirty", ""},
		{"no version", debug.BuildInfo{}, "(devel)", ""},
	} {
		got := FromBuildInfo(&tc.bi)
		if got.Version != tc.want || got.Semantic != tc.semantic {
			t.Errorf("%s: got %+v, want %q, %q", tc.name, got, tc.want, tc.semantic)
		}
	}
	if Get().Version == "" {
		t.Error("Get returned no version")
	}
}

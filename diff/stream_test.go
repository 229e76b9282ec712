package diff

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/capspec/capspec/internal/jsonstream"
)

// TestJSONWriterSameAsWhole checks that the JSON a Writer streams is byte
// for byte the encoding of the whole result (Result.JSON), on pairs of
// related and unrelated policies of a few sizes.
func TestJSONWriterSameAsWhole(t *testing.T) {
	for _, n := range []int{3, 12, 60, 240} {
		for _, related := range []bool{true, false} {
			t.Run(fmt.Sprintf("rules=%d/related=%v", n, related), func(t *testing.T) {
				old, new := benchPair(t, n, related)
				res, err := Compare(old, new)
				if err != nil {
					t.Fatal(err)
				}
				want, err := jsonstream.Whole(res.JSON(), false)
				if err != nil {
					t.Fatal(err)
				}
				var got strings.Builder
				if err := res.WriteJSON(&got); err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(want, got.String()); d != "" {
					t.Errorf("streamed JSON differs from the whole (-whole +streamed):\n%s", d)
				}
			})
		}
	}
}

// TestStreamSameAsCompare checks that Stream hands over what Compare
// returns, in the same order, and counts it.
func TestStreamSameAsCompare(t *testing.T) {
	old, new := benchPair(t, 300, false)
	res, err := Compare(old, new)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	n, err := Stream(old, new, sinkFunc{
		region: func(added bool, r *Region) { got = append(got, fmt.Sprint(added, r.Flag, r.Example, len(r.Except))) },
		change: func(ch *Change) { got = append(got, fmt.Sprint(ch.Flag, ch.Was, ch.Example)) },
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, r := range res.Added {
		want = append(want, fmt.Sprint(true, r.Flag, r.Example, len(r.Except)))
	}
	for _, r := range res.Removed {
		want = append(want, fmt.Sprint(false, r.Flag, r.Example, len(r.Except)))
	}
	for _, ch := range res.Changed {
		want = append(want, fmt.Sprint(ch.Flag, ch.Was, ch.Example))
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("Stream differs from Compare (-Compare +Stream):\n%s", d)
	}
	if n != res.Counts() || n.Equivalent() {
		t.Errorf("counts %+v, want %+v (not equivalent)", n, res.Counts())
	}
}

type sinkFunc struct {
	region func(bool, *Region)
	change func(*Change)
}

func (s sinkFunc) Region(added bool, r *Region) error { s.region(added, r); return nil }
func (s sinkFunc) Change(ch *Change) error            { s.change(ch); return nil }

// TestExceptMore checks a region with more exceptions than MaxExcept: the
// first MaxExcept are listed, ExceptMore says there are more, and every
// format says so.
func TestExceptMore(t *testing.T) {
	var oldFlags []string
	for i := range MaxExcept + 200 {
		oldFlags = append(oldFlags, fmt.Sprintf("--allow-outbound=tcp://svc%d.example.com:443", i))
	}
	old, okA := compileFlags(t, "old.flags", oldFlags)
	new, okB := compileFlags(t, "new.flags", append(oldFlags[:0:0], "--allow-outbound=tcp://*:443"))
	if !okA || !okB {
		t.Fatal("policy with errors")
	}
	res, err := Compare(old, new)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Added) != 1 {
		t.Fatalf("added %d regions, want 1", len(res.Added))
	}
	reg := res.Added[0]
	if !reg.ExceptMore || len(reg.Except) != MaxExcept {
		t.Fatalf("region %s: %d exceptions, more %v; want %d and more", reg.Flag, len(reg.Except), reg.ExceptMore, MaxExcept)
	}
	var text, md, js strings.Builder
	if err := res.WriteText(&text, nil); err != nil {
		t.Fatal(err)
	}
	if err := res.WriteMarkdown(&md); err != nil {
		t.Fatal(err)
	}
	if err := res.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	more := fmt.Sprintf("except at least %d more rules (already allowed)", MaxExcept-maxExceptLines)
	for name, out := range map[string]string{"text": text.String(), "markdown": md.String()} {
		if !strings.Contains(out, more) {
			t.Errorf("%s output lacks %q:\n%s", name, more, out)
		}
	}
	if d := RegionDiagnostic(true, &reg); !strings.Contains(d.Detail, more) {
		t.Errorf("diagnostic lacks %q:\n%s", more, d.Detail)
	}
	if !strings.Contains(js.String(), `"except_more": true`) {
		t.Errorf("JSON lacks except_more")
	}
}

// TestPiecesFoundAgain checks that the regions of grants whose pieces
// are found again (past keepPieces) are those of pieces kept.
func TestPiecesFoundAgain(t *testing.T) {
	for _, related := range []bool{true, false} {
		old, new := benchPair(t, 400, related)
		regions := func(keep int) []string {
			var out []string
			for _, c := range []*comparer{{this: newSide(new), other: newSide(old)}, {this: newSide(old), other: newSide(new)}} {
				err := c.eachRegion(keep, func(r *Region) error {
					out = append(out, fmt.Sprint(r.Rule.Index, r.Flag, r.Example, r.Family, r.Except, r.ExceptMore))
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			return out
		}
		all, none := regions(1<<30), regions(0)
		if len(all) == 0 {
			t.Fatal("no region")
		}
		if d := cmp.Diff(all, none); d != "" {
			t.Errorf("related %v: regions differ (-kept +found again):\n%s", related, d)
		}
	}
}

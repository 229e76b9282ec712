package web

import (
	"io/fs"
	"math"
	"regexp"
	"strconv"
	"testing"
)

// TestContrast checks the color pairs of style.css against WCAG 2.1 AA:
// 4.5:1 for text, 3:1 for what is not text (focus ring, borders that mark
// a field, underlines). The browser test checks every text element of the
// rendered page as well.
func TestContrast(t *testing.T) {
	css, err := fs.ReadFile(Static(), "style.css")
	if err != nil {
		t.Fatal(err)
	}
	colors := map[string][3]float64{}
	for _, m := range regexp.MustCompile(`--([a-z-]+):\s*#([0-9a-fA-F]{6});`).FindAllStringSubmatch(string(css), -1) {
		var c [3]float64
		for i := range c {
			v, _ := strconv.ParseUint(m[2][2*i:2*i+2], 16, 8)
			c[i] = float64(v)
		}
		colors[m[1]] = c
	}
	pairs := []struct {
		fg, bg string
		min    float64
		use    string
	}{
		{"fg", "bg", 4.5, "text"},
		{"fg", "panel", 4.5, "text in panels"},
		{"fg", "code-bg", 4.5, "code"},
		{"muted", "bg", 4.5, "hints, line numbers"},
		{"muted", "panel", 4.5, "hints in panels, disabled buttons"},
		{"accent-fg", "accent", 4.5, "buttons"},
		{"accent", "bg", 4.5, "position links"},
		{"accent", "panel", 4.5, "position links"},
		{"error", "bg", 4.5, "errors, denials"},
		{"error", "panel", 4.5, "errors"},
		{"warning", "bg", 4.5, "warnings, changed mappings"},
		{"info", "bg", 4.5, "infos"},
		{"allow", "bg", 4.5, "allowed, added"},
		{"deny", "bg", 4.5, "denied, removed"},
		{"bg", "fg", 4.5, "tooltips"},
		{"fg", "error-bg", 4.5, "text over an error range"},
		{"fg", "warning-bg", 4.5, "text over a warning range"},
		{"fg", "info-bg", 4.5, "text over an info range"},
		{"focus", "bg", 3, "focus ring"},
		{"focus", "panel", 3, "focus ring in panels"},
		{"border", "bg", 3, "field borders"},
		{"border", "panel", 3, "field borders in panels"},
		{"error", "error-bg", 3, "error underline"},
		{"warning", "warning-bg", 3, "warning underline"},
		{"info", "info-bg", 3, "info underline"},
	}
	for _, p := range pairs {
		fg, ok1 := colors[p.fg]
		bg, ok2 := colors[p.bg]
		if !ok1 || !ok2 {
			t.Errorf("style.css lacks --%s or --%s", p.fg, p.bg)
			continue
		}
		if r := contrast(fg, bg); r < p.min {
			t.Errorf("--%s on --%s (%s): contrast %.2f, want %.1f", p.fg, p.bg, p.use, r, p.min)
		}
	}
}

// contrast is the WCAG contrast ratio of two sRGB colors.
func contrast(a, b [3]float64) float64 {
	la, lb := luminance(a), luminance(b)
	return (math.Max(la, lb) + 0.05) / (math.Min(la, lb) + 0.05)
}

func luminance(c [3]float64) float64 {
	var l [3]float64
	for i, v := range c {
		v /= 255
		if v <= 0.03928 {
			l[i] = v / 12.92
		} else {
			l[i] = math.Pow((v+0.055)/1.055, 2.4)
		}
	}
	return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
}

func TestContrastFormula(t *testing.T) {
	if r := contrast([3]float64{0, 0, 0}, [3]float64{255, 255, 255}); math.Abs(r-21) > 1e-9 {
		t.Errorf("black on white: %v, want 21", r)
	}
	if r := contrast([3]float64{0x76, 0x76, 0x76}, [3]float64{255, 255, 255}); r < 4.5 || r > 4.6 {
		t.Errorf("#767676 on white: %v, want 4.54", r)
	}
}

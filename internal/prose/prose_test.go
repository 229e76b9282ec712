package prose

import "testing"

func TestJoinAnd(t *testing.T) {
	tests := []struct {
		words []string
		want  string
	}{
		{nil, ""},
		{[]string{"a"}, "a"},
		{[]string{"a", "b"}, "a and b"},
		{[]string{"a", "b", "c"}, "a, b and c"},
		{[]string{"$HOST", "the brace expansion", "$(cmd)", "$PORT"}, "$HOST, the brace expansion, $(cmd) and $PORT"},
	}
	for _, tt := range tests {
		if got := JoinAnd(tt.words); got != tt.want {
			t.Errorf("JoinAnd(%q) = %q, want %q", tt.words, got, tt.want)
		}
	}
}

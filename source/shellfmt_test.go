package source_test

import (
	"testing"

	"github.com/capspec/capspec/source"
)

func TestRewriteShell(t *testing.T) {
	tests := []struct {
		name   string
		script string
		flags  [][]string // new flags of each command, in order
		want   string
	}{
		{
			name:   "spelling",
			script: "wasmtime run --allow-outbound=\"TCP://Example.com:80\" app.wasm # keep\n",
			flags:  [][]string{{"--allow-outbound=tcp://example.com:80"}},
			want:   "wasmtime run --allow-outbound=tcp://example.com:80 app.wasm # keep\n",
		},
		{
			name:   "unchanged flags keep their quotes",
			script: "wasmtime run --allow-outbound='tcp://example.com:80' --allow-inbound=\"tcp://*:80\" app.wasm\n",
			flags:  [][]string{{"--allow-outbound=tcp://example.com:80", "--allow-inbound=tcp://*:80"}},
			want:   "wasmtime run --allow-outbound='tcp://example.com:80' --allow-inbound=\"tcp://*:80\" app.wasm\n",
		},
		{
			name:   "unquoted glob gets quotes",
			script: "wasmtime run --allow-inbound=tcp://*:80 app.wasm\n",
			flags:  [][]string{{"--allow-inbound=tcp://*:80"}},
			want:   "wasmtime run --allow-inbound='tcp://*:80' app.wasm\n",
		},
		{
			name:   "double quotes kept as the style",
			script: "wasmtime run --allow-inbound=\"tcp://*:80,81\" app.wasm\n",
			flags:  [][]string{{"--allow-inbound=tcp://*:80-81"}},
			want:   "wasmtime run --allow-inbound=\"tcp://*:80-81\" app.wasm\n",
		},
		{
			name:   "two words become one",
			script: "wasmtime run --allow-resolve \\\n  Example.COM app.wasm\n",
			flags:  [][]string{{"--allow-resolve=example.com"}},
			want:   "wasmtime run --allow-resolve=example.com app.wasm\n",
		},
		{
			name:   "merged flags: the extra line goes",
			script: "wasmtime run \\\n  --allow-outbound=tcp://a.example:80 \\\n  --allow-outbound=tcp://a.example:443 \\\n  app.wasm\n",
			flags:  [][]string{{"--allow-outbound=tcp://a.example:80,443"}},
			want:   "wasmtime run \\\n  --allow-outbound=tcp://a.example:80,443 \\\n  app.wasm\n",
		},
		{
			name:   "new flags follow the last one, laid out alike",
			script: "wasmtime run \\\n  --allow-outbound=tcp://...#ipv4-only \\\n  app.wasm\n",
			flags:  [][]string{{"--allow-resolve=a.example", "--allow-outbound=tcp://*:*#ipv4-only"}},
			want:   "wasmtime run \\\n  --allow-resolve=a.example \\\n  --allow-outbound='tcp://*:*#ipv4-only' \\\n  app.wasm\n",
		},
		{
			name:   "other arguments stay in place",
			script: "wasmtime run --allow-resolve=b.example --dir=. --allow-resolve=a.example app.wasm\n",
			flags:  [][]string{{"--allow-resolve=a.example", "--allow-resolve=b.example"}},
			want:   "wasmtime run --allow-resolve=a.example --dir=. --allow-resolve=b.example app.wasm\n",
		},
		{
			name:   "port mapping",
			script: "spin up --allow-inbound tcp://*:80 app\n",
			flags:  [][]string{{"--allow-inbound=tcp://*:80->8888"}},
			want:   "spin up --allow-inbound='tcp://*:80->8888' app\n",
		},
		{
			name:   "two commands",
			script: "a --allow-resolve=X.example\nif true; then\n\tb --allow-resolve=Y.example | c\nfi\n",
			flags:  [][]string{{"--allow-resolve=x.example"}, {"--allow-resolve=y.example"}},
			want:   "a --allow-resolve=x.example\nif true; then\n\tb --allow-resolve=y.example | c\nfi\n",
		},
		{
			name:   "unprintable",
			script: "a --allow-resolve=x.example\n",
			flags:  [][]string{{"--allow-resolve=x\u200b.example"}},
			want:   "a --allow-resolve=$'x\\u200b.example'\n",
		},
		{
			name:   "dynamic flags stay when flags around them go",
			script: "a \\\n  --allow-outbound=tcp://x:80 \\\n  --allow-outbound=tcp://db:$PORT \\\n  --allow-outbound tcp://x:443 \\\n  --allow-resolve \"$H\" \\\n  --allow-$K=1 app\n",
			flags:  [][]string{{"--allow-outbound=tcp://x:80,443"}},
			want:   "a \\\n  --allow-outbound=tcp://x:80,443 \\\n  --allow-outbound=tcp://db:$PORT \\\n  --allow-resolve \"$H\" \\\n  --allow-$K=1 app\n",
		},
		{
			name:   "dynamic flags stay when flags are added after them",
			script: "a --allow-resolve=$(h) --allow-outbound=tcp://...#ipv4-only --allow-outbound=tcp://${H:-x}:1\n",
			flags:  [][]string{{"--allow-resolve=a.example", "--allow-outbound=tcp://*:*#ipv4-only"}},
			want:   "a --allow-resolve=$(h) --allow-resolve=a.example --allow-outbound='tcp://*:*#ipv4-only' --allow-outbound=tcp://${H:-x}:1\n",
		},
		{
			name:   "only dynamic flags: nothing to do",
			script: "a --allow-resolve=$H\n",
			flags:  [][]string{nil},
			want:   "a --allow-resolve=$H\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ins, err := source.Shell{Name: "run.sh", Content: tt.script}.Read()
			if err != nil {
				t.Fatal(err)
			}
			if len(ins) != len(tt.flags) {
				t.Fatalf("read %d commands, want %d", len(ins), len(tt.flags))
			}
			var rws []source.ShellRewrite
			for i, in := range ins {
				rws = append(rws, source.ShellRewrite{Input: in, Flags: tt.flags[i]})
			}
			got, err := source.RewriteShell(tt.script, rws)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
			// The result reads back as the flags asked for.
			again, err := source.Shell{Name: "run.sh", Content: got}.Read()
			if err != nil {
				t.Fatalf("rewritten script does not parse: %v", err)
			}
			if a, b := dynamicFlags(ins), dynamicFlags(again); a != b {
				t.Errorf("%d dynamic flags, %d before", b, a)
			}
			for i, in := range again {
				var texts []string
				for _, f := range in.Flags {
					texts = append(texts, f.Text)
				}
				if !equal(texts, tt.flags[i]) {
					t.Errorf("command %d reads back as %q, want %q", i, texts, tt.flags[i])
				}
			}
		})
	}
}

func TestRewriteShellErrors(t *testing.T) {
	script := "a --allow-resolve=$X\n"
	ins, err := source.Shell{Name: "run.sh", Content: script}.Read()
	if err != nil || len(ins) != 1 {
		t.Fatalf("read: %v, %d inputs", err, len(ins))
	}
	if _, err := source.RewriteShell(script, []source.ShellRewrite{{Input: ins[0], Flags: []string{"--allow-resolve=x.example"}}}); err == nil {
		t.Error("rewriting a command whose only flag is dynamic: no error")
	}
	if _, err := source.RewriteShell("a --allow-resolve=x\n", []source.ShellRewrite{{Input: ins[0], Flags: nil}}); err != nil {
		t.Errorf("no flags to no flags: %v", err)
	}
}

// dynamicFlags counts the flags of the inputs whose text the shell computes
// (CS013).
func dynamicFlags(ins []*source.Input) int {
	n := 0
	for _, in := range ins {
		for _, d := range in.Diags {
			if d.ID == source.DynamicValueID {
				n++
			}
		}
	}
	return n
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

package normalize

import (
	"hash/fnv"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// FuzzFormat formats arbitrary text read as a flags file. When the text
// has no errors: the output has none, is canonical (formatting it again
// changes nothing), keeps every comment, and formatting never changes a
// decision: the reference evaluator decides random requests — about the
// names, addresses and ports of the input and of the output — alike on
// both. testdata/fuzz/FuzzFormat holds Unicode spellings (fullwidth,
// circled and mathematical digits, ideographic full stops), on which a
// name that formatted into an address would be caught.
func FuzzFormat(f *testing.F) {
	files, _ := filepath.Glob("../testdata/normalize/*.flags")
	examples, _ := filepath.Glob("../testdata/examples/*.flags")
	for _, path := range append(files, examples...) {
		if b, err := os.ReadFile(path); err == nil {
			f.Add(string(b))
		}
	}
	for seed := range uint64(20) {
		r := rand.New(rand.NewPCG(seed, 3))
		text, _ := genFile(r, 1+r.IntN(12))
		f.Add(text)
	}
	f.Add("--allow-outbound=tcp://0.0.0.0/1:80 --allow-outbound=tcp://128.0.0.0/1:80")
	f.Add("--allow-inbound=tcp://*:0 --allow-inbound=tcp://*:1-65535 # all")
	for _, tc := range lookalikes {
		f.Add(tc.flag + "\n")
	}
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 4096 || len(parse(text).errs) > 0 {
			return
		}
		h := fnv.New64a()
		h.Write([]byte(text))
		r := rand.New(rand.NewPCG(h.Sum64(), 1))
		checkFormatted(t, text, r, 50, &meaningStats{})
	})
}

// Package gz compresses the playground's files for the wire: gzip at the
// best compression with an empty header (no name, no time), so that the
// same bytes always compress to the same bytes — the committed wasm is
// compared byte for byte with a fresh build.
package gz

import (
	"bytes"
	"compress/gzip"
	"io"
)

// Compress returns b gzipped.
func Compress(b []byte) []byte {
	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.BestCompression)
	if err != nil {
		panic(err) // cannot happen: the level is valid
	}
	zw.Write(b) // writes to a bytes.Buffer do not fail
	zw.Close()
	return out.Bytes()
}

// Decompress returns the content of gzipped bytes.
func Decompress(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	defer zr.Close()
	return io.ReadAll(zr)
}

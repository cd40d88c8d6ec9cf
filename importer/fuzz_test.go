package importer

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// FuzzReader feeds the CSV reader any bytes: it must never panic or loop, must number rows
// one by one, and must keep line numbers in order.
func FuzzReader(f *testing.F) {
	dir := filepath.Join("..", "testdata", "fuzz", "FuzzReader")
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := newReader(bytes.NewReader(data), ReaderOptions{}, 1<<10)
		if err != nil {
			return
		}
		lastLine := 1
		for i := 1; ; i++ {
			if i > len(data)+2 {
				t.Fatalf("more records than bytes: a loop")
			}
			rec, err := r.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				return
			}
			if rec.Row != i || rec.Line <= lastLine {
				t.Fatalf("record %d: row %d line %d after line %d", i, rec.Row, rec.Line, lastLine)
			}
			lastLine = rec.Line
		}
	})
}

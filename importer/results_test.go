package importer

import (
	"bytes"
	"encoding/csv"
	"testing"

	"plannr-import/mapping"
)

// Text a spreadsheet would run as a formula is made inert in what the tool writes; the
// user's own cells in the failed-rows file stay as they were.
func TestFormulasAreInert(t *testing.T) {
	var buf bytes.Buffer
	rw, err := NewResultsWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	rw.Write(Outcome{Row: 1, Line: 2, Status: Rejected, Detail: mapping.ContactDetail{Name: "=HYPERLINK(\"http://x\")", Value: "+442079460958"},
		Error: "=cmd|' /C calc'!A0", Warning: "@SUM(A1)"})
	recs, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for i, h := range recs[0] {
		got[h] = recs[1][i]
	}
	for col, want := range map[string]string{"name": "'=HYPERLINK(\"http://x\")", "value": "+442079460958", "error": "'=cmd|' /C calc'!A0", "warning": "'@SUM(A1)"} {
		if got[col] != want {
			t.Errorf("%s = %q, want %q", col, got[col], want)
		}
	}

	buf.Reset()
	fw, _ := NewFailedWriter(&buf, []string{"name", "value"})
	fw.Write([]string{"=1+1", "\tx"}, "\rvalue: bad")
	recs, _ = csv.NewReader(&buf).ReadAll()
	if recs[1][0] != "=1+1" || recs[1][1] != "\tx" || recs[1][2] != "'\rvalue: bad" {
		t.Errorf("failed row %q", recs[1])
	}
}

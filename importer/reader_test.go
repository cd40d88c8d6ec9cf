package importer

import (
	"errors"
	"io"
	"strings"
	"testing"
)

// readAll reads every record of input, failing the test on a file-level error.
func readAll(t *testing.T, input string, limit int) ([]string, []Record) {
	t.Helper()
	r, err := newReader(strings.NewReader(input), limit)
	if err != nil {
		t.Fatalf("newReader: %v", err)
	}
	var recs []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return r.Header(), recs
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		recs = append(recs, rec)
	}
}

type wantRecord struct {
	row, line int
	cells     string // cells joined by "|"
	err       string // substring of the error; "" for none
}

func TestReaderRecords(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		header string
		want   []wantRecord
	}{
		{
			name:   "plain LF",
			input:  "a,b,c\n1,2,3\n4,5,6\n",
			header: "a|b|c",
			want:   []wantRecord{{1, 2, "1|2|3", ""}, {2, 3, "4|5|6", ""}},
		},
		{
			name:   "CRLF, BOM, padded header, no final line end",
			input:  "\ufeff a ,B,c \r\n1,2,3\r\n4,5,6",
			header: "a|B|c",
			want:   []wantRecord{{1, 2, "1|2|3", ""}, {2, 3, "4|5|6", ""}},
		},
		{
			name:   "trailing and inner blank lines",
			input:  "a,b\n1,2\n\n\r\n3,4\n\n\n",
			header: "a|b",
			want:   []wantRecord{{1, 2, "1|2", ""}, {2, 5, "3|4", ""}},
		},
		{
			name:   "multi-line quoted fields keep the real start line",
			input:  "a,b\n\"1\nstill 1\",2\n3,\"4\r\n\r\n4\"\n5,6\n",
			header: "a|b",
			want:   []wantRecord{{1, 2, "1\nstill 1|2", ""}, {2, 4, "3|4\n\n4", ""}, {3, 7, "5|6", ""}},
		},
		{
			name:   "bare quote is that row's error; reading goes on",
			input:  "a,b,c\n1,2,3\n4,O\"Brien,6\n7,8,9\n",
			header: "a|b|c",
			want:   []wantRecord{{1, 2, "1|2|3", ""}, {2, 3, "4|O\"Brien|6", "line 3, column 4: a quote"}, {3, 4, "7|8|9", ""}},
		},
		{
			name:   "text after a closing quote",
			input:  "a,b\n\"x\"y,2\n3,4\n",
			header: "a|b",
			want:   []wantRecord{{1, 2, "x\"y,2", "line 2, column 3: text after a closing quote"}, {2, 3, "3|4", ""}},
		},
		{
			name:   "a quote never closed does not swallow the rest of the file",
			input:  "a,b\n1,2\n3,\"4\n5,6\n7,8\n",
			header: "a|b",
			want: []wantRecord{
				{1, 2, "1|2", ""},
				{2, 3, "3|4", "line 3: a quoted field opened here is not closed"},
				{3, 4, "5|6", ""},
				{4, 5, "7|8", ""},
			},
		},
		{
			name:   "a quote closed lines later, then broken",
			input:  "a,b\n\"1,2\n3,4\n5\"x,6\n7,8\n",
			header: "a|b",
			want: []wantRecord{
				{1, 2, "1,2", "line 2: a quoted field opened here is not closed"},
				{2, 3, "3|4", ""},
				{3, 4, "5\"x|6", "line 4, column 2"},
				{4, 5, "7|8", ""},
			},
		},
		{
			name:   "wrong field counts",
			input:  "a,b,c\n1,2\n1,2,3,4\n1,2,3,,\n",
			header: "a|b|c",
			want: []wantRecord{
				{1, 2, "1|2", "line 2 has 2 fields but the header has 3"},
				{2, 3, "1|2|3|4", "line 3 has 4 fields but the header has 3"},
				{3, 4, "1|2|3", ""}, // a trailing empty cell is dropped
			},
		},
		{
			name:   "blank spreadsheet rows",
			input:  "a,b,c\n,,\n , \n1,2,3\n",
			header: "a|b|c",
			want:   []wantRecord{{1, 2, "||", ""}, {2, 3, " | ", ""}, {3, 4, "1|2|3", ""}},
		},
		{
			name:   "invalid UTF-8 and NUL bytes are the row's problem",
			input:  "a,b\ncaf\xe9,1\nx\x00y,2\n3,4\n",
			header: "a|b",
			want: []wantRecord{
				{1, 2, "caf\xe9|1", "field 1 is not valid UTF-8"},
				{2, 3, "x\x00y|2", "field 1 has a NUL byte"},
				{3, 4, "3|4", ""},
			},
		},
		{
			name:   "old Mac line ends",
			input:  "a,b\r1,2\r3,4\r",
			header: "a|b",
			want:   []wantRecord{{1, 2, "1|2", ""}, {2, 3, "3|4", ""}},
		},
		{
			name:   "header only",
			input:  "account_uuids,type,name,value\r\n",
			header: "account_uuids|type|name|value",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header, recs := readAll(t, tt.input, MaxRecordBytes)
			if got := strings.Join(header, "|"); got != tt.header {
				t.Errorf("header %q, want %q", got, tt.header)
			}
			if len(recs) != len(tt.want) {
				t.Fatalf("read %d records, want %d: %+v", len(recs), len(tt.want), recs)
			}
			for i, w := range tt.want {
				got := recs[i]
				if got.Row != w.row || got.Line != w.line || strings.Join(got.Cells, "|") != w.cells {
					t.Errorf("record %d = row %d line %d %q, want row %d line %d %q", i, got.Row, got.Line, strings.Join(got.Cells, "|"), w.row, w.line, w.cells)
				}
				switch {
				case w.err == "" && got.Err != nil:
					t.Errorf("record %d: unexpected error %v", i, got.Err)
				case w.err != "" && (got.Err == nil || !strings.Contains(got.Err.Error(), w.err)):
					t.Errorf("record %d: error %v, want it to contain %q", i, got.Err, w.err)
				}
			}
		})
	}
}

func TestReaderBlank(t *testing.T) {
	_, recs := readAll(t, "a,b,c\n,,\n1,2,3\n", MaxRecordBytes)
	if !recs[0].Blank || recs[1].Blank {
		t.Errorf("Blank = %v, %v; want true, false", recs[0].Blank, recs[1].Blank)
	}
}

func TestReaderRecordTooLong(t *testing.T) {
	const limit = 1 << 10
	long := strings.Repeat("x", 20*limit)
	tests := []struct {
		name  string
		input string
		want  []wantRecord
	}{
		{
			name:  "a quote left open swallowing many lines",
			input: "a,b\n1,\"2\n" + strings.Repeat("3,4\n", 400) + "5,6\n",
			want:  []wantRecord{{1, 2, "1|2", "line 2 starts a record longer than 1 KiB"}, {2, 3, "3|4", ""}},
		},
		{
			name:  "one very long line",
			input: "a,b\n1," + long + "\n5,6\n",
			want:  []wantRecord{{1, 2, "", "line 2 starts a record longer than 1 KiB"}, {2, 3, "5|6", ""}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, recs := readAll(t, tt.input, limit)
			for i, w := range tt.want {
				got := recs[i]
				if got.Row != w.row || got.Line != w.line || strings.Join(got.Cells, "|") != w.cells {
					t.Errorf("record %d = row %d line %d %.40q, want row %d line %d %q", i, got.Row, got.Line, strings.Join(got.Cells, "|"), w.row, w.line, w.cells)
				}
				if (w.err == "") != (got.Err == nil) || got.Err != nil && !strings.Contains(got.Err.Error(), w.err) {
					t.Errorf("record %d: error %v, want %q", i, got.Err, w.err)
				}
			}
			last := recs[len(recs)-1]
			if strings.Join(last.Cells, "|") != "5|6" || last.Err != nil {
				t.Errorf("last record %+v, want 5|6: reading did not resume", last)
			}
		})
	}
}

func TestReaderUnreadableFiles(t *testing.T) {
	tests := []struct{ name, input, want string }{
		{"empty", "", "is empty"},
		{"white space", " \r\n\n", "is empty"},
		{"UTF-16 LE", "\xff\xfea\x00,\x00b\x00", "is UTF-16"},
		{"UTF-16 BE", "\xfe\xff\x00a\x00,\x00b", "is UTF-16"},
		{"xlsx", "PK\x03\x04\x14\x00\x06\x00", "spreadsheet workbook (.xlsx)"},
		{"binary", "\x7fELF\x02\x01\x01\x00\x00\x00\n", "NUL bytes"},
		{"BOM only", "\ufeff", "has no header line"},
		{"blank header", ",,\n1,2,3\n", "has no column names"},
		{"broken header", "a,\"b\nc,d\n", "header line 1 cannot be read"},
		{"header not UTF-8", "caf\xe9,b\n1,2\n", "header line 1 cannot be read: field 1 is not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tt.input))
			var ie *InputError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewReader error %v, want an InputError saying %q", err, tt.want)
			}
		})
	}
}

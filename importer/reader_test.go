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
	return readAllOpts(t, input, ReaderOptions{}, limit)
}

func readAllOpts(t *testing.T, input string, opts ReaderOptions, limit int) ([]string, []Record) {
	t.Helper()
	r, err := newReader(strings.NewReader(input), opts, limit)
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
		opts   ReaderOptions
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
			opts: ReaderOptions{Encoding: "utf-8"}, // said: else the start of the file shows it is not UTF-8
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
			header, recs := readAllOpts(t, tt.input, tt.opts, MaxRecordBytes)
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
	tests := []struct {
		name, input, want string
		opts              ReaderOptions
	}{
		{"empty", "", "is empty", ReaderOptions{}},
		{"white space", " \r\n\n", "is empty", ReaderOptions{}},
		{"UTF-16 of nothing", "\xff\xfe \x00\n\x00", "is empty", ReaderOptions{}},
		{"xlsx", "PK\x03\x04\x14\x00\x06\x00", "spreadsheet workbook (.xlsx)", ReaderOptions{}},
		{"binary", "\x7fELF\x02\x01\x01\x00\x00\x00\n", "NUL bytes", ReaderOptions{}},
		{"BOM only", "\ufeff", "is empty", ReaderOptions{}},
		{"blank header", ",,\n1,2,3\n", "has no column names", ReaderOptions{}},
		{"broken header", "a,\"b\nc,d\n", "header line 1 cannot be read", ReaderOptions{}},
		{"header not UTF-8, said to be", "caf\xe9,b\n1,2\n", "header line 1 cannot be read: field 1 is not valid UTF-8", ReaderOptions{Encoding: "utf-8"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := NewReader(strings.NewReader(tt.input), tt.opts)
			var ie *InputError
			if !errors.As(err, &ie) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewReader error %v, want an InputError saying %q", err, tt.want)
			}
		})
	}
}

func TestReaderEncodingsAndDelimiters(t *testing.T) {
	utf16le := func(s string) string {
		b := []byte{0xFF, 0xFE}
		for _, r := range s {
			b = append(b, byte(r), byte(r>>8))
		}
		return string(b)
	}
	utf16be := func(s string) string {
		b := []byte{0xFE, 0xFF}
		for _, r := range s {
			b = append(b, byte(r>>8), byte(r))
		}
		return string(b)
	}
	tests := []struct {
		name   string
		input  string
		opts   ReaderOptions
		header string
		cells  string // of the first record
		note   string
	}{
		{"semicolons (Excel in much of Europe)", "a;b;c\r\n1;\"2;x\";3\r\n", ReaderOptions{}, "a|b|c", "1|2;x|3", "separated by semicolons"},
		{"tabs", "a\tb\n1\t2\n", ReaderOptions{}, "a|b", "1|2", "separated by tabs"},
		{"pipes", "a|b\n1|2\n", ReaderOptions{}, "a|b", "1|2", "separated by pipes"},
		{"commas inside quotes do not count", "\"a,x\";b\n1;2\n", ReaderOptions{}, "a,x|b", "1|2", "semicolons"},
		{"a single column", "email\na@example.com\n", ReaderOptions{}, "email", "a@example.com", ""},
		{"delimiter said", "a;b,c\n1;2,3\n", ReaderOptions{Delimiter: ','}, "a;b|c", "1;2|3", ""},
		{"Windows-1252 found out", "name;city\r\nRen\xe9e O\x92Neill;K\xf6ln \x80\r\n", ReaderOptions{}, "name|city", "Renée O’Neill|Köln €", "read as Windows-1252"},
		{"Windows-1252 said", "name\nRen\xe9e\n", ReaderOptions{Encoding: "cp1252"}, "name", "Renée", ""},
		{"Latin-1 said", "name\nRen\xe9e\n", ReaderOptions{Encoding: "latin1"}, "name", "Renée", ""},
		{"UTF-16 LE with BOM", utf16le("name,city\r\nRenée,Köln\r\n"), ReaderOptions{}, "name|city", "Renée|Köln", ""},
		{"UTF-16 BE with BOM", utf16be("name;city\nRenée;Köln\n"), ReaderOptions{}, "name|city", "Renée|Köln", "semicolons"},
		{"UTF-8 with BOM said", "\ufeffname\nRenée\n", ReaderOptions{Encoding: "UTF-8"}, "name", "Renée", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tt.input), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			rec, err := r.Next()
			if err != nil || rec.Err != nil {
				t.Fatalf("Next: %v %v", err, rec.Err)
			}
			if h, c := strings.Join(r.Header(), "|"), strings.Join(rec.Cells, "|"); h != tt.header || c != tt.cells {
				t.Errorf("header %q cells %q, want %q %q", h, c, tt.header, tt.cells)
			}
			notes := strings.Join(r.Notes(), "; ")
			if tt.note == "" && notes != "" || !strings.Contains(notes, tt.note) {
				t.Errorf("notes %q, want %q", notes, tt.note)
			}
		})
	}
	bad := []struct {
		input string
		opts  ReaderOptions
		want  string
	}{
		{utf16le("a,b\n"), ReaderOptions{Encoding: "windows-1252"}, "starts with a UTF-16 byte order mark, but --encoding says windows-1252"},
		{"a,b\n", ReaderOptions{Encoding: "ebcdic"}, `--encoding "ebcdic" is not one of auto, utf-8, utf-16, windows-1252, latin1`},
	}
	for _, tt := range bad {
		if _, err := NewReader(strings.NewReader(tt.input), tt.opts); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.input, err, tt.want)
		}
	}
}

func TestParseDelimiter(t *testing.T) {
	for in, want := range map[string]rune{"": 0, "auto": 0, ",": ',', ";": ';', "tab": '\t', `\t`: '\t', "TAB": '\t', "|": '|', "semicolon": ';'} {
		if got, err := ParseDelimiter(in); err != nil || got != want {
			t.Errorf("ParseDelimiter(%q) = %q, %v", in, got, err)
		}
	}
	for _, bad := range []string{",,", `"`, "\n", "comma please"} {
		if _, err := ParseDelimiter(bad); err == nil {
			t.Errorf("ParseDelimiter(%q) succeeded", bad)
		}
	}
}

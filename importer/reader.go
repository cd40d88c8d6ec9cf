package importer

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// MaxRecordBytes bounds one record of the input. A longer record is almost always a quote
// that was never closed swallowing the lines after it; it is reported as a broken row and
// reading resumes on the next line, so memory stays bounded whatever the file holds.
const MaxRecordBytes = 1 << 20

// sniffBytes is how much of the file is looked at before parsing to recognise files that are
// not CSV text at all.
const sniffBytes = 64 << 10

// InputError says the input cannot be read as a CSV file at all: nothing is imported.
type InputError struct {
	Msg string
}

func (e *InputError) Error() string { return e.Msg }

// Record is one record of the input.
type Record struct {
	// Row is the 1-based number of the data record (the header is not counted).
	Row int
	// Line is the physical line of the file the record starts on.
	Line int
	// Cells are the record's fields as the file has them. For a broken record they are a
	// best-effort split of its first line, for the failed-rows file.
	Cells []string
	// Err is set when the record is structurally broken (a stray quote, a record too long,
	// invalid UTF-8); it then is not mapped.
	Err error
	// Blank is set for a record whose cells are all empty or white space: a spreadsheet's
	// empty row (",,,,"), which holds no contact detail.
	Blank bool
}

// Reader streams the records of a CSV file. It reads the header first, reports each broken
// record as a Record with Err set and carries on after it, and never holds more than one
// record (bounded by MaxRecordBytes) and a read buffer in memory.
type Reader struct {
	src    *source // the input after sniffing: BOM dropped, CR-only line ends turned to LF
	cap    *capture
	csv    *csv.Reader
	header []string
	row    int
	// lineOffset is the physical line before the first line of the current csv.Reader: it is
	// not zero after a resynchronisation.
	lineOffset int
	limit      int
	comma      rune
	notes      []string
}

// ReaderOptions say how to read the input's text.
type ReaderOptions struct {
	// Delimiter separates the fields; 0 means: the one of , ; tab | that the header line
	// uses most.
	Delimiter rune
	// Encoding is the text's encoding: "utf-8", "utf-16", "windows-1252", "latin1", or ""
	// for auto: a byte order mark says UTF-8 or UTF-16; otherwise UTF-8 if the start of the
	// file is valid UTF-8, else Windows-1252 (what Excel writes as "CSV" on Windows).
	Encoding string
}

// Encodings lists the names ReaderOptions.Encoding takes.
var Encodings = []string{"auto", "utf-8", "utf-16", "windows-1252", "latin1"}

// NewReader reads the header of the CSV text in r. It fails with an *InputError when r is
// empty, has no header, or is not CSV text (a spreadsheet, binary).
func NewReader(r io.Reader, opts ReaderOptions) (*Reader, error) {
	return newReader(r, opts, MaxRecordBytes)
}

func newReader(r io.Reader, opts ReaderOptions, limit int) (*Reader, error) {
	text, notes, err := decode(bufio.NewReaderSize(r, sniffBytes), opts.Encoding)
	if err != nil {
		return nil, err
	}
	br := bufio.NewReaderSize(text, sniffBytes)
	head, err := br.Peek(sniffBytes)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, &InputError{Msg: fmt.Sprintf("cannot be read: %v", err)}
	}
	if len(bytes.TrimSpace(head)) == 0 {
		return nil, &InputError{Msg: "is empty: expected a header line such as account_uuids,type,name,value"}
	}
	line := head
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		line = head[:i]
	}
	if bytes.IndexByte(line, 0) >= 0 {
		return nil, &InputError{Msg: "is not a CSV text file: its first line has NUL bytes"}
	}
	rd := &Reader{src: &source{r: br}, limit: limit, comma: opts.Delimiter, notes: notes}
	if bytes.IndexByte(head, '\n') < 0 && bytes.IndexByte(head, '\r') >= 0 {
		// Old Mac line ends, which encoding/csv would read as one line.
		rd.src.r = bufio.NewReaderSize(&crToLF{r: br}, sniffBytes)
		line, _, _ = bytes.Cut(head, []byte{'\r'})
	}
	if rd.comma == 0 {
		rd.comma = detectDelimiter(line)
		if rd.comma != ',' {
			rd.notes = append(rd.notes, fmt.Sprintf("fields separated by %s (from the header line; --delimiter to choose)", delimiterName(rd.comma)))
		}
	}
	rd.restart(0)
	header, err := rd.next()
	switch {
	case err == io.EOF:
		return nil, &InputError{Msg: "has no header line: expected column names such as account_uuids,type,name,value"}
	case err != nil:
		return nil, err
	case header.Err == nil:
		header.Err = checkText(header.Cells)
	}
	if header.Err != nil {
		return nil, &InputError{Msg: fmt.Sprintf("header line %d cannot be read: %v", header.Line, header.Err)}
	}
	for i, h := range header.Cells {
		header.Cells[i] = strings.TrimSpace(h)
	}
	if strings.Join(header.Cells, "") == "" {
		return nil, &InputError{Msg: fmt.Sprintf("header line %d has no column names", header.Line)}
	}
	rd.header = header.Cells
	rd.row = 0
	return rd, nil
}

// decode recognises inputs that are not text from their first bytes and returns the text
// as UTF-8, without a byte order mark.
func decode(br *bufio.Reader, encoding string) (io.Reader, []string, error) {
	head, err := br.Peek(sniffBytes)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, nil, &InputError{Msg: fmt.Sprintf("cannot be read: %v", err)}
	}
	if bytes.HasPrefix(head, []byte("PK\x03\x04")) {
		return nil, nil, &InputError{Msg: "is a spreadsheet workbook (.xlsx), not CSV: save it as \"CSV UTF-8\" (in Excel: File → Save As → CSV UTF-8)"}
	}
	utf16BOM := bytes.HasPrefix(head, []byte{0xFF, 0xFE}) || bytes.HasPrefix(head, []byte{0xFE, 0xFF})
	utf8BOM := bytes.HasPrefix(head, []byte("\xEF\xBB\xBF"))
	enc := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(encoding), "_", "-"))
	switch enc {
	case "", "auto":
		switch {
		case utf16BOM:
			enc = "utf-16"
		case utf8BOM:
			enc = "utf-8"
		case !validUTF8Prefix(head):
			return transform.NewReader(br, charmap.Windows1252.NewDecoder()), []string{"read as Windows-1252: the file is not UTF-8 (--encoding to choose)"}, nil
		default:
			enc = "utf-8"
		}
	case "utf8":
		enc = "utf-8"
	case "utf16", "utf-16le", "utf-16be", "ucs-2":
		enc = "utf-16"
	case "cp1252", "windows1252":
		enc = "windows-1252"
	case "latin-1", "iso-8859-1", "iso8859-1":
		enc = "latin1"
	}
	if utf16BOM && enc != "utf-16" {
		return nil, nil, &InputError{Msg: fmt.Sprintf("starts with a UTF-16 byte order mark, but --encoding says %s", encoding)}
	}
	switch enc {
	case "utf-8":
		if utf8BOM {
			br.Discard(3)
		}
		return br, nil, nil
	case "utf-16":
		// Without a byte order mark, little-endian: what Windows writes.
		return transform.NewReader(br, unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewDecoder()), nil, nil
	case "windows-1252":
		return transform.NewReader(br, charmap.Windows1252.NewDecoder()), nil, nil
	case "latin1":
		return transform.NewReader(br, charmap.ISO8859_1.NewDecoder()), nil, nil
	}
	return nil, nil, &ConfigError{Msg: fmt.Sprintf("--encoding %q is not one of %s", encoding, strings.Join(Encodings, ", "))}
}

// validUTF8Prefix reports whether b is valid UTF-8, but for a rune cut off at its end.
func validUTF8Prefix(b []byte) bool {
	for i := 0; i < 3 && len(b) > 0 && !utf8.Valid(b); i++ {
		b = b[:len(b)-1]
	}
	return utf8.Valid(b)
}

// detectDelimiter picks the separator the header line uses most, outside quotes.
func detectDelimiter(line []byte) rune {
	counts := map[byte]int{}
	quoted := false
	for _, c := range line {
		switch {
		case c == '"':
			quoted = !quoted
		case !quoted && (c == ',' || c == ';' || c == '\t' || c == '|'):
			counts[c]++
		}
	}
	best := byte(',')
	for _, c := range []byte{';', '\t', '|'} {
		if counts[c] > counts[best] {
			best = c
		}
	}
	return rune(best)
}

// ParseDelimiter reads a --delimiter value: one character, or a name ("tab", "semicolon").
func ParseDelimiter(s string) (rune, error) {
	switch strings.ToLower(s) {
	case "", "auto":
		return 0, nil
	case "tab", "\\t", "\t":
		return '\t', nil
	case "comma":
		return ',', nil
	case "semicolon":
		return ';', nil
	case "pipe":
		return '|', nil
	}
	r, n := utf8.DecodeRuneInString(s)
	if n != len(s) || r == '"' || r == '\r' || r == '\n' || r == utf8.RuneError {
		return 0, &ConfigError{Msg: fmt.Sprintf("--delimiter %q must be one character, such as , ; | or tab", s)}
	}
	return r, nil
}

func delimiterName(r rune) string {
	switch r {
	case '\t':
		return "tabs"
	case ';':
		return "semicolons"
	case '|':
		return "pipes"
	}
	return fmt.Sprintf("%q", r)
}

// Notes says how the input was read, when that was guessed: its encoding, its delimiter.
func (r *Reader) Notes() []string { return r.notes }

// crToLF turns every CR into LF, for files saved with old Mac line ends, which encoding/csv
// would read as one line.
type crToLF struct{ r io.Reader }

func (c *crToLF) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for i := range p[:n] {
		if p[i] == '\r' {
			p[i] = '\n'
		}
	}
	return n, err
}

// Header returns the trimmed column names of the input.
func (r *Reader) Header() []string { return r.header }

// Next returns the next record, or io.EOF after the last one. Any other error means the file
// could not be read further.
func (r *Reader) Next() (Record, error) {
	rec, err := r.next()
	if err != nil {
		return rec, err
	}
	if rec.Err == nil {
		rec.Err = checkText(rec.Cells)
	}
	if rec.Err == nil {
		rec.Blank = blank(rec.Cells)
	}
	if rec.Err == nil && !rec.Blank {
		rec.Cells, rec.Err = r.checkWidth(rec)
	}
	return rec, nil
}

// checkWidth holds a record to the header's width. Empty cells past the header's end (a
// trailing comma, as spreadsheets write) are dropped; anything else is the row's problem,
// since its cells may have shifted into the wrong columns.
func (r *Reader) checkWidth(rec Record) ([]string, error) {
	cells, want := rec.Cells, len(r.header)
	for len(cells) > want && strings.TrimSpace(cells[len(cells)-1]) == "" {
		cells = cells[:len(cells)-1]
	}
	if len(cells) != want {
		return rec.Cells, fmt.Errorf("line %d has %d fields but the header has %d: check for a missing or extra separator (a comma inside a value needs quotes)", rec.Line, len(cells), want)
	}
	return cells, nil
}

func blank(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func checkText(cells []string) error {
	for i, c := range cells {
		if strings.IndexByte(c, 0) >= 0 {
			return fmt.Errorf("field %d has a NUL byte in it: the file looks damaged or binary", i+1)
		}
		if !utf8.ValidString(c) {
			return fmt.Errorf("field %d is not valid UTF-8: the file may be in another encoding (try --encoding windows-1252, or save it as \"CSV UTF-8\")", i+1)
		}
	}
	return nil
}

var errRecordTooLong = errors.New("record too long")

func (r *Reader) restart(lineOffset int) {
	r.cap = &capture{src: r.src, limit: r.limit}
	r.csv = csv.NewReader(r.cap)
	r.csv.Comma = r.comma
	r.csv.FieldsPerRecord = -1 // a wrong field count is the row's problem, not the file's
	r.csv.ReuseRecord = false
	r.lineOffset = lineOffset
}

func (r *Reader) next() (Record, error) {
	cells, err := r.csv.Read()
	if err == io.EOF {
		return Record{}, io.EOF
	}
	r.row++
	raw := r.cap.pending(r.csv.InputOffset())
	line := r.lineOffset + r.cap.lines + 1 + leadingBlankLines(raw)

	var pe *csv.ParseError
	switch {
	case err == nil:
		r.cap.consume(r.csv.InputOffset())
		return Record{Row: r.row, Line: line, Cells: cells}, nil
	case errors.As(err, &pe) && pe.StartLine == pe.Line:
		// A broken record on one line: encoding/csv goes on from the next line by itself.
		rec := Record{Row: r.row, Line: line, Cells: r.splitLazily(firstLine(raw)), Err: describeParseError(pe, r.lineOffset)}
		r.cap.consume(r.csv.InputOffset())
		return rec, nil
	case pe != nil:
		// A quoted field that runs over several lines and then breaks (or never closes)
		// is a stray quote far more often than a real multi-line field: the broken record
		// is its first line alone, and reading resumes on the line after it.
		rec := Record{Row: r.row, Line: line, Cells: r.splitLazily(firstLine(raw)), Err: describeParseError(pe, r.lineOffset)}
		r.resync(line)
		return rec, nil
	case errors.Is(err, errRecordTooLong):
		rec := Record{Row: r.row, Line: line, Err: fmt.Errorf("line %d starts a record longer than %d KiB: is a quote (\") left open?", line, r.limit>>10)}
		if fl := firstLine(r.cap.buf); len(fl) < len(r.cap.buf) {
			rec.Cells = r.splitLazily(fl)
		}
		r.resync(line)
		return rec, nil
	default:
		return Record{}, &InputError{Msg: fmt.Sprintf("cannot be read after line %d: %v", line, err)}
	}
}

// resync drops the current csv.Reader and starts a new one on the line after startLine: the
// bytes already read past that line go back to the source.
func (r *Reader) resync(startLine int) {
	buf := r.cap.buf[leadingBlankBytes(r.cap.buf):]
	if i := bytes.IndexByte(buf, '\n'); i >= 0 {
		r.src.unread(buf[i+1:])
	} else {
		r.src.skipLine() // the first line is longer than what was read
	}
	r.restart(startLine)
}

// source is the input with a push-back buffer, so that a resynchronised reader can be handed
// what its predecessor had read ahead.
type source struct {
	prefix []byte
	r      *bufio.Reader
}

func (s *source) Read(p []byte) (int, error) {
	if len(s.prefix) > 0 {
		n := copy(p, s.prefix)
		s.prefix = s.prefix[n:]
		return n, nil
	}
	return s.r.Read(p)
}

// unread puts b back in front of what is still to be read.
func (s *source) unread(b []byte) {
	s.prefix = append(bytes.Clone(b), s.prefix...)
}

// skipLine drops everything up to and including the next LF.
func (s *source) skipLine() {
	if i := bytes.IndexByte(s.prefix, '\n'); i >= 0 {
		s.prefix = s.prefix[i+1:]
		return
	}
	s.prefix = nil
	for {
		if _, err := s.r.ReadSlice('\n'); err != bufio.ErrBufferFull {
			return
		}
	}
}

// capture records the bytes handed to the csv.Reader since the start of the record being
// read, so that a broken record's raw text is known and read-ahead can be given back, and
// it refuses to hold more than limit bytes.
type capture struct {
	src   io.Reader
	buf   []byte
	start int64 // the csv.Reader's input offset of buf[0]
	lines int   // LFs before start
	limit int
}

func (c *capture) Read(p []byte) (int, error) {
	if len(c.buf) >= c.limit {
		return 0, errRecordTooLong
	}
	n, err := c.src.Read(p)
	c.buf = append(c.buf, p[:n]...)
	return n, err
}

// pending returns the bytes read from the record start up to offset.
func (c *capture) pending(offset int64) []byte {
	n := int(offset - c.start)
	if n > len(c.buf) {
		n = len(c.buf)
	}
	return c.buf[:n]
}

// consume marks everything up to offset as done with.
func (c *capture) consume(offset int64) {
	done := c.pending(offset)
	c.lines += bytes.Count(done, []byte{'\n'})
	c.buf = append(c.buf[:0], c.buf[len(done):]...)
	c.start = offset
}

func leadingBlankBytes(b []byte) int {
	n := 0
	for {
		switch {
		case bytes.HasPrefix(b[n:], []byte("\n")):
			n++
		case bytes.HasPrefix(b[n:], []byte("\r\n")):
			n += 2
		default:
			return n
		}
	}
}

func leadingBlankLines(b []byte) int {
	return bytes.Count(b[:leadingBlankBytes(b)], []byte{'\n'})
}

// firstLine is the first non-blank physical line of b, without its line end.
func firstLine(b []byte) []byte {
	b = b[leadingBlankBytes(b):]
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		b = b[:i]
	}
	return bytes.TrimSuffix(b, []byte("\r"))
}

// splitLazily splits a broken line into cells as well as it can, so that the failed-rows file
// shows the user their row to fix.
func (r *Reader) splitLazily(line []byte) []string {
	// The commonest break, a space after a closing quote ("x" ,), splits cleanly without it.
	spaceAfterQuote := regexp.MustCompile(`"[ \t]+(` + regexp.QuoteMeta(string(r.comma)) + `|$)`)
	if fixed := spaceAfterQuote.ReplaceAll(line, []byte(`"$1`)); !bytes.Equal(fixed, line) {
		cr := csv.NewReader(bytes.NewReader(fixed))
		cr.Comma, cr.FieldsPerRecord = r.comma, -1
		if cells, err := cr.Read(); err == nil {
			return cells
		}
	}
	cr := csv.NewReader(bytes.NewReader(line))
	cr.Comma, cr.FieldsPerRecord, cr.LazyQuotes = r.comma, -1, true
	cells, err := cr.Read()
	if err != nil {
		return []string{string(line)}
	}
	return cells
}

func describeParseError(pe *csv.ParseError, lineOffset int) error {
	line, col := pe.Line+lineOffset, pe.Column
	switch {
	case errors.Is(pe.Err, csv.ErrBareQuote):
		return fmt.Errorf("line %d, column %d: a quote (\") inside an unquoted field: put the whole field in quotes and double the quote (\"\")", line, col)
	case errors.Is(pe.Err, csv.ErrQuote) && pe.Line != pe.StartLine:
		return fmt.Errorf("line %d: a quoted field opened here is not closed properly (the parser reached line %d): check the quotes on this line", pe.StartLine+lineOffset, line)
	case errors.Is(pe.Err, csv.ErrQuote):
		return fmt.Errorf("line %d, column %d: text after a closing quote: a quote inside a quoted field must be doubled (\"\")", line, col)
	}
	return fmt.Errorf("line %d, column %d: %v", line, col, pe.Err)
}

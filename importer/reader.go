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
}

// NewReader reads the header of the CSV text in r. It fails with an *InputError when r is
// empty, has no header, or is not CSV text (a spreadsheet, UTF-16, binary).
func NewReader(r io.Reader) (*Reader, error) {
	return newReader(r, MaxRecordBytes)
}

func newReader(r io.Reader, limit int) (*Reader, error) {
	br := bufio.NewReaderSize(r, sniffBytes)
	src, err := sniff(br)
	if err != nil {
		return nil, err
	}
	rd := &Reader{src: &source{r: br}, limit: limit}
	if cr, ok := src.(*crToLF); ok {
		rd.src.r = bufio.NewReaderSize(cr, sniffBytes)
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

// sniff recognises inputs that are not CSV text from their first bytes, drops a UTF-8 BOM and
// turns old Mac (CR-only) line ends into LF.
func sniff(br *bufio.Reader) (io.Reader, error) {
	head, err := br.Peek(sniffBytes)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return nil, &InputError{Msg: fmt.Sprintf("cannot be read: %v", err)}
	}
	switch {
	case len(bytes.TrimSpace(head)) == 0:
		return nil, &InputError{Msg: "is empty: expected a header line such as account_uuids,type,name,value"}
	case bytes.HasPrefix(head, []byte{0xFF, 0xFE}), bytes.HasPrefix(head, []byte{0xFE, 0xFF}):
		return nil, &InputError{Msg: "is UTF-16 text, which is not supported: save it as \"CSV UTF-8\" (in Excel: File → Save As → CSV UTF-8)"}
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		return nil, &InputError{Msg: "is a spreadsheet workbook (.xlsx), not CSV: save it as \"CSV UTF-8\" (in Excel: File → Save As → CSV UTF-8)"}
	}
	if bytes.HasPrefix(head, []byte("\xEF\xBB\xBF")) {
		br.Discard(3)
		head = head[3:]
	}
	firstLine := head
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		firstLine = head[:i]
	}
	if bytes.IndexByte(firstLine, 0) >= 0 {
		return nil, &InputError{Msg: "is not a CSV text file: its first line has NUL bytes"}
	}
	if bytes.IndexByte(head, '\n') < 0 && bytes.IndexByte(head, '\r') >= 0 {
		return &crToLF{r: br}, nil
	}
	return br, nil
}

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
			return fmt.Errorf("field %d is not valid UTF-8: save the file as \"CSV UTF-8\" (it may be Windows-1252)", i+1)
		}
	}
	return nil
}

var errRecordTooLong = errors.New("record too long")

func (r *Reader) restart(lineOffset int) {
	r.cap = &capture{src: r.src, limit: r.limit}
	r.csv = csv.NewReader(r.cap)
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
		rec := Record{Row: r.row, Line: line, Cells: splitLazily(firstLine(raw)), Err: describeParseError(pe, r.lineOffset)}
		r.cap.consume(r.csv.InputOffset())
		return rec, nil
	case pe != nil:
		// A quoted field that runs over several lines and then breaks (or never closes)
		// is a stray quote far more often than a real multi-line field: the broken record
		// is its first line alone, and reading resumes on the line after it.
		rec := Record{Row: r.row, Line: line, Cells: splitLazily(firstLine(raw)), Err: describeParseError(pe, r.lineOffset)}
		r.resync(line)
		return rec, nil
	case errors.Is(err, errRecordTooLong):
		rec := Record{Row: r.row, Line: line, Err: fmt.Errorf("line %d starts a record longer than %d KiB: is a quote (\") left open?", line, r.limit>>10)}
		if fl := firstLine(r.cap.buf); len(fl) < len(r.cap.buf) {
			rec.Cells = splitLazily(fl)
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
func splitLazily(line []byte) []string {
	// The commonest break, a space after a closing quote ("x" ,), splits cleanly without it.
	if fixed := spaceAfterQuote.ReplaceAll(line, []byte(`"$1`)); !bytes.Equal(fixed, line) {
		cr := csv.NewReader(bytes.NewReader(fixed))
		cr.FieldsPerRecord = -1
		if cells, err := cr.Read(); err == nil {
			return cells
		}
	}
	cr := csv.NewReader(bytes.NewReader(line))
	cr.LazyQuotes = true
	cr.FieldsPerRecord = -1
	cells, err := cr.Read()
	if err != nil {
		return []string{string(line)}
	}
	return cells
}

var spaceAfterQuote = regexp.MustCompile(`"[ \t]+(,|$)`)

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

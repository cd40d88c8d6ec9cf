package importer

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gocarina/gocsv"

	"plannr-import/mapping"
)

// Status is the final state of one contact detail.
type Status string

// The statuses of the results file. Invalid, Rejected and Failed need the user's attention;
// their rows go to the failed-rows file.
const (
	Valid     Status = "valid"     // dry run: would be sent
	Created   Status = "created"   // Plannr created it
	Exists    Status = "exists"    // Plannr already had it
	Duplicate Status = "duplicate" // an earlier row of the file has the same detail
	Invalid   Status = "invalid"   // the row's data is wrong: nothing was sent
	Rejected  Status = "rejected"  // Plannr refused it (422)
	Failed    Status = "failed"    // it could not be sent (network, server errors)
)

// toSend marks a valid detail before the run settles it: it never reaches a file.
const toSend Status = "to send"

// Statuses lists every status in the order summaries show them.
var Statuses = []Status{Valid, Created, Exists, Duplicate, Invalid, Rejected, Failed}

// NeedsFixing reports whether a detail with this status sends its row to the failed-rows file.
func (s Status) NeedsFixing() bool {
	return s == Invalid || s == Rejected || s == Failed
}

// Outcome is the final word on one contact detail: one line of the results file.
type Outcome struct {
	Row, Line  int
	Status     Status
	Detail     mapping.ContactDetail
	UUID       string
	HTTPStatus int
	Attempts   int
	Error      string
	Warning    string
	// NotAttempted marks a detail the run was stopped before sending: it has no final
	// status, and its row goes to the failed-rows file to be done by a rerun.
	NotAttempted bool
}

func (o *Outcome) fail(status Status, httpStatus int, msg string) {
	o.Status, o.HTTPStatus, o.Error = status, httpStatus, msg
}

// ResultColumns is the header of the results file.
const ResultColumns = "row,line,status,type,name,value,account_uuids,uuid,http_status,attempts,error,warning"

// resultLine is the results file's row as gocsv writes it; the csv tags are the file format.
type resultLine struct {
	Row          int    `csv:"row"`
	Line         int    `csv:"line"`
	Status       Status `csv:"status"`
	Type         string `csv:"type"`
	Name         string `csv:"name"`
	Value        string `csv:"value"`
	AccountUUIDs string `csv:"account_uuids"`
	UUID         string `csv:"uuid"`
	HTTPStatus   blank0 `csv:"http_status"`
	Attempts     int    `csv:"attempts"`
	Error        string `csv:"error"`
	Warning      string `csv:"warning"`
}

// blank0 is an int written as an empty cell when zero: no HTTP status is not status 0.
type blank0 int

func (b blank0) MarshalCSV() (string, error) {
	if b == 0 {
		return "", nil
	}
	return strconv.Itoa(int(b)), nil
}

// ResultsWriter writes the results file: one line per contact detail, each flushed to the
// underlying writer as it is written.
type ResultsWriter struct {
	csv *gocsv.SafeCSVWriter
}

// NewResultsWriter writes the results header to w.
func NewResultsWriter(w io.Writer) (*ResultsWriter, error) {
	rw := &ResultsWriter{csv: gocsv.NewSafeCSVWriter(csv.NewWriter(w))}
	if err := gocsv.MarshalCSV([]resultLine{}, rw.csv); err != nil {
		return nil, err
	}
	return rw, nil
}

// Write writes one outcome.
func (rw *ResultsWriter) Write(o Outcome) error {
	line := resultLine{
		Row:          o.Row,
		Line:         o.Line,
		Status:       o.Status,
		Type:         string(o.Detail.Type),
		Name:         inert(o.Detail.Name),
		Value:        inert(o.Detail.Value),
		AccountUUIDs: strings.Join(o.Detail.AccountUUIDs, ";"),
		UUID:         o.UUID,
		HTTPStatus:   blank0(o.HTTPStatus),
		Attempts:     o.Attempts,
		Error:        inert(o.Error),
		Warning:      inert(o.Warning),
	}
	return gocsv.MarshalCSVWithoutHeaders([]resultLine{line}, rw.csv)
}

// FailedWriter writes the failed-rows file: the input's header and the untouched cells of
// every row that needs fixing, with an error column saying why. It is a valid input as it
// stands, so that a user can fix the cells and run the tool on it.
type FailedWriter struct {
	csv    *csv.Writer
	width  int // the input's column count
	errCol int // the input's own error column, replaced; -1 when one is appended
}

// NewFailedWriter writes header, plus an error column unless it has one, to w.
func NewFailedWriter(w io.Writer, header []string) (*FailedWriter, error) {
	fw := &FailedWriter{csv: csv.NewWriter(w), width: len(header), errCol: -1}
	out := append([]string(nil), header...)
	for i, h := range header {
		if strings.EqualFold(strings.TrimSpace(h), "error") {
			fw.errCol = i
			break
		}
	}
	if fw.errCol < 0 {
		out = append(out, "error")
	}
	if err := fw.csv.Write(out); err != nil {
		return nil, err
	}
	fw.csv.Flush()
	return fw, fw.csv.Error()
}

// Write writes one source row's cells with its error message.
func (fw *FailedWriter) Write(cells []string, msg string) error {
	out := make([]string, max(len(cells), fw.width), max(len(cells), fw.width)+1)
	copy(out, cells)
	if fw.errCol >= 0 {
		out[fw.errCol] = inert(msg)
	} else {
		out = append(out, inert(msg))
	}
	if err := fw.csv.Write(out); err != nil {
		return err
	}
	fw.csv.Flush()
	return fw.csv.Error()
}

// inert keeps a cell from being read as a formula when the file is opened in a spreadsheet:
// text that starts with =, @, a tab or a CR gets a leading apostrophe. It is applied to what
// the tool writes (its messages, Plannr's, the normalised values), never to the user's own
// cells in the failed-rows file, which must stay a valid input. A leading + or - is left
// alone: it starts every E.164 number.
func inert(s string) string {
	if s != "" && strings.ContainsRune("=@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// rowErrors joins the errors of a row's failed details into the one message the failed-rows
// file has room for.
func rowErrors(outcomes []Outcome) string {
	var msgs []string
	for _, o := range outcomes {
		if !o.Status.NeedsFixing() {
			continue
		}
		msg := o.Error
		if len(outcomes) > 1 && o.Detail.Name != "" {
			msg = fmt.Sprintf("%s: %s", o.Detail.Name, msg)
		}
		msgs = append(msgs, msg)
	}
	return strings.Join(msgs, " | ")
}

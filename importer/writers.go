package importer

import (
	"fmt"
	"os"
	"sync/atomic"
	"time"
)

// flushEvery bounds how long a finished row can sit in a write buffer while rows pour in;
// whenever the writer runs out of rows, everything is flushed at once.
const flushEvery = 200 * time.Millisecond

// notAttemptedMsg is the failed-rows error of a row that a stopped run never started.
const notAttemptedMsg = "not attempted: the run was stopped before this row"

// output is an output file written record by record: its buffer only goes to the file
// whole, between records, in one write, so that a process killed at any moment leaves no
// torn line behind (a write to a regular file is not split by a kill).
type output struct {
	f   *os.File
	buf []byte
}

func createOutput(path string) (*output, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, &ConfigError{Msg: fmt.Sprintf("cannot create %v", pathErr(err))}
	}
	return &output{f: f, buf: make([]byte, 0, 64<<10)}, nil
}

// Write buffers p; the csv writers call it with whole records and their own flushes.
func (o *output) Write(p []byte) (int, error) {
	o.buf = append(o.buf, p...)
	return len(p), nil
}

// Flush writes what is buffered; it is only called between records.
func (o *output) Flush() error {
	if len(o.buf) == 0 {
		return nil
	}
	_, err := o.f.Write(o.buf)
	o.buf = o.buf[:0]
	return err
}

func (o *output) close() error {
	ferr := o.Flush()
	if err := o.f.Close(); ferr == nil {
		ferr = err
	}
	return ferr
}

// tally counts what the writer has written. The progress reporter reads it while the run
// goes, so every figure is atomic.
type tally struct {
	rows, blank, empty, failedRows, notAttempted atomic.Int64
	byStatus                                     map[Status]*atomic.Int64 // keys fixed at creation
}

func newTally() *tally {
	t := &tally{byStatus: map[Status]*atomic.Int64{}}
	for _, s := range Statuses {
		t.byStatus[s] = new(atomic.Int64)
	}
	return t
}

func (t *tally) count(s Status) int64 { return t.byStatus[s].Load() }

// writers own the two output files; only the writer goroutine touches them.
type writers struct {
	results, failed *output
	rw              *ResultsWriter
	fw              *FailedWriter
	tally           *tally
	summary         *Summary
}

func newWriters(cfg Config, header []string) (*writers, error) {
	results, err := createOutput(cfg.Results)
	if err != nil {
		return nil, err
	}
	failed, err := createOutput(cfg.Failed)
	if err != nil {
		results.close()
		return nil, err
	}
	w := &writers{results: results, failed: failed, tally: newTally()}
	if w.rw, err = NewResultsWriter(results); err == nil {
		w.fw, err = NewFailedWriter(failed, header)
	}
	if err != nil {
		w.close()
		return nil, &ConfigError{Msg: fmt.Sprintf("cannot write the output files: %v", err)}
	}
	return w, nil
}

func (w *writers) close() {
	w.results.close()
	w.failed.close()
}

func (w *writers) flush() error {
	for _, o := range []*output{w.results, w.failed} {
		if err := o.Flush(); err != nil {
			return &ConfigError{Msg: fmt.Sprintf("cannot write %s: %v", o.f.Name(), err)}
		}
	}
	return nil
}

// writeAll writes each row as it is settled, and fills in the summary's counts at the end.
// Rows come in the order they finish — file order, apart from rows that waited for a retry
// or for an earlier row of their client — so that a finished row reaches the file at once.
// After a write error it keeps taking rows, so that the run can end, and returns the error.
func (w *writers) writeAll(rows <-chan *pendingRow) error {
	var firstErr error
	keep := func(err error) {
		if firstErr == nil {
			firstErr = err
		}
	}
	lastFlush := time.Now()
	for row := range rows {
		if firstErr == nil {
			keep(w.write(row))
		}
		// Flush when nothing else is ready (sending: nearly every row), or often enough
		// while rows pour in (a dry run).
		if len(rows) == 0 || time.Since(lastFlush) >= flushEvery || len(w.results.buf) >= 48<<10 {
			keep(w.flush())
			lastFlush = time.Now()
		}
	}
	keep(w.flush())
	w.fillSummary()
	return firstErr
}

func (w *writers) write(row *pendingRow) error {
	t := w.tally
	t.rows.Add(1)
	rec := row.rec
	if rec.Blank {
		t.blank.Add(1)
		return nil
	}
	if len(row.outcomes) == 0 && !row.notAttempted {
		t.empty.Add(1) // a mapping made no detail of it: every value cell was empty
		return nil
	}
	if row.notAttempted || allNotAttempted(row.outcomes) {
		t.notAttempted.Add(1)
		t.failedRows.Add(1)
		return w.writeFailed(rec.Cells, notAttemptedMsg)
	}
	for i := range row.outcomes {
		o := &row.outcomes[i]
		if o.NotAttempted {
			o.fail(Failed, 0, "not attempted: the run was stopped before it was sent")
		}
		if err := w.rw.Write(*o); err != nil {
			return &ConfigError{Msg: fmt.Sprintf("cannot write %s: %v", w.results.f.Name(), err)}
		}
		t.byStatus[o.Status].Add(1)
	}
	if msg := rowErrors(row.outcomes); msg != "" {
		t.failedRows.Add(1)
		return w.writeFailed(rec.Cells, msg)
	}
	return nil
}

func (w *writers) writeFailed(cells []string, msg string) error {
	if err := w.fw.Write(cells, msg); err != nil {
		return &ConfigError{Msg: fmt.Sprintf("cannot write %s: %v", w.failed.f.Name(), err)}
	}
	return nil
}

func allNotAttempted(outcomes []Outcome) bool {
	for _, o := range outcomes {
		if !o.NotAttempted {
			return false
		}
	}
	return len(outcomes) > 0
}

func (w *writers) fillSummary() {
	s, t := w.summary, w.tally
	s.Rows = int(t.rows.Load())
	s.Blank = int(t.blank.Load())
	s.NoDetails = int(t.empty.Load())
	s.FailedRows = int(t.failedRows.Load())
	s.NotAttempted = int(t.notAttempted.Load())
	for st, n := range t.byStatus {
		if v := n.Load(); v > 0 {
			s.Counts[st] = int(v)
		}
	}
	if s.NotAttempted > 0 {
		s.Stopped = true
	}
}

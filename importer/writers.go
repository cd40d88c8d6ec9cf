package importer

import (
	"bufio"
	"fmt"
	"os"
	"sync/atomic"
	"time"
)

// flushEvery bounds how long a finished row can sit in a write buffer while the run is busy;
// whenever the writer has to wait for a row, everything before it is flushed at once.
const flushEvery = 200 * time.Millisecond

// notAttemptedMsg is the failed-rows error of a row that a stopped run never started.
const notAttemptedMsg = "not attempted: the run was stopped before this row"

// output is a results file: buffered, and flushed as the run goes.
type output struct {
	f *os.File
	*bufio.Writer
}

func createOutput(path string) (*output, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, &ConfigError{Msg: fmt.Sprintf("cannot create %v", pathErr(err))}
	}
	return &output{f: f, Writer: bufio.NewWriterSize(f, 64<<10)}, nil
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
	rows, blank, failedRows, notAttempted atomic.Int64
	byStatus                              map[Status]*atomic.Int64 // keys fixed at creation
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

// writeAll writes the rows in the order they come, each once it is settled, and fills in
// the summary's counts at the end. After a write error it keeps taking rows, so that the
// run can end, and returns the error.
func (w *writers) writeAll(rows <-chan *pendingRow) error {
	var firstErr error
	keep := func(err error) {
		if firstErr == nil {
			firstErr = err
		}
	}
	lastFlush := time.Now()
	for row := range rows {
		select {
		case <-row.done:
		default:
			// The row is still being sent: make everything before it durable meanwhile.
			keep(w.flush())
			lastFlush = time.Now()
			<-row.done
		}
		if firstErr == nil {
			keep(w.write(row))
		}
		if time.Since(lastFlush) >= flushEvery {
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

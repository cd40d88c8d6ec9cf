package importer

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"plannr-import/mapping"
)

// Config is everything one run needs.
type Config struct {
	// Input is the CSV file to import.
	Input string
	// Results and Failed are the output files; empty means beside the input, named by
	// DefaultResultsPath and DefaultFailedPath.
	Results, Failed string
	// Mapping says how rows become contact details; nil means mapping.Canonical.
	Mapping *mapping.Mapping
	// DefaultCountry is the country of phone numbers whose row names none (default GB).
	DefaultCountry string
	// DryRun validates and normalises only: nothing is sent.
	DryRun bool
}

// ConfigError is a problem with the run's settings: nothing was read or sent.
type ConfigError struct{ Msg string }

func (e *ConfigError) Error() string { return e.Msg }

// DefaultResultsPath is where the results of input go when --results is not given:
// contacts.csv → contacts.results.csv, beside it.
func DefaultResultsPath(input string) string { return siblingPath(input, ".results.csv") }

// DefaultFailedPath is where the failed rows of input go when --failed is not given:
// contacts.csv → contacts.failed.csv, beside it.
func DefaultFailedPath(input string) string { return siblingPath(input, ".failed.csv") }

func siblingPath(input, suffix string) string {
	if ext := filepath.Ext(input); strings.EqualFold(ext, ".csv") {
		input = strings.TrimSuffix(input, ext)
	}
	return input + suffix
}

// flushEvery bounds how long a finished row can sit in a write buffer: a crash loses at most
// this much of the results file.
const flushEvery = 200 * time.Millisecond

// Run imports cfg.Input. It returns an *InputError or *ConfigError when the run could not
// start (exit code 2); otherwise the Summary of what happened to every row. Cancelling ctx
// stops the run between rows: the rows not yet started go to the failed-rows file as not
// attempted, and the Summary says it was stopped.
func Run(ctx context.Context, cfg Config) (*Summary, error) {
	if cfg.Results == "" {
		cfg.Results = DefaultResultsPath(cfg.Input)
	}
	if cfg.Failed == "" {
		cfg.Failed = DefaultFailedPath(cfg.Input)
	}
	if err := checkPaths(cfg); err != nil {
		return nil, err
	}
	m := mapping.Canonical()
	if cfg.Mapping != nil {
		m = *cfg.Mapping
	}

	in, err := os.Open(cfg.Input)
	if err != nil {
		return nil, &InputError{Msg: fmt.Sprintf("cannot open the input: %v", pathErr(err))}
	}
	defer in.Close()
	rd, err := NewReader(in)
	if err != nil {
		return nil, withPath(cfg.Input, err)
	}
	binding, err := m.Bind(rd.Header(), mapping.Options{DefaultCountry: cfg.DefaultCountry})
	var he *mapping.HeaderError
	switch {
	case errors.As(err, &he):
		return nil, &InputError{Msg: fmt.Sprintf("%s: %v (the header has: %s)", cfg.Input, err, headerList(rd.Header()))}
	case err != nil:
		return nil, &ConfigError{Msg: err.Error()}
	}

	results, err := createOutput(cfg.Results)
	if err != nil {
		return nil, err
	}
	defer results.Close()
	failed, err := createOutput(cfg.Failed)
	if err != nil {
		return nil, err
	}
	defer failed.Close()
	rw, err := NewResultsWriter(results)
	if err != nil {
		return nil, &ConfigError{Msg: fmt.Sprintf("cannot write %s: %v", cfg.Results, err)}
	}
	fw, err := NewFailedWriter(failed, rd.Header())
	if err != nil {
		return nil, &ConfigError{Msg: fmt.Sprintf("cannot write %s: %v", cfg.Failed, err)}
	}

	s := &Summary{Input: cfg.Input, Results: cfg.Results, Failed: cfg.Failed, DryRun: cfg.DryRun, Counts: map[Status]int{}, Started: time.Now()}
	p := &pipeline{binding: binding, seen: map[[16]byte]rowRef{}}
	lastFlush := time.Now()
	for {
		if ctx.Err() != nil {
			s.Stopped = true
			if err := drainNotAttempted(rd, fw, s); err != nil {
				return s, err
			}
			break
		}
		rec, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return s, withPath(cfg.Input, err)
		}
		s.Rows++
		if rec.Blank {
			s.Blank++
			continue
		}
		outcomes := p.settle(rec)
		for _, o := range outcomes {
			if err := rw.Write(o); err != nil {
				return s, &ConfigError{Msg: fmt.Sprintf("cannot write %s: %v", cfg.Results, err)}
			}
			s.Counts[o.Status]++
		}
		if msg := rowErrors(outcomes); msg != "" {
			if err := fw.Write(rec.Cells, msg); err != nil {
				return s, &ConfigError{Msg: fmt.Sprintf("cannot write %s: %v", cfg.Failed, err)}
			}
			s.FailedRows++
		}
		if time.Since(lastFlush) >= flushEvery {
			if err := flushAll(results, failed); err != nil {
				return s, err
			}
			lastFlush = time.Now()
		}
	}
	s.Finished = time.Now()
	if err := flushAll(results, failed); err != nil {
		return s, err
	}
	return s, nil
}

// drainNotAttempted copies every row not yet read to the failed-rows file, so that a stopped
// run's failed-rows file holds all that is left to do.
func drainNotAttempted(rd *Reader, fw *FailedWriter, s *Summary) error {
	for {
		rec, err := rd.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return withPath(s.Input, err)
		}
		s.Rows++
		if rec.Blank {
			s.Blank++
			continue
		}
		if err := fw.Write(rec.Cells, "not attempted: the run was stopped before this row"); err != nil {
			return &ConfigError{Msg: fmt.Sprintf("cannot write %s: %v", s.Failed, err)}
		}
		s.NotAttempted++
		s.FailedRows++
	}
}

// pipeline settles records one by one.
type pipeline struct {
	binding *mapping.Binding
	// seen maps each valid detail's key (hashed to 128 bits, to keep memory small on
	// million-row files) to the first row that had it.
	seen map[[16]byte]rowRef
}

type rowRef struct{ row, line uint32 } // 8 bytes: a million-row file keeps a million of these

// settle maps one record and decides the outcome of each of its details.
func (p *pipeline) settle(rec Record) []Outcome {
	if rec.Err != nil {
		return []Outcome{{Row: rec.Row, Line: rec.Line, Status: Invalid, Error: rec.Err.Error()}}
	}
	results := p.binding.Map(rec.Cells)
	outcomes := make([]Outcome, 0, len(results))
	for _, r := range results {
		o := Outcome{Row: rec.Row, Line: rec.Line, Detail: r.Detail, Warning: strings.Join(r.Warnings, "; ")}
		switch {
		case !r.Valid():
			o.Status, o.Error = Invalid, r.Error()
			o.Detail.Value = strings.TrimSpace(r.RawValue)
		default:
			key := hashKey(r.Detail.Key())
			if first, dup := p.seen[key]; dup {
				o.Status = Duplicate
				o.Error = fmt.Sprintf("same %s for the same account(s) as row %d (line %d)", detailNoun(r.Detail.Type), first.row, first.line)
			} else {
				p.seen[key] = rowRef{uint32(rec.Row), uint32(rec.Line)}
				o.Status = Valid
			}
		}
		outcomes = append(outcomes, o)
	}
	return outcomes
}

func detailNoun(t mapping.Type) string {
	if t == mapping.Email {
		return "e-mail address"
	}
	return "phone number"
}

func hashKey(key string) [16]byte {
	h := fnv.New128a()
	h.Write([]byte(key))
	var k [16]byte
	h.Sum(k[:0])
	return k
}

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

func (o *output) Close() error {
	ferr := o.Flush()
	if err := o.f.Close(); ferr == nil {
		ferr = err
	}
	return ferr
}

func flushAll(outs ...*output) error {
	for _, o := range outs {
		if err := o.Flush(); err != nil {
			return &ConfigError{Msg: fmt.Sprintf("cannot write %s: %v", o.f.Name(), err)}
		}
	}
	return nil
}

// checkPaths refuses output paths that would overwrite the input or each other.
func checkPaths(cfg Config) error {
	same := func(a, b string) bool {
		if filepath.Clean(a) == filepath.Clean(b) {
			return true
		}
		fa, errA := os.Stat(a)
		fb, errB := os.Stat(b)
		return errA == nil && errB == nil && os.SameFile(fa, fb)
	}
	switch {
	case same(cfg.Results, cfg.Input):
		return &ConfigError{Msg: fmt.Sprintf("--results %s is the input file: choose another path", cfg.Results)}
	case same(cfg.Failed, cfg.Input):
		return &ConfigError{Msg: fmt.Sprintf("--failed %s is the input file: choose another path (a rerun on the failed-rows file writes its own %s)", cfg.Failed, filepath.Base(DefaultFailedPath(cfg.Input)))}
	case same(cfg.Results, cfg.Failed):
		return &ConfigError{Msg: fmt.Sprintf("--results and --failed are the same file (%s): choose two paths", cfg.Results)}
	}
	return nil
}

func withPath(path string, err error) error {
	var ie *InputError
	if errors.As(err, &ie) {
		return &InputError{Msg: path + " " + ie.Msg}
	}
	return err
}

// pathErr drops the "open" op from an *os.PathError: "contacts.csv: no such file or directory".
func pathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}

func headerList(header []string) string {
	const max = 12
	shown := header
	if len(shown) > max {
		shown = shown[:max]
	}
	s := strings.Join(shown, ", ")
	if len(header) > max {
		s += fmt.Sprintf(", … (%d columns)", len(header))
	}
	return s
}

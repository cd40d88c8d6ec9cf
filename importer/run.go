package importer

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"plannr-import/importer/plannr"
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
	// MappingDir is the directory of the mapping file: a lookup's accounts file is found
	// relative to it.
	MappingDir string
	// RerunFlags are the flags that shape how the input is read (--mapping, --delimiter…),
	// for the summary's advice on rerunning the failed-rows file.
	RerunFlags []string
	// DefaultCountry is the country of phone numbers whose row names none (default GB).
	DefaultCountry string
	// DryRun validates and normalises only: nothing is sent.
	DryRun bool
	// Delimiter and Encoding say how to read the input; zero values mean: detect.
	Delimiter rune
	Encoding  string

	// Client sends to Plannr; it is needed unless DryRun. A dry run with a Client asks
	// Plannr, read-only, which details already exist.
	Client *plannr.Client
	// Rate is the number of requests a second for all workers together; 0 means no limit.
	Rate float64
	// Workers is the number of requests in flight at most; 0 means DefaultWorkers(Rate).
	Workers int
	// Burst is how many requests may go out at once after a lull (default 1: evenly
	// spaced; Plannr counts in fixed windows, where a burst at the edge spends two at once).
	Burst int
	// Retries is how many times a detail is sent again after a transient failure.
	Retries int
	// Timeout is the client's per-request timeout: after a timeout, the server is given as
	// long again before it is asked whether it created the detail.
	Timeout time.Duration
	// StopGrace is how long requests in flight may take to finish once the run is stopped
	// (default 5s); after it they are cancelled.
	StopGrace time.Duration
	// Abort, when closed, cancels requests in flight at once (a second Ctrl-C).
	Abort <-chan struct{}

	// Progress receives progress reports (nil: none): a live bar when ProgressBar is set
	// (stderr is a terminal), otherwise a log line every ProgressEvery (default 10s), through
	// Log if it is set.
	Progress      io.Writer
	ProgressBar   bool
	ProgressEvery time.Duration
	Log           *slog.Logger
}

// DefaultWorkers is enough workers to reach rate requests a second when Plannr takes about a
// second to answer (Little's law: in flight = rate × latency), with a little headroom.
func DefaultWorkers(rate float64) int {
	if rate <= 0 {
		return 16
	}
	return min(256, max(2, int(math.Ceil(rate*1.25))))
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

// Run imports cfg.Input. It returns an *InputError or *ConfigError when the run could not
// start (exit code 2); otherwise the Summary of what happened to every row. Cancelling ctx
// stops the run: no new request starts, requests in flight get cfg.StopGrace to finish, and
// the rows not started go to the failed-rows file as not attempted.
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
	if !cfg.DryRun && cfg.Client == nil {
		return nil, &ConfigError{Msg: "no Plannr client configured"}
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
	rd, err := NewReader(in, ReaderOptions{Delimiter: cfg.Delimiter, Encoding: cfg.Encoding})
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

	var files *fileResolver
	if l := binding.Lookup(); l != nil && l.File != "" {
		if files, err = loadAccountsFile(l, cfg.MappingDir); err != nil {
			return nil, err
		}
	}

	lock, err := acquireLock(cfg.Results)
	if err != nil {
		return nil, err
	}
	defer lock.release()
	w, err := newWriters(cfg, rd.Header())
	if err != nil {
		return nil, err
	}
	defer w.close()

	s := &Summary{Input: cfg.Input, Results: cfg.Results, Failed: cfg.Failed, DryRun: cfg.DryRun,
		Counts: map[Status]int{}, Started: time.Now(), Rate: cfg.Rate, Notes: rd.Notes(), RerunFlags: cfg.RerunFlags}
	w.summary = s

	// dispatch ends when the user stops the run or the sender gives up on Plannr: no new
	// request starts. inflight cancels the requests still going, StopGrace later, or at once
	// on cfg.Abort, which also stops the reading of the rows left (hard).
	dispatch, stopDispatch := context.WithCancel(ctx)
	defer stopDispatch()
	inflight, cancelInflight := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelInflight()
	hard, cancelHard := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelHard()
	go func() {
		grace := cfg.StopGrace
		if grace <= 0 {
			grace = 5 * time.Second
		}
		var graceUp <-chan time.Time
		stopping := dispatch.Done()
		for {
			select {
			case <-stopping:
				graceUp, stopping = time.After(grace), nil
			case <-graceUp:
				cancelInflight()
			case <-cfg.Abort:
				stopDispatch()
				cancelInflight()
				cancelHard()
				return
			case <-hard.Done():
				return
			}
		}
	}()

	var snd *sender
	var sched *scheduler
	nWorkers := cfg.Workers
	if nWorkers <= 0 {
		nWorkers = DefaultWorkers(cfg.Rate)
	}
	var workers sync.WaitGroup
	finished := make(chan *pendingRow, 1024)
	if cfg.Client != nil {
		// A dry run with credentials asks Plannr, read-only, what already exists.
		snd = &sender{client: cfg.Client, pacer: NewPacer(cfg.Rate, max(1, cfg.Burst)), retries: cfg.Retries, timeout: cfg.Timeout,
			breakAfter: max(20, 3*nWorkers), stopFunc: stopDispatch, probe: make(chan struct{})}
		cfg.Client.Observe = snd.pacer.Observe
	}
	if !cfg.DryRun {
		sched = newScheduler(schedulerWindow)
		context.AfterFunc(dispatch, sched.wake)
		for range nWorkers {
			workers.Add(1)
			go func() {
				defer workers.Done()
				for {
					t := sched.next(dispatch)
					if t == nil {
						return
					}
					snd.send(dispatch, inflight, &t.row.outcomes[t.i])
					sched.done(t)
					t.row.detailDone(finished)
				}
			}()
		}
	}

	prog := newProgress(cfg, w, snd)
	writerDone := make(chan error, 1)
	go func() { writerDone <- w.writeAll(finished) }()

	rdr := &rowReader{cfg: cfg, rd: rd, p: &pipeline{binding: binding, seen: map[uint64]rowRef{}, primaries: map[uint64]rowRef{}},
		snd: snd, sched: sched, finished: finished, dispatch: dispatch, hard: hard}
	switch l := binding.Lookup(); {
	case files != nil:
		rdr.resolver = files
	case l != nil && l.Plannr != "" && snd != nil:
		rdr.resolver = &plannrResolver{snd: snd, parallel: nWorkers, cache: map[string]resolution{}}
	}
	readErr := rdr.run()
	if sched != nil {
		sched.close()
	}
	workers.Wait()
	if sched != nil {
		for _, t := range sched.drain() {
			t.row.outcomes[t.i].NotAttempted = true
			t.row.detailDone(finished)
		}
	}
	close(finished)
	werr := <-writerDone
	prog.stop()
	s.Finished = time.Now()
	if snd != nil {
		s.Requests = cfg.Client.Requests()
		s.RequestsByKind = cfg.Client.RequestsByKind()
		s.Listings = snd.lists.Load()
		s.RateLimited = snd.pacer.RateLimitedCount()
		s.StopReason = snd.stopReason()
	}
	s.Stopped = s.Stopped || dispatch.Err() != nil
	if rdr.aborted {
		s.Stopped = true
		s.Aborted = true
	}
	switch {
	case werr != nil:
		return s, werr
	case readErr != nil:
		return s, readErr
	}
	return s, nil
}

// schedulerWindow bounds the details waiting to be sent: memory stays flat however large
// the file, and one client's long backlog holds up at most this many others.
const schedulerWindow = 4096

// pipeline settles records one by one.
type pipeline struct {
	binding *mapping.Binding
	// seen maps each valid detail's key to the first row that had it. Keys are hashed to 64
	// bits to keep memory flat-ish on million-row files: 16 bytes a detail. Two different
	// details of one file share a hash with a chance of about n²/2⁶⁵ — 3 in 100 million for
	// a million rows.
	seen map[uint64]rowRef
	// primaries maps each account and type to the first row that made one its primary.
	primaries map[uint64]rowRef
}

type rowRef struct{ row, line uint32 } // 8 bytes: a million-row file keeps a million of these

// settle maps one record and decides the outcome of each of its details.
// results are what the binding made of the record, with their accounts resolved; a broken
// record has none.
func (p *pipeline) settle(rec Record, results []mapping.Result, unresolved []resolution) []Outcome {
	if rec.Err != nil {
		return []Outcome{{Row: rec.Row, Line: rec.Line, Status: Invalid, Error: rec.Err.Error()}}
	}
	outcomes := make([]Outcome, 0, len(results))
	for i, r := range results {
		o := Outcome{Row: rec.Row, Line: rec.Line, Detail: r.Detail, Warning: strings.Join(r.Warnings, "; ")}
		switch {
		case !r.Valid():
			o.Status, o.Error = Invalid, r.Error()
			o.Detail.Value = strings.TrimSpace(r.RawValue)
		case unresolved != nil && unresolved[i].failed != nil:
			o.fail(Failed, 0, fmt.Sprintf("could not look up the client in Plannr: %v", unresolved[i].failed))
		case len(r.Detail.AccountUUIDs) == 0:
			// A dry run does not ask Plannr who the client is: it is checked when sending.
			o.Status = toSend
			o.Warning = joinWarnings(o.Warning, fmt.Sprintf("the client is looked up in Plannr by primary e-mail %q when sending", r.LookupKey))
		default:
			key := hashKey(r.Detail.Key())
			if first, dup := p.seen[key]; dup {
				o.Status = Duplicate
				o.Error = fmt.Sprintf("same %s for the same account(s) as row %d (line %d)", detailNoun(r.Detail.Type), first.row, first.line)
			} else {
				p.seen[key] = rowRef{uint32(rec.Row), uint32(rec.Line)}
				o.Status = toSend
				if r.Detail.IsPrimary {
					o.Warning = joinWarnings(o.Warning, p.primaryClash(r.Detail, rec))
				}
			}
		}
		outcomes = append(outcomes, o)
	}
	return outcomes
}

// primaryClash notes the detail as its accounts' primary of its type, and says so when an
// earlier row of the file already made one primary: the details of an account are sent in
// file order, so the later row wins.
func (p *pipeline) primaryClash(d mapping.ContactDetail, rec Record) string {
	var clashes []string
	for _, a := range d.AccountUUIDs {
		key := hashKey(string(d.Type) + "\x00" + a)
		if first, ok := p.primaries[key]; ok {
			clashes = append(clashes, fmt.Sprintf("row %d (line %d)", first.row, first.line))
			continue
		}
		p.primaries[key] = rowRef{uint32(rec.Row), uint32(rec.Line)}
	}
	if len(clashes) == 0 {
		return ""
	}
	return fmt.Sprintf("%s also marks a primary %s for this client; rows are sent in file order, so this later one wins", strings.Join(slices.Compact(clashes), " and "), detailNoun(d.Type))
}

func detailNoun(t mapping.Type) string {
	if t == mapping.Email {
		return "e-mail address"
	}
	return "phone number"
}

func hashKey(key string) uint64 { return maphash.String(hashSeed, key) }

var hashSeed = maphash.MakeSeed()

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

// Sample reads the header and up to n rows of a file, for guessing a mapping.
func Sample(path string, opts ReaderOptions, n int) ([]string, [][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, &InputError{Msg: fmt.Sprintf("cannot open the input: %v", pathErr(err))}
	}
	defer f.Close()
	rd, err := NewReader(f, opts)
	if err != nil {
		return nil, nil, withPath(path, err)
	}
	var rows [][]string
	for len(rows) < n {
		rec, err := rd.Next()
		if err != nil {
			break
		}
		if rec.Err == nil && !rec.Blank {
			rows = append(rows, rec.Cells)
		}
	}
	return rd.Header(), rows, nil
}

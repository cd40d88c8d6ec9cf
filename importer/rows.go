package importer

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync/atomic"

	"plannr-import/mapping"
)

// Batches of rows are checked against Plannr together: one listing (of up to 500 details a
// page) covers the accounts of many rows, so that the check for existing details costs a
// few percent of the requests, not one per row.
const (
	batchAccounts = 80   // accounts a listing asks for: about 3 KB of URL
	batchRows     = 1000 // rows held at most before their check
)

// pendingRow is a record on its way through the run: its details are sent by the workers,
// and the writer takes it as soon as all of them are settled.
type pendingRow struct {
	rec          Record
	results      []mapping.Result // what the binding made of rec, until settled
	outcomes     []Outcome
	notAttempted bool // the run stopped before this row was started
	pending      atomic.Int32
}

// detailDone counts one of the row's details as settled; the last hands the row to the
// writer.
func (r *pendingRow) detailDone(finished chan<- *pendingRow) {
	if r.pending.Add(-1) == 0 {
		finished <- r
	}
}

// rowReader reads the input, settles what it can itself (invalid rows, duplicates, details
// Plannr already holds), and queues the rest for the workers.
type rowReader struct {
	cfg      Config
	rd       *Reader
	p        *pipeline
	snd      *sender    // nil in a dry run
	sched    *scheduler // nil in a dry run
	resolver resolver   // nil when the file holds account UUIDs (and for Plannr lookups in a dry run)
	finished chan<- *pendingRow
	dispatch context.Context
	hard     context.Context

	batch    []*pendingRow
	accounts map[string]bool // of the batch's valid details
	keys     map[string]bool // the batch's lookup keys
	aborted  bool
}

func (r *rowReader) run() error {
	r.accounts, r.keys = map[string]bool{}, map[string]bool{}
	ctx, cancel := context.WithCancel(r.hard)
	defer cancel()
	chunks := mapInParallel(ctx, r.rd, r.p.binding, runtime.GOMAXPROCS(0))
	for c := range chunks {
		<-c.done
		for i, rec := range c.recs {
			if r.hard.Err() != nil {
				r.aborted = true
				r.flush()
				return nil
			}
			row := &pendingRow{rec: rec}
			switch {
			case r.dispatch.Err() != nil:
				row.notAttempted = true
			case !rec.Blank && rec.Err == nil:
				row.results = c.results[i]
				for _, res := range row.results {
					switch {
					case !res.Valid():
					case res.LookupKey != "":
						r.keys[res.LookupKey] = true
					default:
						for _, a := range res.Detail.AccountUUIDs {
							r.accounts[a] = true
						}
					}
				}
			}
			r.batch = append(r.batch, row)
			if len(r.accounts)+len(r.keys) >= batchAccounts || len(r.batch) >= batchRows {
				r.flush()
			}
		}
		// A dry run has nothing to check against Plannr: hand the rows on as they come.
		if r.snd == nil && r.resolver == nil {
			r.flush()
		}
		if c.err != nil {
			r.flush()
			if c.err == io.EOF {
				return nil
			}
			return withPath(r.cfg.Input, c.err)
		}
	}
	// The reading stopped early: a hard stop.
	r.aborted = r.hard.Err() != nil
	r.flush()
	return nil
}

// chunk is a run of records, mapped by one of the mapping goroutines.
type chunk struct {
	recs    []Record
	results [][]mapping.Result
	err     error // after the last record: io.EOF, or why reading stopped
	done    chan struct{}
}

// chunkSize is how many records go to a mapping goroutine at once: enough to make the
// hand-over cheap, few enough to keep memory flat.
const chunkSize = 256

// mapInParallel reads records and maps them on n goroutines (validating phone numbers is
// most of a row's cost), handing the chunks back in file order.
func mapInParallel(ctx context.Context, rd *Reader, b *mapping.Binding, n int) <-chan *chunk {
	out := make(chan *chunk, 2*n)
	work := make(chan *chunk, 2*n)
	for range n {
		go func() {
			for c := range work {
				c.results = make([][]mapping.Result, len(c.recs))
				for i, rec := range c.recs {
					if !rec.Blank && rec.Err == nil {
						c.results[i] = b.Map(rec.Cells)
					}
				}
				close(c.done)
			}
		}()
	}
	go func() {
		defer close(out)
		defer close(work)
		for {
			c := &chunk{recs: make([]Record, 0, chunkSize), done: make(chan struct{})}
			for len(c.recs) < chunkSize && c.err == nil {
				rec, err := rd.Next()
				if err != nil {
					c.err = err
					break
				}
				c.recs = append(c.recs, rec)
			}
			select {
			case out <- c:
			case <-ctx.Done():
				return
			}
			work <- c
			if c.err != nil {
				return
			}
		}
	}()
	return out
}

// resolve finds the accounts of the batch's lookup keys and settles the batch's rows.
func (r *rowReader) resolve() {
	var found map[string]resolution
	if r.resolver != nil && len(r.keys) > 0 {
		keys := make([]string, 0, len(r.keys))
		for k := range r.keys {
			keys = append(keys, k)
		}
		found = r.resolver.resolve(r.dispatch, keys)
	}
	for _, row := range r.batch {
		if row.notAttempted || row.rec.Blank {
			continue
		}
		var unresolved []resolution
		if found != nil {
			unresolved = make([]resolution, len(row.results))
			for i := range row.results {
				res := &row.results[i]
				if res.LookupKey == "" || !res.Valid() {
					continue
				}
				f := found[res.LookupKey]
				unresolved[i] = f
				res.Resolve(f.accounts, f.problem)
			}
		}
		row.outcomes = r.p.settle(row.rec, row.results, unresolved)
		row.results = nil
	}
}

// flush checks the batch's details against Plannr and hands each row on: to the workers
// when it has details to send, otherwise straight to the writer.
func (r *rowReader) flush() {
	if r.dispatch.Err() == nil {
		r.resolve()
	} else {
		for _, row := range r.batch {
			row.notAttempted = true
		}
	}
	clear(r.accounts)
	for _, row := range r.batch {
		for _, o := range row.outcomes {
			if o.Status == toSend {
				for _, a := range o.Detail.AccountUUIDs {
					r.accounts[a] = true
				}
			}
		}
	}
	var found existing
	var checkErr error
	if r.snd != nil && len(r.accounts) > 0 && r.dispatch.Err() == nil {
		accounts := make([]string, 0, len(r.accounts))
		for a := range r.accounts {
			accounts = append(accounts, a)
		}
		slices.Sort(accounts)
		found, checkErr = r.snd.prefetch(r.dispatch, accounts, "")
	}
	for _, row := range r.batch {
		var tasks []*task
		for i := range row.outcomes {
			o := &row.outcomes[i]
			if o.Status != toSend {
				continue
			}
			switch {
			case r.dispatch.Err() != nil:
				o.NotAttempted = true
			case checkErr != nil:
				o.fail(Failed, 0, fmt.Sprintf("not sent: Plannr could not be asked which details already exist (%v)", checkErr))
			default:
				if d, ok := found[o.Detail.Key()]; ok {
					o.Status, o.UUID = Exists, d.UUID
					if o.Detail.IsPrimary && !d.IsPrimary {
						o.Warning = joinWarnings(o.Warning, "Plannr has it, but not as the primary; existing details are left as they are")
					}
					continue
				}
				if r.cfg.DryRun {
					o.Status = Valid
					continue
				}
				tasks = append(tasks, &task{row: row, i: i})
			}
		}
		row.pending.Store(int32(len(tasks)) + 1) // +1 until every task is queued
		for _, t := range tasks {
			if !r.sched.add(r.dispatch, t) {
				row.outcomes[t.i].NotAttempted = true
				row.detailDone(r.finished)
			}
		}
		row.detailDone(r.finished)
	}
	r.batch = r.batch[:0]
	clear(r.accounts)
	clear(r.keys)
}

package importer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"plannr-import/importer/plannr"
	"plannr-import/mapping"
)

// maxRateLimited bounds the 429s one detail may meet: they do not use up its retries, but a
// limit that never lifts must not hold a run for ever.
const maxRateLimited = 50

// answer is what one attempt's result calls for.
type answer int

const (
	answerCreated     answer = iota
	answerRejected           // 422: the data is wrong; do not retry
	answerRateLimited        // 429: the pacer's business; retry without using a retry
	answerTransient          // network error, timeout, 500/502/503/504: retry with backoff
	answerRefused            // 401, 403: the credentials are wrong; stop the run
	answerPermanent          // any other 4xx, or a success we cannot read: do not retry
)

// classify says what an attempt's error calls for. It is the one place that knows which of
// Plannr's answers are worth another try.
func classify(err error) answer {
	if err == nil {
		return answerCreated
	}
	var pe *plannr.Error
	if !errors.As(err, &pe) {
		if errors.Is(err, context.Canceled) {
			return answerPermanent // the run was aborted: nothing to retry into
		}
		return answerTransient // no answer at all: connection refused, reset, timeout
	}
	switch pe.StatusCode {
	case http.StatusUnprocessableEntity:
		return answerRejected
	case http.StatusTooManyRequests:
		return answerRateLimited
	case http.StatusInternalServerError, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return answerTransient
	case http.StatusUnauthorized, http.StatusForbidden:
		return answerRefused
	}
	return answerPermanent
}

// sender creates contact details in Plannr, one call per detail, retrying as classify says.
type sender struct {
	client  *plannr.Client
	pacer   *Pacer
	retries int
	// breakAfter is how many transient failures in a row, across all workers, mean that
	// Plannr is down: the run then stops instead of spending every row's retries.
	breakAfter int

	// probe holds every worker but the first until the run's first request is answered, so
	// that credentials Plannr refuses cost one request, however many workers there are.
	probeClaimed atomic.Bool
	probe        chan struct{}
	probeOnce    sync.Once

	// timeout is the per-request timeout: after one, the server is given as long again
	// before it is asked whether it made the detail.
	timeout time.Duration
	lists   atomic.Int64 // listings made (dedupe and lost-answer checks)

	mu       sync.Mutex
	failures int // transient failures in a row
	stopOnce sync.Once
	stopWhy  string
	stopFunc context.CancelFunc
}

// stop ends the dispatch of new work, once, with the reason the user will read.
func (s *sender) stop(why string) {
	s.stopOnce.Do(func() {
		s.mu.Lock()
		s.stopWhy = why
		s.mu.Unlock()
		s.stopFunc()
	})
}

func (s *sender) stopReason() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopWhy
}

// note records an attempt's answer for the breaker.
func (s *sender) note(a answer, err error) {
	s.mu.Lock()
	if a != answerTransient {
		s.failures = 0
		s.mu.Unlock()
		return
	}
	s.failures++
	n := s.failures
	s.mu.Unlock()
	if n >= s.breakAfter {
		s.stop(fmt.Sprintf("Plannr is not answering: the last %d requests failed (the last with %v); stopped so as not to spend every row's retries. Run the same command again later", n, err))
	}
}

// send settles one detail. ctx is the dispatch context: once it is done no new attempt
// starts; inflight cancels requests on their way.
//
// Plannr has no idempotency key, so a POST whose answer is lost (a dropped connection, a
// timeout, a 5xx that may have come after the commit) is never simply sent again: the list
// endpoint is asked first whether the detail now exists, and if it does, that is the answer.
func (s *sender) send(ctx, inflight context.Context, o *Outcome) {
	if s.probeClaimed.CompareAndSwap(false, true) {
		defer s.probeOnce.Do(func() { close(s.probe) })
	} else {
		select {
		case <-s.probe:
		case <-ctx.Done():
			o.NotAttempted = true
			return
		}
	}
	req := plannr.CreateRequest{
		Type:         string(o.Detail.Type),
		Name:         o.Detail.Name,
		Value:        apiValue(o.Detail),
		IsPrimary:    o.Detail.IsPrimary,
		AccountUUIDs: o.Detail.AccountUUIDs,
	}
	transient, limited := 0, 0
	var lost error // the last attempt's answer was lost: it may have created the detail
	for {
		if lost != nil {
			if s.settleLost(ctx, inflight, o, lost, transient) {
				return
			}
			if transient > s.retries {
				o.fail(Failed, o.HTTPStatus, fmt.Sprintf("gave up after %d attempts: %v", o.Attempts, lost))
				return
			}
			lost = nil
		}
		if err := s.pacer.Wait(ctx); err != nil {
			if o.Attempts == 0 {
				o.NotAttempted = true
			} else {
				o.fail(Failed, o.HTTPStatus, fmt.Sprintf("the run was stopped before attempt %d", o.Attempts+1))
			}
			return
		}
		o.Attempts++
		created, resp, err := s.client.Create(plannr.WithAttempt(inflight, o.Attempts), req)
		if o.Attempts == 1 {
			s.probeOnce.Do(func() { close(s.probe) })
		}
		a := s.observe(err)
		o.HTTPStatus = 0
		if resp != nil {
			o.HTTPStatus = resp.StatusCode
		}
		var pe *plannr.Error
		errors.As(err, &pe)
		switch a {
		case answerCreated:
			o.Status, o.UUID, o.Error = Created, created.UUID, ""
			return
		case answerRejected:
			msg := pe.FieldMessages()
			if msg == "" {
				msg = pe.Error()
			}
			o.fail(Rejected, o.HTTPStatus, msg)
			return
		case answerRefused:
			o.fail(Failed, o.HTTPStatus, err.Error())
			return
		case answerPermanent:
			if errors.Is(err, context.Canceled) {
				o.fail(Failed, o.HTTPStatus, "the run was aborted while this request was in flight: Plannr may or may not have created it; a rerun will check")
				return
			}
			o.fail(Failed, o.HTTPStatus, err.Error())
			return
		case answerRateLimited:
			// Plannr did nothing with the request: it is safe to send it again.
			limited++
			s.pacer.RateLimited(pe.RetryAfter)
			if limited > maxRateLimited {
				o.fail(Failed, o.HTTPStatus, fmt.Sprintf("still rate-limited after %d tries: %v", limited, err))
				return
			}
		case answerTransient:
			transient++
			lost = err
			wait := backoff(transient, retryAfterOf(pe))
			if errors.Is(err, context.DeadlineExceeded) {
				// The server may still be working on it: give it as long again as we gave
				// it, before asking whether it made the detail.
				wait = max(wait, s.timeout)
			}
			if sleep(inflight, wait) != nil {
				o.fail(Failed, o.HTTPStatus, fmt.Sprintf("the run was aborted after a lost answer (%v): Plannr may or may not have created it; a rerun will check", err))
				return
			}
		}
	}
}

// settleLost asks Plannr whether an attempt whose answer was lost created the detail. It
// returns true when that settled the outcome: found (created), or not knowable (failed).
func (s *sender) settleLost(ctx, inflight context.Context, o *Outcome, lost error, attempts int) bool {
	found, err := s.lookup(inflight, o.Detail)
	switch {
	case err != nil:
		o.fail(Failed, o.HTTPStatus, fmt.Sprintf("the answer to attempt %d was lost (%v), and Plannr could not be asked whether it created the detail (%v): a rerun will check", o.Attempts, lost, err))
		return true
	case found != nil:
		o.Status, o.UUID, o.Error = Created, found.UUID, ""
		o.Warning = joinWarnings(o.Warning, fmt.Sprintf("the answer to attempt %d was lost (%v); the detail was found in Plannr", o.Attempts, lost))
		return true
	}
	return false
}

// lookup asks Plannr for a detail like d on d's accounts: the check after a lost answer.
func (s *sender) lookup(ctx context.Context, d mapping.ContactDetail) (*plannr.ContactDetail, error) {
	e, err := s.prefetch(ctx, d.AccountUUIDs, string(d.Type))
	if err != nil {
		return nil, err
	}
	if found, ok := e[d.Key()]; ok {
		return &found, nil
	}
	return nil, nil
}

// prefetch lists the contact details Plannr holds for accounts (of one type, if typ is set)
// and indexes them. When Plannr's answers do not say which accounts own each detail, it
// asks account by account instead.
func (s *sender) prefetch(ctx context.Context, accounts []string, typ string) (existing, error) {
	details, err := s.list(ctx, plannr.ListQuery{AccountUUIDs: accounts, Type: typ})
	if err != nil {
		if classify(err) == answerTransient || classify(err) == answerRateLimited {
			// Without knowing what Plannr holds nothing can be sent safely, and the next
			// batch would fare no better.
			s.stop(fmt.Sprintf("Plannr is not answering: listing the details it already holds kept failing (the last time with %v); stopped before sending more. Run the same command again later", err))
		}
		return nil, err
	}
	e := existing{}
	if e.add(details, nil) {
		return e, nil
	}
	owners := map[string][]string{}
	byUUID := map[string]plannr.ContactDetail{}
	for _, a := range accounts {
		ds, err := s.list(ctx, plannr.ListQuery{AccountUUIDs: []string{a}, Type: typ})
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			owners[d.UUID] = append(owners[d.UUID], a)
			byUUID[d.UUID] = d
		}
	}
	e = existing{}
	for id, d := range byUUID {
		e.add([]plannr.ContactDetail{d}, owners[id])
	}
	return e, nil
}

// list runs one listing of contact details, paced page by page, retried as a whole.
func (s *sender) list(ctx context.Context, q plannr.ListQuery) ([]plannr.ContactDetail, error) {
	s.lists.Add(1)
	var details []plannr.ContactDetail
	err := s.read(ctx, func(ctx context.Context) error {
		var err error
		details, err = s.client.List(ctx, q, s.pacer.Wait)
		return err
	})
	return details, err
}

// read runs a request that changes nothing (a GET, paced by the caller), again after a
// transient failure or a 429: a read is always safe to repeat.
func (s *sender) read(ctx context.Context, get func(context.Context) error) error {
	transient, limited := 0, 0
	for {
		err := get(ctx)
		var pe *plannr.Error
		errors.As(err, &pe)
		switch s.observe(err) {
		case answerCreated:
			return nil
		case answerRateLimited:
			limited++
			s.pacer.RateLimited(pe.RetryAfter)
			if limited > maxRateLimited {
				return err
			}
		case answerTransient:
			transient++
			if transient > s.retries || sleep(ctx, backoff(transient, retryAfterOf(pe))) != nil {
				return err
			}
		default:
			return err
		}
	}
}

// observe classifies an answer and tells the breaker of it (the pacer hears of every answer
// from the client itself).
func (s *sender) observe(err error) answer {
	a := classify(err)
	s.note(a, err)
	var pe *plannr.Error
	if a != answerRefused && (err == nil || errors.As(err, &pe)) {
		// Plannr answered without refusing the credentials: the workers need not wait
		// for the first POST's answer to know they are good.
		s.probeOnce.Do(func() { close(s.probe) })
	}
	if a == answerRefused {
		errors.As(err, &pe)
		what := "the token (PLANNR_TOKEN or --token-file)"
		if pe.StatusCode == http.StatusForbidden {
			what = "the firm account UUID (PLANNR_ACCOUNT_UUID or --account-uuid), or the token's rights"
		}
		s.stop(fmt.Sprintf("Plannr refused %s: %v. Nothing more was sent", what, err))
	}
	return a
}

func retryAfterOf(pe *plannr.Error) time.Duration {
	if pe == nil {
		return 0
	}
	return pe.RetryAfter
}

func joinWarnings(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// apiValue is a detail's value as Plannr wants it: Plannr reads a plain string as a GB
// number, so any other country's number goes as {"country", "number"}.
func apiValue(d mapping.ContactDetail) any {
	if d.Type == mapping.PhoneNumber && d.Country != "GB" {
		return plannr.PhoneValue{Country: d.Country, Number: d.Value}
	}
	return d.Value
}

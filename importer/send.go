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

	mu        sync.Mutex
	failures  int // transient failures in a row
	stopOnce  sync.Once
	stopWhy   string
	stopFunc  context.CancelFunc
	lastError string
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
// starts; abort cancels requests in flight.
func (s *sender) send(ctx, abort context.Context, o *Outcome) {
	req := plannr.CreateRequest{
		Type:         string(o.Detail.Type),
		Name:         o.Detail.Name,
		Value:        apiValue(o.Detail),
		IsPrimary:    o.Detail.IsPrimary,
		AccountUUIDs: o.Detail.AccountUUIDs,
	}
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
	transient, limited := 0, 0
	var lastErr error
	for {
		if err := s.pacer.Wait(ctx); err != nil {
			if o.Attempts == 0 {
				o.NotAttempted = true
				return
			}
			o.fail(Failed, 0, fmt.Sprintf("the run was stopped before attempt %d; the last: %v", o.Attempts+1, lastErr))
			return
		}
		o.Attempts++
		created, resp, err := s.client.Create(abort, req)
		if o.Attempts == 1 {
			s.probeOnce.Do(func() { close(s.probe) })
		}
		a := classify(err)
		if a != answerRateLimited {
			s.pacer.Answered()
		}
		s.note(a, err)
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		var pe *plannr.Error
		errors.As(err, &pe)
		switch a {
		case answerCreated:
			o.Status, o.UUID, o.HTTPStatus, o.Error = Created, created.UUID, status, ""
			return
		case answerRejected:
			msg := pe.FieldMessages()
			if msg == "" {
				msg = pe.Error()
			}
			o.fail(Rejected, status, msg)
			return
		case answerRefused:
			what := "the token (PLANNR_TOKEN or --token-file)"
			if status == http.StatusForbidden {
				what = "the firm account UUID (PLANNR_ACCOUNT_UUID or --account-uuid), or the token's rights"
			}
			s.stop(fmt.Sprintf("Plannr refused %s: %v. Nothing more was sent", what, err))
			o.fail(Failed, status, err.Error())
			return
		case answerPermanent:
			if errors.Is(err, context.Canceled) {
				o.fail(Failed, status, "the run was aborted while this request was in flight: Plannr may or may not have created it")
				return
			}
			o.fail(Failed, status, err.Error())
			return
		case answerRateLimited:
			limited++
			s.pacer.RateLimited(pe.RetryAfter)
			if limited > maxRateLimited {
				o.fail(Failed, status, fmt.Sprintf("still rate-limited after %d tries: %v", limited, err))
				return
			}
		case answerTransient:
			transient++
			lastErr = err
			if transient > s.retries {
				o.fail(Failed, status, fmt.Sprintf("gave up after %d attempts: %v", o.Attempts, err))
				return
			}
			var retryAfter time.Duration
			if pe != nil {
				retryAfter = pe.RetryAfter
			}
			if sleep(ctx, backoff(transient, retryAfter)) != nil {
				o.fail(Failed, status, fmt.Sprintf("the run was stopped before a retry; the last attempt: %v", err))
				return
			}
		}
		lastErr = err
	}
}

// apiValue is a detail's value as Plannr wants it: Plannr reads a plain string as a GB
// number, so any other country's number goes as {"country", "number"}.
func apiValue(d mapping.ContactDetail) any {
	if d.Type == mapping.PhoneNumber && d.Country != "GB" {
		return plannr.PhoneValue{Country: d.Country, Number: d.Value}
	}
	return d.Value
}

package importer

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Pacer spaces every request to Plannr under one shared rate, and holds all workers back when
// Plannr says to slow down. It answers "how long to wait?"; whether an answer calls for a
// retry at all is decided by classify, apart from it.
//
// The rate is a token bucket of burst 1, so requests go out evenly spaced rather than in
// bunches: Plannr counts in a fixed one-minute window, and a burst at a window's edge would
// spend two windows' budget in a moment.
type Pacer struct {
	limiter *rate.Limiter

	mu       sync.Mutex
	resumeAt time.Time // no request starts before this (a 429's Retry-After)
	streak   int       // 429s in a row, for the pause when Plannr gives no Retry-After

	rateLimited atomic.Int64
}

// NewPacer paces at perSecond requests a second; 0 means no limit.
func NewPacer(perSecond float64) *Pacer {
	limit := rate.Limit(perSecond)
	if perSecond <= 0 {
		limit = rate.Inf
	}
	return &Pacer{limiter: rate.NewLimiter(limit, 1)}
}

// Wait blocks until a request may start, or ctx is done. Give it the run's context, never a
// per-request one: the limiter refuses at once a wait longer than a context's deadline.
func (p *Pacer) Wait(ctx context.Context) error {
	if err := p.waitPause(ctx); err != nil {
		return err
	}
	if err := p.limiter.Wait(ctx); err != nil {
		return err
	}
	// A 429 may have paused everyone while this request waited for its turn.
	return p.waitPause(ctx)
}

func (p *Pacer) waitPause(ctx context.Context) error {
	for {
		p.mu.Lock()
		d := time.Until(p.resumeAt)
		p.mu.Unlock()
		if d <= 0 {
			return ctx.Err()
		}
		if err := sleep(ctx, d); err != nil {
			return err
		}
	}
}

// RateLimited tells the pacer that Plannr answered 429: every worker pauses for retryAfter,
// or, when Plannr gave none, for a pause that doubles with each 429 in a row.
func (p *Pacer) RateLimited(retryAfter time.Duration) {
	p.rateLimited.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.streak++
	d := retryAfter
	if d <= 0 {
		d = min(time.Second<<min(p.streak-1, 6), time.Minute)
	}
	if until := time.Now().Add(d); until.After(p.resumeAt) {
		p.resumeAt = until
	}
}

// Answered tells the pacer that a request got an answer other than 429.
func (p *Pacer) Answered() {
	p.mu.Lock()
	p.streak = 0
	p.mu.Unlock()
}

// RateLimitedCount is the number of 429 answers seen.
func (p *Pacer) RateLimitedCount() int64 { return p.rateLimited.Load() }

// retryBase and retryCeiling shape the backoff; tests shrink them.
var retryBase, retryCeiling = 500 * time.Millisecond, 30 * time.Second

// backoff is the wait before retry number attempt (1 for the first retry) after a transient
// failure: capped exponential with full jitter, so that workers that failed together do not
// retry together. A Retry-After from the server is a floor.
func backoff(attempt int, retryAfter time.Duration) time.Duration {
	window := min(retryBase<<min(attempt-1, 10), retryCeiling)
	d := time.Duration(rand.Int64N(int64(window)) + 1)
	return max(d, retryAfter)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

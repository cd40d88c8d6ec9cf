package importer

import (
	"context"
	"math"
	"math/rand/v2"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Pacer spends Plannr's request budget for every worker together: fully, and not one
// request more. It answers "how long to wait?"; whether an answer calls for a retry at all is
// decided by classify, apart from it.
//
// The model: Plannr allows a number of requests a user in a fixed one-minute window, shared
// with the user's other integrations, and says how many are left (X-RateLimit-Remaining) and,
// on a 429, when the window ends (Retry-After). The pacer keeps three things:
//
//   - a token bucket of burst 1 at the current rate, so requests go out evenly spaced: a burst
//     at a window's edge would spend two windows' budget in a moment;
//   - that rate, by additive increase and multiplicative decrease: down by 30% on a 429, up
//     by 1% of --rate with each clean answer, never above --rate;
//   - the window, learnt from the answers (a jump in X-RateLimit-Remaining is a new window; a
//     429's Retry-After is the next one's start): once its length is known, the rate is held
//     to what is left divided by the time left, and when nothing is left every worker waits
//     for the next window instead of meeting a 429.
//
// Wait is what workers call before each request; Observe and RateLimited feed it answers.
type Pacer struct {
	limiter *rate.Limiter
	max     float64 // --rate; +Inf for none

	mu       sync.Mutex
	cur      float64   // the AIMD rate
	budget   float64   // what the window has left a second; +Inf when not known
	resumeAt time.Time // no request starts before this
	streak   int       // 429s in a row, for the pause when Plannr gives no Retry-After
	limit    int       // X-RateLimit-Limit
	lastLeft int       // the last X-RateLimit-Remaining, -1 before any
	start    time.Time // the current window's start, once seen
	window   time.Duration
	starts   [256]time.Time // when the latest requests started (a ring)
	next     int

	rateLimited atomic.Int64
}

// NewPacer paces at perSecond requests a second; 0 means no limit until Plannr says 429.
// burst is how many requests may go out at once from a full bucket: 1 spaces them evenly.
func NewPacer(perSecond float64, burst int) *Pacer {
	max := perSecond
	if perSecond <= 0 {
		max = math.Inf(1)
	}
	p := &Pacer{max: max, cur: max, budget: math.Inf(1), lastLeft: -1}
	p.limiter = rate.NewLimiter(limitOf(max), burst)
	return p
}

func limitOf(r float64) rate.Limit {
	if math.IsInf(r, 1) {
		return rate.Inf
	}
	return rate.Limit(r)
}

// Wait blocks until a request may start, or ctx is done. Give it the run's context, never a
// per-request one: the limiter refuses at once a wait longer than a context's deadline.
func (p *Pacer) Wait(ctx context.Context) error {
	for {
		if err := p.waitPause(ctx); err != nil {
			return err
		}
		if err := p.waitTurn(ctx); err != nil {
			return err
		}
		// A pause may have begun while this request waited for its turn.
		p.mu.Lock()
		now := time.Now()
		if now.Before(p.resumeAt) {
			p.mu.Unlock()
			continue
		}
		p.starts[p.next%len(p.starts)] = now
		p.next++
		p.mu.Unlock()
		return nil
	}
}

// waitTurn waits for a token of the bucket. It does not use Limiter.Wait: a waiter keeps
// the delay it reserved when the rate changes, so workers that queued while the rate was
// low would hold on to long waits after it rose. A long wait is taken in short steps, each
// with a new reservation at the rate of the moment.
func (p *Pacer) waitTurn(ctx context.Context) error {
	const step = 100 * time.Millisecond
	for {
		r := p.limiter.Reserve()
		d := r.Delay()
		if d <= step {
			return sleep(ctx, d)
		}
		r.Cancel()
		if err := sleep(ctx, step); err != nil {
			return err
		}
	}
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

// pauseUntil holds every worker until t (a later pause wins). Called with mu held.
func (p *Pacer) pauseUntil(t time.Time) {
	if t.After(p.resumeAt) {
		p.resumeAt = t
	}
}

// RateLimited tells the pacer that Plannr answered 429: the rate drops by 30%, and every
// worker pauses for retryAfter, or, when Plannr gave none, for a pause that doubles with
// each 429 in a row.
func (p *Pacer) RateLimited(retryAfter time.Duration) {
	p.rateLimited.Add(1)
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	p.streak++
	// The requests in flight when the limit was hit all come back 429: that is one event,
	// and the rate drops once for it.
	if !now.Before(p.resumeAt) {
		if math.IsInf(p.cur, 1) {
			p.cur = p.recentRate(now) // no limit was set: start from what was being sent
		}
		p.cur = max(p.cur*0.7, 0.5)
	}
	d := retryAfter
	if d <= 0 {
		d = min(time.Second<<min(p.streak-1, 6), time.Minute)
	} else {
		p.seeWindowStart(now.Add(retryAfter)) // the next window starts then
	}
	p.pauseUntil(now.Add(d))
	p.lastLeft = 0
	p.apply()
}

// Observe reads an answer other than a transport failure: its rate-limit headers, and, for
// any answer but a 429, a step back up.
func (p *Pacer) Observe(status int, h http.Header, sent time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	now := time.Now()
	if status != http.StatusTooManyRequests {
		p.streak = 0
		if math.IsInf(p.max, 1) {
			if !math.IsInf(p.cur, 1) {
				p.cur *= 1.05
				if p.cur > 1e5 {
					p.cur = math.Inf(1)
				}
			}
		} else {
			p.cur = min(p.max, p.cur+p.max/100)
		}
	}
	if l, err := strconv.Atoi(h.Get("X-RateLimit-Limit")); err == nil && l > 0 {
		p.limit = l
	}
	left, err := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	if err != nil || status == http.StatusTooManyRequests {
		p.apply()
		return
	}
	// Plannr counts a request when it arrives, before the work that makes most of the
	// latency: the time it was sent is the nearest known.
	switch {
	case p.lastLeft < 0 && p.limit > 0 && left >= p.limit-p.next:
		// The first answer, and nobody else has used this window: it began with this run's
		// first request.
		p.seeWindowStart(sent)
	case p.lastLeft >= 0 && p.limit > 0 && left > p.lastLeft+max(2, p.limit/2):
		// The count went up by much more than answers arriving out of order explain: a new
		// window began with this request.
		p.seeWindowStart(sent)
	}
	p.lastLeft = left
	p.budget = math.Inf(1)
	if p.window > 0 && !p.start.IsZero() {
		end := p.start.Add(p.window)
		for !end.After(now) {
			p.start, end = end, end.Add(p.window)
		}
		if sent.Before(p.start) {
			// The request reached Plannr in the window before this one: what it says is
			// left was left there.
			p.apply()
			return
		}
		// What is left, less the requests already on their way that this answer does
		// not count yet, over the time left.
		spare := left - p.startedSince(sent)
		fresh := now.Sub(p.start) < p.window/5
		if spare <= 0 && fresh {
			// A window cannot be spent so soon by this run: the answer is most likely
			// the last window's, and if not, a 429 will say so.
			p.apply()
			return
		}
		if spare <= 0 {
			// Nothing left: wait for the next window rather than meet a 429, with a
			// margin for how well its start is known.
			p.pauseUntil(end.Add(min(max(p.window/200, 50*time.Millisecond), 300*time.Millisecond)))
		} else {
			p.budget = float64(spare) / end.Sub(now).Seconds()
		}
	}
	p.apply()
}

// seeWindowStart records that a window began at t, and learns the window's length from the
// last start seen. Called with mu held.
func (p *Pacer) seeWindowStart(t time.Time) {
	if !p.start.IsZero() {
		// Plannr's window starts with the first request after the last one ended, so the
		// time between two starts is the window's length or more (a pause in between): the
		// shortest seen is the best estimate.
		d := t.Sub(p.start)
		switch {
		case d < 500*time.Millisecond:
			return // the same start, seen twice
		case p.window == 0 || d < p.window:
			p.window = d
		}
	}
	p.start = t
}

// startedSince counts the requests started after t (the ring holds the latest 256).
func (p *Pacer) startedSince(t time.Time) int {
	n := 0
	for _, s := range p.starts {
		if s.After(t) {
			n++
		}
	}
	return n
}

// recentRate is the rate requests started at over the last second.
func (p *Pacer) recentRate(now time.Time) float64 {
	return float64(max(1, p.startedSince(now.Add(-time.Second))))
}

// apply sets the bucket to the lower of the AIMD rate and the window's budget. Called with
// mu held.
func (p *Pacer) apply() {
	p.limiter.SetLimit(limitOf(min(p.cur, p.budget)))
}

// Rate is the rate the pacer allows now, in requests a second (+Inf: no limit).
func (p *Pacer) Rate() float64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return min(p.cur, p.budget)
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

package importer

import (
	"context"
	"math"
	"net/http"
	"strconv"
	"testing"
	"time"
)

func headers(limit, remaining int) http.Header {
	h := http.Header{}
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	return h
}

func TestPacerAIMD(t *testing.T) {
	p := NewPacer(20, 1)
	if p.Rate() != 20 {
		t.Fatalf("start %v", p.Rate())
	}
	p.RateLimited(0)
	p.RateLimited(0) // the same event: the requests in flight with the first
	if got := p.Rate(); got != 14 {
		t.Errorf("after a 429: %v, want 14 (one cut of 30%%)", got)
	}
	for i := 0; i < 5; i++ {
		p.Observe(201, http.Header{}, time.Now())
	}
	if got := p.Rate(); math.Abs(got-15) > 1e-9 {
		t.Errorf("after 5 clean answers: %v, want 15 (+1%% of --rate each)", got)
	}
	for i := 0; i < 100; i++ {
		p.Observe(201, http.Header{}, time.Now())
	}
	if got := p.Rate(); got != 20 {
		t.Errorf("never above --rate: %v", got)
	}
}

func TestPacerUnlimitedLearnsFromA429(t *testing.T) {
	p := NewPacer(0, 1)
	if !math.IsInf(p.Rate(), 1) {
		t.Fatalf("no limit: %v", p.Rate())
	}
	for i := 0; i < 30; i++ {
		p.Wait(context.Background())
	}
	p.RateLimited(time.Millisecond)
	if got := p.Rate(); got != 21 {
		t.Errorf("after a 429: %v, want 70%% of the 30 sent in the last second", got)
	}
}

func TestPacerPausesEveryoneOnRetryAfter(t *testing.T) {
	p := NewPacer(0, 1)
	p.RateLimited(300 * time.Millisecond)
	start := time.Now()
	if err := p.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < 250*time.Millisecond {
		t.Errorf("Wait returned after %v, inside a 300ms Retry-After", waited)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p.RateLimited(time.Hour)
	cancel()
	if err := p.Wait(ctx); err == nil {
		t.Error("Wait ignored its context during a pause")
	}
}

// The window is learnt from the jumps in X-RateLimit-Remaining; then the rate is what is
// left over the time left, and an empty window is waited out rather than met with a 429.
func TestPacerLearnsTheWindow(t *testing.T) {
	p := NewPacer(100, 1)
	now := time.Now()
	p.seeWindowStart(now.Add(-25 * time.Second))
	p.seeWindowStart(now.Add(-15 * time.Second)) // two starts 10s apart: a 10s window
	if p.window != 10*time.Second {
		t.Fatalf("window %v", p.window)
	}
	p.seeWindowStart(now.Add(-15*time.Second + 100*time.Millisecond)) // the same start, seen late
	if p.window != 10*time.Second {
		t.Errorf("a start seen twice changed the window: %v", p.window)
	}
	// 5 s into the window (it rolls on from -15s): 100 left over the 5 s to go.
	p.lastLeft = 100
	p.Observe(200, headers(200, 100), time.Now())
	if got := p.Rate(); math.Abs(got-20) > 1 {
		t.Errorf("with 100 left and ~5s to go: %v, want about 20/s", got)
	}
	// An answer from a request sent before this window began says nothing of it.
	p.Observe(200, headers(200, 0), now.Add(-6*time.Second))
	p.mu.Lock()
	paused := p.resumeAt.After(time.Now())
	p.mu.Unlock()
	if paused {
		t.Error("an answer from the last window paused this one")
	}
	// Nothing left: everyone waits for the window to end.
	p.Observe(200, headers(200, 0), time.Now())
	p.mu.Lock()
	pause := time.Until(p.resumeAt)
	p.mu.Unlock()
	if pause < 4*time.Second || pause > 6*time.Second {
		t.Errorf("with nothing left, paused for %v; want the ~5s to the window's end", pause)
	}
	// A jump in what is left is a new window.
	p2 := NewPacer(100, 1)
	p2.Observe(200, headers(200, 3), time.Now())
	p2.Observe(200, headers(200, 199), time.Now())
	if p2.start.IsZero() {
		t.Error("a jump from 3 to 199 left was not taken for a new window")
	}
	p2.Observe(200, headers(200, 150), time.Now())
	p2.Observe(200, headers(200, 152), time.Now()) // answers out of order: no new window
	if p2.window != 0 {
		t.Errorf("answers out of order taken for a new window: %v", p2.window)
	}
}

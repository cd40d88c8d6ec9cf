package importer

import (
	"fmt"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress reports a run as it goes: a live bar on a terminal, otherwise a line every
// ProgressEvery, for cron logs. The bar follows the bytes read, which are exact without a
// first pass over the file; the rows, outcomes and request rate are in its description.
type progress struct {
	cfg   Config
	size  int64
	read  *countingReader
	tally *tally
	snd   *sender
	start time.Time
	bar   *progressbar.ProgressBar

	quit, done chan struct{}
	lastReqs   int64
	lastAt     time.Time
}

func newProgress(cfg Config, size int64, read *countingReader, w *writers, snd *sender) *progress {
	p := &progress{cfg: cfg, size: size, read: read, tally: w.tally, snd: snd, start: time.Now(),
		quit: make(chan struct{}), done: make(chan struct{})}
	p.lastAt = p.start
	if cfg.Progress == nil {
		close(p.done)
		return p
	}
	every := cfg.ProgressEvery
	if every <= 0 {
		every = 10 * time.Second
	}
	if cfg.ProgressBar {
		p.bar = progressbar.NewOptions64(size,
			progressbar.OptionSetWriter(cfg.Progress),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionClearOnFinish(),
		)
		every = 200 * time.Millisecond
	}
	go p.loop(every)
	return p
}

func (p *progress) loop(every time.Duration) {
	defer close(p.done)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-p.quit:
			if p.bar != nil {
				p.bar.Finish()
			}
			return
		case <-t.C:
			p.report()
		}
	}
}

func (p *progress) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	close(p.quit)
	<-p.done
}

func (p *progress) report() {
	t := p.tally
	rows := t.rows.Load()
	desc := fmt.Sprintf("%d rows", rows)
	if p.cfg.DryRun {
		desc += fmt.Sprintf(" · %d valid · %d invalid", t.count(Valid), t.count(Invalid))
	} else {
		desc += fmt.Sprintf(" · %d created · %d failed", t.count(Created), t.count(Failed)+t.count(Rejected)+t.count(Invalid))
	}
	if p.snd != nil {
		now := time.Now()
		reqs := p.snd.client.Requests()
		recent := float64(reqs-p.lastReqs) / now.Sub(p.lastAt).Seconds()
		p.lastReqs, p.lastAt = reqs, now
		desc += fmt.Sprintf(" · %.1f req/s", recent)
		if p.cfg.Rate > 0 {
			desc += fmt.Sprintf(" of %g allowed", p.cfg.Rate)
		}
		if n := p.snd.pacer.RateLimitedCount(); n > 0 {
			desc += fmt.Sprintf(" · %d × 429", n)
		}
	}
	if p.bar != nil {
		p.bar.Describe(desc)
		p.bar.Set64(p.read.n.Load())
		return
	}
	line := "progress: " + desc
	if p.size > 0 {
		done := float64(p.read.n.Load()) / float64(p.size)
		line += fmt.Sprintf(" · %.0f%% of the file", 100*done)
		if elapsed := time.Since(p.start); done > 0.01 && done < 1 {
			left := time.Duration(float64(elapsed) * (1 - done) / done)
			line += fmt.Sprintf(" · about %s left", left.Round(time.Second))
		}
	}
	fmt.Fprintf(p.cfg.Progress, "%s %s\n", time.Now().Format("2006-01-02T15:04:05"), line)
}

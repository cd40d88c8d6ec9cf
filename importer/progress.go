package importer

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progress reports a run as it goes: a live bar on a terminal, otherwise a line every
// ProgressEvery, for cron logs. The total is the file's line count less the header, found by
// a first pass that reads at disk speed (a record spanning lines makes it an over-estimate,
// never an under-one); the outcomes and request rate are in the bar's description.
type progress struct {
	cfg   Config
	total int64 // rows expected, or -1 when unknown
	tally *tally
	snd   *sender
	start time.Time
	bar   *progressbar.ProgressBar

	log        *slog.Logger // the progress lines, when there is no bar
	quit, done chan struct{}
	lastReqs   int64
	lastAt     time.Time
	recent     float64 // requests a second, smoothed
}

func newProgress(cfg Config, w *writers, snd *sender) *progress {
	p := &progress{cfg: cfg, total: -1, tally: w.tally, snd: snd, start: time.Now(),
		quit: make(chan struct{}), done: make(chan struct{})}
	p.lastAt = p.start
	if cfg.Progress == nil {
		close(p.done)
		return p
	}
	if lines, err := countLines(cfg.Input); err == nil {
		p.total = max(1, lines-1)
	}
	every := cfg.ProgressEvery
	if every <= 0 {
		every = 10 * time.Second
	}
	p.log = cfg.Log
	if p.log == nil {
		p.log = slog.New(slog.NewTextHandler(cfg.Progress, nil))
	}
	if cfg.ProgressBar {
		p.bar = progressbar.NewOptions64(p.total,
			progressbar.OptionSetWriter(cfg.Progress),
			progressbar.OptionThrottle(100*time.Millisecond),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionShowDescriptionAtLineEnd(),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
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
	desc := ""
	if p.cfg.DryRun {
		desc = fmt.Sprintf("%d valid · %d invalid", t.count(Valid), t.count(Invalid))
	} else {
		desc = fmt.Sprintf("%d created · %d exist · %d to fix", t.count(Created), t.count(Exists), t.count(Failed)+t.count(Rejected)+t.count(Invalid))
	}
	if p.snd != nil {
		now := time.Now()
		reqs := p.snd.client.Requests()
		instant := float64(reqs-p.lastReqs) / now.Sub(p.lastAt).Seconds()
		if p.recent == 0 {
			p.recent = instant
		}
		p.recent = 0.8*p.recent + 0.2*instant // smoothed over the last few reports
		p.lastReqs, p.lastAt = reqs, now
		desc += fmt.Sprintf(" · %.1f req/s", p.recent)
		if allowed := p.snd.pacer.Rate(); !math.IsInf(allowed, 1) {
			desc += fmt.Sprintf(", pacing at %.1f/s", allowed)
		}
		if p.cfg.Rate > 0 {
			desc += fmt.Sprintf(" (--rate %g)", p.cfg.Rate)
		}
		if n := p.snd.pacer.RateLimitedCount(); n > 0 {
			desc += fmt.Sprintf(" · %d × 429", n)
		}
	}
	if p.bar != nil {
		p.bar.Describe(desc)
		p.bar.Set64(min(rows, p.total))
		return
	}
	attrs := []any{"rows", rows, "total", p.total}
	if p.total > 0 {
		done := float64(rows) / float64(p.total)
		attrs = append(attrs, "percent", math.Round(100*min(done, 1)))
		if elapsed := time.Since(p.start); done > 0.01 && done < 1 {
			attrs = append(attrs, "left", time.Duration(float64(elapsed)*(1-done)/done).Round(time.Second).String())
		}
	}
	for _, st := range Statuses {
		if n := t.count(st); n > 0 {
			attrs = append(attrs, string(st), n)
		}
	}
	if p.snd != nil {
		attrs = append(attrs, "requests_per_second", math.Round(10*p.recent)/10)
		if allowed := p.snd.pacer.Rate(); !math.IsInf(allowed, 1) {
			attrs = append(attrs, "pacing_per_second", math.Round(10*allowed)/10)
		}
		attrs = append(attrs, "rate_limited_429", p.snd.pacer.RateLimitedCount())
	}
	p.log.Info("progress", attrs...)
}

// countLines counts the line ends of a file (and a last line without one).
func countLines(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	buf := make([]byte, 256<<10)
	var n int64
	last := byte('\n')
	for {
		k, err := f.Read(buf)
		n += int64(bytes.Count(buf[:k], []byte{'\n'}))
		if k > 0 {
			last = buf[k-1]
		}
		if err == io.EOF {
			if last != '\n' {
				n++
			}
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

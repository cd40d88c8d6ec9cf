package importer

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Exit codes of the command: scripts and schedulers read these.
const (
	ExitOK      = 0 // every row is good
	ExitRows    = 1 // the run finished, but some rows are invalid, rejected or failed
	ExitConfig  = 2 // usage, configuration or unreadable input: nothing was sent
	ExitStopped = 3 // the run was stopped part-way
)

// Summary is what a run did, row by row, in counts.
type Summary struct {
	Input, Results, Failed string
	DryRun                 bool
	// Notes say how the input was read where that was guessed (encoding, delimiter).
	Notes             []string
	Started, Finished time.Time
	// Rows is the number of data records read, blank ones included.
	Rows int
	// Blank counts empty spreadsheet rows (",,,,"), which hold no contact detail.
	Blank int
	// NoDetails counts rows whose value cells a mapping found all empty: no detail to make.
	NoDetails int
	// RerunFlags are the flags a rerun on the failed-rows file needs (--mapping, …).
	RerunFlags []string
	// Counts is the number of contact details that ended in each status.
	Counts map[Status]int
	// FailedRows is the number of source rows written to the failed-rows file.
	FailedRows int
	// NotAttempted counts the rows a stopped run never started.
	NotAttempted int
	// Stopped is set when the run was stopped part-way; StopReason says why when it was not
	// the user who stopped it (the credentials were refused, Plannr was down).
	Stopped    bool
	StopReason string
	// Aborted is set when a second stop cut the run short before the rest of the input was
	// read: the rows after the last one counted are in neither file.
	Aborted bool
	// Requests is the number of requests sent to Plannr, RateLimited how many were
	// answered 429, and Rate the limit they were sent under (0: none).
	Requests, RateLimited int64
	Rate                  float64
	// Listings counts the listings made to find details Plannr already holds (before
	// sending, and after a lost answer); each is one request or more (one a page).
	Listings int64
	// RequestsByKind counts the requests by what they were for (plannr.Kind*).
	RequestsByKind map[string]int64
	// ToCreate is, for a dry run, the number of details a real run would send.
	ToCreate int
}

// ExitCode is the process exit code the summary calls for.
func (s *Summary) ExitCode() int {
	switch {
	case s.Stopped:
		return ExitStopped
	case s.Counts[Invalid]+s.Counts[Rejected]+s.Counts[Failed] > 0:
		return ExitRows
	}
	return ExitOK
}

// Print writes the summary for a person: the counts, where the files are, what to do next.
func (s *Summary) Print(w io.Writer) {
	verb := "imported"
	if s.DryRun {
		verb = "checked (dry run: nothing was sent)"
	}
	if s.Stopped {
		verb = "stopped part-way"
	}
	fmt.Fprintf(w, "\n%s: %s, %d rows", s.Input, verb, s.Rows)
	if s.Blank > 0 {
		fmt.Fprintf(w, " (%d blank, skipped)", s.Blank)
	}
	if s.NoDetails > 0 {
		fmt.Fprintf(w, " (%d with every contact cell empty: nothing to send)", s.NoDetails)
	}
	if !s.Finished.IsZero() {
		fmt.Fprintf(w, " in %s", s.Finished.Sub(s.Started).Round(time.Millisecond))
	}
	fmt.Fprintln(w)
	for _, n := range s.Notes {
		fmt.Fprintf(w, "  (%s)\n", n)
	}
	for _, st := range Statuses {
		if n := s.Counts[st]; n > 0 {
			fmt.Fprintf(w, "  %-10s %7d\n", st, n)
		}
	}
	if s.NotAttempted > 0 {
		fmt.Fprintf(w, "  %-10s %7d rows\n", "not tried", s.NotAttempted)
	}
	if s.Requests > 0 {
		fmt.Fprintf(w, "Requests:    %d, %s accepted", s.Requests, perSecond(s.Requests-s.RateLimited, s.Finished.Sub(s.Started)))
		if s.Rate > 0 {
			fmt.Fprintf(w, " (--rate %g)", s.Rate)
		}
		fmt.Fprintf(w, "; %d answered 429; %d listings to find existing details\n", s.RateLimited, s.Listings)
	}
	fmt.Fprintf(w, "Results:     %s\n", s.Results)
	fmt.Fprintf(w, "Failed rows: %s (%d %s)\n", s.Failed, s.FailedRows, plural(s.FailedRows, "row"))

	if s.StopReason != "" {
		fmt.Fprintf(w, "Stopped:     %s.\n", s.StopReason)
	}
	var next []string
	switch {
	case s.Aborted:
		next = append(next, fmt.Sprintf("The run was aborted before it read the whole input (the rows after row %d are in neither file). Run the same command again to finish: what Plannr already holds is found, not sent twice.", s.Rows))
	case s.Stopped:
		next = append(next, "Run the same command again to finish: what Plannr already holds is found, not sent twice.",
			fmt.Sprintf("(%s also holds every row not done, to fix or to run on.)", s.Failed))
	case s.FailedRows > 0:
		flags := append([]string{"plannr-import"}, s.RerunFlags...)
		if s.DryRun {
			flags = append(flags, "--dry-run")
		}
		again := strings.Join(append(flags, s.Failed), " ")
		next = append(next, fmt.Sprintf("Fix the %d %s in %s (the error column says what is wrong), then run:", s.FailedRows, plural(s.FailedRows, "row"), s.Failed), "  "+again)
	case s.DryRun:
		next = append(next, "Every row is ready to send.")
	}
	if s.DryRun {
		fmt.Fprintf(w, "Plan:        %s\n", s.plan())
	}
	if len(next) > 0 {
		fmt.Fprintln(w, "Next: "+strings.Join(next, "\n"))
	}
}

// plan says what a real run would do, and how long it would take at the configured rate.
func (s *Summary) plan() string {
	n := s.Counts[Valid]
	msg := fmt.Sprintf("%d to create", n)
	if e := s.Counts[Exists]; e > 0 {
		msg += fmt.Sprintf(", %d already in Plannr", e)
	}
	if bad := s.Counts[Invalid]; bad > 0 {
		msg += fmt.Sprintf(", %d invalid", bad)
	}
	switch {
	case n == 0:
	case s.Rate <= 0:
		msg += ": with no --rate, as fast as Plannr answers"
	default:
		d := time.Duration(float64(n) / s.Rate * float64(time.Second))
		msg += fmt.Sprintf(": about %s at %g/s (%g a minute)", roundDuration(d), s.Rate, s.Rate*60)
	}
	return msg
}

// roundDuration shows a duration as a person would say it: "25 min", "3 h 20 min", "40 s".
func roundDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return "less than a second"
	case d < time.Minute:
		return fmt.Sprintf("%d s", int(d.Seconds()+0.5))
	case d < time.Hour:
		return fmt.Sprintf("%d min", int(d.Minutes()+0.5))
	}
	h := int(d.Hours())
	return fmt.Sprintf("%d h %d min", h, int(d.Minutes()+0.5)-60*h)
}

func perSecond(n int64, d time.Duration) string {
	if d <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f/s", float64(n)/d.Seconds())
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// JSONSummary is the file --summary writes at the end of every run: what monitoring reads.
// Its fields are documented in the README.
type JSONSummary struct {
	Version         string           `json:"version"`
	Started         time.Time        `json:"started"`
	Finished        time.Time        `json:"finished"`
	DurationSeconds float64          `json:"duration_seconds"`
	Input           string           `json:"input"`
	Results         string           `json:"results"`
	Failed          string           `json:"failed"`
	DryRun          bool             `json:"dry_run"`
	Rows            int              `json:"rows"`
	Counts          map[Status]int   `json:"counts"`
	FailedRows      int              `json:"failed_rows"`
	NotAttempted    int              `json:"not_attempted"`
	Requests        map[string]int64 `json:"requests"`
	RateLimited     int64            `json:"rate_limited_429"`
	AllowedRate     float64          `json:"allowed_rate_per_second"`
	AchievedRate    float64          `json:"achieved_rate_per_second"`
	Stopped         bool             `json:"stopped"`
	StopReason      string           `json:"stop_reason,omitempty"`
	Error           string           `json:"error,omitempty"`
	ExitCode        int              `json:"exit_code"`
}

// JSON is the summary as --summary writes it.
func (s *Summary) JSON(version string) JSONSummary {
	counts := map[Status]int{}
	for _, st := range []Status{Created, Exists, Duplicate, Invalid, Rejected, Failed} {
		counts[st] = s.Counts[st]
	}
	if s.DryRun {
		counts[Valid] = s.Counts[Valid]
	}
	requests := map[string]int64{"total": s.Requests}
	for k, v := range s.RequestsByKind {
		requests[k] = v
	}
	d := s.Finished.Sub(s.Started)
	j := JSONSummary{Version: version, Started: s.Started.UTC(), Finished: s.Finished.UTC(), DurationSeconds: d.Seconds(),
		Input: s.Input, Results: s.Results, Failed: s.Failed, DryRun: s.DryRun, Rows: s.Rows, Counts: counts,
		FailedRows: s.FailedRows, NotAttempted: s.NotAttempted, Requests: requests, RateLimited: s.RateLimited,
		AllowedRate: s.Rate, Stopped: s.Stopped, StopReason: s.StopReason, ExitCode: s.ExitCode()}
	if d > 0 {
		j.AchievedRate = float64(s.Requests-s.RateLimited) / d.Seconds()
	}
	return j
}

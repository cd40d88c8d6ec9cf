package importer

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"plannr-import/importer/plannr"
	"plannr-import/importer/plannrtest"
)

// fastRetries shrinks the backoff for the test's duration.
func fastRetries(t *testing.T) {
	base, ceiling := retryBase, retryCeiling
	retryBase, retryCeiling = time.Millisecond, 20*time.Millisecond
	t.Cleanup(func() { retryBase, retryCeiling = base, ceiling })
}

func startFake(t *testing.T, opts plannrtest.Options, f plannrtest.Faults) *plannrtest.Server {
	t.Helper()
	if opts.Clients == nil {
		opts.AnyClient = true
	}
	s, err := plannrtest.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.SetFaults(f)
	t.Cleanup(s.Close)
	return s
}

func clientFor(t *testing.T, s *plannrtest.Server, token string) *plannr.Client {
	t.Helper()
	c, err := plannr.New(plannr.Config{BaseURL: s.URL, Token: token, AccountUUID: s.AccountUUID, UserAgent: "plannr-import/test", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// contacts makes n canonical rows of distinct e-mail addresses, 20 clients taking turns
// (jane first, then john).
func contacts(n int) string {
	var b strings.Builder
	b.WriteString("account_uuids,type,name,value,notes\n")
	for i := 0; i < n; i++ {
		acc := fmt.Sprintf("%08x-0000-4000-8000-000000000000", i%20)
		switch i % 20 {
		case 0:
			acc = jane
		case 1:
			acc = john
		}
		fmt.Fprintf(&b, "%s,email,Email %d,client%d@example.com,note %d\n", acc, i, i, i)
	}
	return b.String()
}

func importFile(t *testing.T, ctx context.Context, cfg Config) (*Summary, []map[string]string, []map[string]string) {
	t.Helper()
	s, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	_, results := readCSV(t, DefaultResultsPath(cfg.Input))
	_, failed := readCSV(t, DefaultFailedPath(cfg.Input))
	return s, results, failed
}

// Every row ends in the results exactly once, in order, with the UUID the server issued.
func TestSendEveryRowOnce(t *testing.T) {
	fastRetries(t)
	srv := startFake(t, plannrtest.Options{Seed: 1}, plannrtest.Faults{Latency: 5 * time.Millisecond, Jitter: 20 * time.Millisecond, ServerErrorRate: 0.2, DropRate: 0.05})
	input := writeInput(t, contacts(200)+jane+",phone,Bad,+61 2 9876,\n"+jane+",email,Dup,client0@example.com,\n")
	s, results, failed := importFile(t, context.Background(), Config{Input: input, Client: clientFor(t, srv, srv.Token), Rate: 0, Workers: 8, Retries: 10})

	if s.Counts[Created] != 200 || s.Counts[Invalid] != 1 || s.Counts[Duplicate] != 1 || s.ExitCode() != ExitRows {
		t.Fatalf("summary %+v", s)
	}
	if len(results) != 202 {
		t.Fatalf("%d results lines, want 202", len(results))
	}
	held := map[string]plannrtest.Detail{}
	for _, d := range srv.Details() {
		held[d.UUID] = d
	}
	if len(held) != 200 {
		t.Errorf("server holds %d details, want 200", len(held))
	}
	rows := map[string]bool{}
	for _, r := range results {
		if rows[r["row"]] {
			t.Errorf("row %s has two results lines", r["row"])
		}
		rows[r["row"]] = true
		if r["status"] != "created" {
			continue
		}
		d, ok := held[r["uuid"]]
		if !ok || d.Value != r["value"] || r["http_status"] != "201" {
			t.Errorf("row %s: uuid %s, server has %+v", r["row"], r["uuid"], d)
		}
		delete(held, r["uuid"])
	}
	if len(held) != 0 {
		t.Errorf("details created but in no results line: %v", held)
	}
	retried := 0
	for _, r := range results {
		if r["attempts"] != "1" && r["status"] == "created" {
			retried++
		}
	}
	if retried == 0 {
		t.Error("20% 503s and 5% dropped connections, yet no row took more than one attempt")
	}
	if len(failed) != 1 || failed[0]["notes"] != "" || failed[0]["name"] != "Bad" {
		t.Errorf("failed rows %v", failed)
	}
	// net/http itself sends a GET again, once, when its connection drops before an answer;
	// nothing else is sent that the summary does not count.
	if st := srv.Stats(); s.Requests > int64(st.Requests) || int64(st.Requests)-s.Requests > int64(st.Dropped) {
		t.Errorf("summary counts %d requests, server saw %d (%d dropped)", s.Requests, st.Requests, st.Dropped)
	}
}

func TestSendRateLimitedObeysRetryAfter(t *testing.T) {
	srv := startFake(t, plannrtest.Options{RateLimit: 10, Window: time.Second}, plannrtest.Faults{})
	input := writeInput(t, contacts(25))
	start := time.Now()
	s, results, _ := importFile(t, context.Background(), Config{Input: input, Client: clientFor(t, srv, srv.Token), Rate: 0, Workers: 4, Retries: 2})
	if s.Counts[Created] != 25 || s.RateLimited == 0 {
		t.Fatalf("summary %+v", s)
	}
	// Retries of 429s do not use up the row's retries (2 here).
	for _, r := range results {
		if r["status"] != "created" {
			t.Errorf("row %s: %s %s", r["row"], r["status"], r["error"])
		}
	}
	// After a 429 with Retry-After, nothing is sent until it has passed. Requests already in
	// flight when the 429 was answered arrive just after it; allow them 100ms (a loaded CI machine).
	log := srv.Log()
	for _, limited := range log {
		if limited.Status != 429 {
			continue
		}
		from, to := limited.At.Add(100*time.Millisecond), limited.At.Add(time.Second-50*time.Millisecond)
		for _, later := range log {
			if later.At.After(from) && later.At.Before(to) {
				t.Errorf("a request at %v came %v after a 429 told everyone to wait 1s", later.At.Sub(start), later.At.Sub(limited.At))
			}
		}
	}
	if n := srv.Stats().ByStatus[429]; n > 8 {
		t.Errorf("%d answers were 429: the workers did not all pause", n)
	}
}

func TestSendRejected(t *testing.T) {
	srv := startFake(t, plannrtest.Options{Clients: []string{jane}}, plannrtest.Faults{})
	// john is not a client of this firm: Plannr refuses it.
	input := writeInput(t, contacts(2))
	s, results, failed := importFile(t, context.Background(), Config{Input: input, Client: clientFor(t, srv, srv.Token), Rate: 0, Retries: 3})
	if s.Counts[Created] != 1 || s.Counts[Rejected] != 1 {
		t.Fatalf("summary %+v", s)
	}
	var r map[string]string
	for _, line := range results {
		if line["row"] == "2" { // results come in the order rows finish
			r = line
		}
	}
	if r["status"] != "rejected" || r["attempts"] != "1" || r["http_status"] != "422" || r["error"] != "account_uuids.0: The selected account_uuids.0 is invalid." {
		t.Errorf("rejected row %v", r)
	}
	if len(failed) != 1 || failed[0]["error"] != r["error"] {
		t.Errorf("failed rows %v", failed)
	}
	if n := countRequests(srv, "POST"); n != 2 {
		t.Errorf("%d POSTs: a 422 must not be retried", n)
	}
}

func TestSendRefusedTokenStopsAtOnce(t *testing.T) {
	for _, tc := range []struct {
		name, token string
		status      int
		want        string
	}{
		{"401", "not-the-token-0123456789", 401, "Plannr refused the token"},
		{"403", "", 403, "Plannr refused the firm account UUID"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startFake(t, plannrtest.Options{}, plannrtest.Faults{Latency: 10 * time.Millisecond})
			token := tc.token
			if token == "" {
				token = srv.Token
			}
			c, _ := plannr.New(plannr.Config{BaseURL: srv.URL, Token: token, AccountUUID: srv.AccountUUID, Timeout: 5 * time.Second})
			if tc.status == 403 {
				c, _ = plannr.New(plannr.Config{BaseURL: srv.URL, Token: token, AccountUUID: john, Timeout: 5 * time.Second})
			}
			input := writeInput(t, contacts(50))
			s, results, failed := importFile(t, context.Background(), Config{Input: input, Client: c, Rate: 0, Workers: 16})
			// The first request, the listing of existing details, is refused: nothing more
			// is sent, and every row is left to a rerun.
			if got := srv.Stats().Requests; got != 1 {
				t.Errorf("%d requests sent; refused credentials should cost one", got)
			}
			if !s.Stopped || s.ExitCode() != ExitStopped || !strings.Contains(s.StopReason, tc.want) {
				t.Errorf("summary %+v", s)
			}
			if len(results) != 0 || len(failed) != 50 || s.NotAttempted != 50 || !strings.Contains(failed[49]["error"], "not attempted") {
				t.Errorf("%d results, %d failed rows (%d not attempted), last %v", len(results), len(failed), s.NotAttempted, failed[len(failed)-1])
			}
			if strings.Contains(s.StopReason, token) {
				t.Error("the stop reason shows the token")
			}
		})
	}
}

func TestSendGivesUpWhenPlannrIsDown(t *testing.T) {
	fastRetries(t)
	srv := startFake(t, plannrtest.Options{}, plannrtest.Faults{ServerErrorRate: 1})
	input := writeInput(t, contacts(100))
	s, results, failed := importFile(t, context.Background(), Config{Input: input, Client: clientFor(t, srv, srv.Token), Rate: 0, Workers: 4, Retries: 6})
	if !s.Stopped || s.ExitCode() != ExitStopped || !strings.Contains(s.StopReason, "Plannr is not answering") {
		t.Fatalf("summary %+v", s)
	}
	if n := srv.Stats().Requests; n > 40 {
		t.Errorf("%d requests before giving up: every row's retries were spent", n)
	}
	if len(failed) != 100 {
		t.Errorf("%d failed rows, want all 100", len(failed))
	}
	for _, r := range results {
		if r["status"] != "failed" || r["error"] == "" {
			t.Errorf("row %v", r)
		}
	}
}

func TestSendRunsOutOfRetries(t *testing.T) {
	fastRetries(t)
	srv := startFake(t, plannrtest.Options{}, plannrtest.Faults{ServerErrorRate: 1, PostOnly: true})
	input := writeInput(t, contacts(2))
	s, results, _ := importFile(t, context.Background(), Config{Input: input, Client: clientFor(t, srv, srv.Token), Rate: 0, Workers: 1, Retries: 3})
	if s.Counts[Failed] != 2 || s.ExitCode() != ExitRows {
		t.Fatalf("summary %+v", s)
	}
	for _, r := range results {
		if r["attempts"] != "4" || !strings.Contains(r["error"], "gave up after 4 attempts: 50") {
			t.Errorf("row %v", r)
		}
	}
}

// Stopping mid-run: no request starts after the stop, every row is in one of the files.
func TestSendStopMidRun(t *testing.T) {
	srv := startFake(t, plannrtest.Options{}, plannrtest.Faults{Latency: 20 * time.Millisecond})
	input := writeInput(t, contacts(400))
	ctx, cancel := context.WithCancel(context.Background())
	var created atomic.Int64
	c := clientFor(t, srv, srv.Token)
	c.OnResponse = func(status int, _ http.Header) {
		if created.Add(1) == 20 {
			cancel()
		}
	}
	s, results, failed := importFile(t, ctx, Config{Input: input, Client: c, Rate: 200, Workers: 4})
	if !s.Stopped || s.ExitCode() != ExitStopped {
		t.Fatalf("summary %+v", s)
	}
	if len(results)+s.NotAttempted != 400 || len(failed) != s.NotAttempted || s.NotAttempted < 300 {
		t.Errorf("%d results + %d not attempted, %d failed rows: want 400 rows in all", len(results), s.NotAttempted, len(failed))
	}
	if got := srv.Stats().Creates; got != len(results) {
		t.Errorf("server created %d, results list %d", got, len(results))
	}
	// Every row is in exactly one of the files.
	seen := map[string]int{}
	for _, r := range results {
		if r["status"] != "created" {
			t.Errorf("a request in flight at the stop should have finished: %v", r)
		}
		seen[r["name"]]++
	}
	for _, f := range failed {
		seen[f["name"]]++
	}
	for i := 0; i < 400; i++ {
		if n := seen[fmt.Sprintf("Email %d", i)]; n != 1 {
			t.Errorf("row %d is in the files %d times", i+1, n)
		}
	}
}

func TestSendTokenNeverWritten(t *testing.T) {
	fastRetries(t)
	const token = "tok_live_5up3r-s3cr3t-t0k3n-do-not-print"
	srv := startFake(t, plannrtest.Options{Token: token, Clients: []string{jane}}, plannrtest.Faults{ServerErrorRate: 0.3})
	input := writeInput(t, contacts(20))
	var progress strings.Builder
	s, err := Run(context.Background(), Config{Input: input, Client: clientFor(t, srv, token), Rate: 0, Retries: 8,
		Progress: &syncWriter{w: &progress}, ProgressEvery: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	var summary strings.Builder
	s.Print(&summary)
	for name, text := range map[string]string{"progress": progress.String(), "summary": summary.String(), "results": readFile(t, DefaultResultsPath(input)), "failed": readFile(t, DefaultFailedPath(input))} {
		if strings.Contains(text, token) || strings.Contains(text, "5up3r") {
			t.Errorf("the token appears in the %s", name)
		}
	}
	if !strings.Contains(progress.String(), "msg=progress rows=") {
		t.Errorf("no progress line written: %q", progress.String())
	}
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// syncWriter lets the progress goroutine and the test share a builder.
type syncWriter struct {
	mu sync.Mutex
	w  *strings.Builder
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// A second stop cancels requests in flight at once; they end failed, saying Plannr may have
// created them, and every other row is listed as not attempted.
func TestSendAbort(t *testing.T) {
	srv := startFake(t, plannrtest.Options{}, plannrtest.Faults{Latency: 5 * time.Second})
	input := writeInput(t, contacts(10))
	ctx, cancel := context.WithCancel(context.Background())
	abort := make(chan struct{})
	time.AfterFunc(300*time.Millisecond, cancel)
	time.AfterFunc(500*time.Millisecond, func() { close(abort) })
	start := time.Now()
	s, results, failed := importFile(t, ctx, Config{Input: input, Client: clientFor(t, srv, srv.Token), Rate: 0, Workers: 4, Abort: abort})
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("the run took %v after an abort", took)
	}
	if !s.Stopped || s.ExitCode() != ExitStopped {
		t.Errorf("summary %+v", s)
	}
	// The run's first request, the listing of existing details, is in flight when the
	// run stops: it is cancelled, and nothing is sent.
	if len(results) != 0 || len(failed) != 10 || s.NotAttempted != 10 {
		t.Fatalf("%d results, %d failed rows, %d not attempted; want every row not attempted", len(results), len(failed), s.NotAttempted)
	}
	if got := countRequests(srv, "POST"); got != 0 {
		t.Errorf("%d POSTs after the abort", got)
	}
}

func countRequests(srv *plannrtest.Server, method string) int {
	n := 0
	for _, r := range srv.Log() {
		if r.Method == method {
			n++
		}
	}
	return n
}

func TestDefaultWorkers(t *testing.T) {
	for rate, want := range map[float64]int{0: 16, 0.5: 2, 8: 10, 20: 25, 100: 125, 500: 256} {
		if got := DefaultWorkers(rate); got != want {
			t.Errorf("DefaultWorkers(%g) = %d, want %d", rate, got, want)
		}
	}
}

package importer

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"plannr-import/importer/plannr"
	"plannr-import/importer/plannrtest"
)

// writeLargeInput writes n canonical rows, alternating UK mobiles, foreign landlines and
// e-mails, one client account per three rows, and no duplicates.
func writeLargeInput(tb testing.TB, dir string, n int) string {
	tb.Helper()
	path := filepath.Join(dir, fmt.Sprintf("large-%d.csv", n))
	f, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "account_uuids,type,name,value,country,is_primary,legacy_ref")
	for i := 0; i < n; i++ {
		account := fmt.Sprintf("%08x-2d6d-45cf-87fc-6fae4f163072", i/3)
		switch i % 3 {
		case 0:
			fmt.Fprintf(w, "%s,mobile,Mobile,07400 %06d,UK,yes,C-%d\n", account, i%1000000, i)
		case 1:
			fmt.Fprintf(w, "%s,phone,Office,(02) 9%03d %04d,Australia,no,C-%d\n", account, (i/10000)%1000, i%10000, i)
		default:
			fmt.Fprintf(w, "%s,email,Personal,Client.%d@Example.co.uk,,y,C-%d\n", account, i, i)
		}
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	f.Close()
	return path
}

// peakHeap samples the live heap while fn runs and returns the highest figure seen.
func peakHeap(fn func()) uint64 {
	runtime.GC()
	var peak uint64
	var mu sync.Mutex
	done := make(chan struct{})
	go func() {
		var ms runtime.MemStats
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			mu.Lock()
			peak = max(peak, ms.HeapAlloc)
			mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	fn()
	close(done)
	mu.Lock()
	defer mu.Unlock()
	return peak
}

// BenchmarkDryRun streams files of growing size through the whole dry run and reports rows a
// second and the peak live heap: the heap must not follow the file's size (only the 16-byte
// duplicate keys do, about 40 bytes a distinct detail).
func BenchmarkDryRun(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("rows=%d", n), func(b *testing.B) {
			input := writeLargeInput(b, b.TempDir(), n)
			var peak uint64
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				peak = max(peak, peakHeap(func() {
					s, err := Run(context.Background(), Config{Input: input, DryRun: true})
					if err != nil || s.Counts[Valid] != n {
						b.Fatalf("Run: %v, %+v", err, s)
					}
				}))
			}
			b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(float64(peak)/(1<<20), "MiB-peak-heap")
		})
	}
}

// BenchmarkImport runs the whole import against the in-process fake Plannr with no rate
// limit and no latency: the tool's own cost per row, network stack included.
func BenchmarkImport(b *testing.B) {
	const n = 5000
	input := writeLargeInput(b, b.TempDir(), n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		srv, err := plannrtest.NewServer(plannrtest.Options{AnyClient: true})
		if err != nil {
			b.Fatal(err)
		}
		c, _ := plannr.New(plannr.Config{BaseURL: srv.URL, Token: srv.Token, AccountUUID: srv.AccountUUID, Timeout: 10 * time.Second})
		s, err := Run(context.Background(), Config{Input: input, Client: c, Rate: 0, Workers: 16})
		if err != nil || s.Counts[Created] != n {
			b.Fatalf("Run: %v %+v", err, s)
		}
		srv.Close()
	}
	b.ReportMetric(float64(n)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkDedupeCost imports 10,000 rows (three a client, grouped by client) into an empty
// fake Plannr and reports the listing requests the check for existing details made, as a
// share of the POSTs.
func BenchmarkDedupeCost(b *testing.B) {
	const n = 10_000
	dir := b.TempDir()
	input := filepath.Join(dir, "contacts.csv")
	if err := os.WriteFile(input, []byte(mixedContacts(n)), 0o600); err != nil {
		b.Fatal(err)
	}
	var posts, gets int
	for i := 0; i < b.N; i++ {
		srv, err := plannrtest.NewServer(plannrtest.Options{AnyClient: true})
		if err != nil {
			b.Fatal(err)
		}
		c, _ := plannr.New(plannr.Config{BaseURL: srv.URL, Token: srv.Token, AccountUUID: srv.AccountUUID, Timeout: 10 * time.Second})
		if s, err := Run(context.Background(), Config{Input: input, Client: c, Rate: 0, Workers: 16}); err != nil || s.Counts[Created] != n {
			b.Fatalf("Run: %v %+v", err, s)
		}
		posts, gets = countRequests(srv, "POST"), countRequests(srv, "GET")
		srv.Close()
	}
	b.ReportMetric(float64(gets), "listings")
	b.ReportMetric(100*float64(gets)/float64(posts), "%extra")
}

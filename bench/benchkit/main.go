// Command benchkit is bench/run.sh's helper: it serves the fake Plannr on loopback with a
// given rate limit and latency, writes the rows both importers send, and turns the fake's
// request logs into the results table and the plot of accepted requests a second.
//
//	benchkit serve -limit 200 -window 10s -latency 150ms -info info.txt -log log.csv
//	benchkit gen -rows 600 -canonical rows.csv -newman data.csv
//	benchkit report -limit-rate 20 log-tool.csv log-newman.csv
//	benchkit plot -limit-rate 20 -title "…" -o plot.svg log-tool.csv log-newman.csv
package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"log"
	"math"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"plannr-import/importer/plannrtest"
	"plannr-import/mapping"
)

func main() {
	log.SetFlags(0)
	if len(os.Args) < 2 {
		log.Fatal("usage: benchkit serve|gen|report|plot [flags]")
	}
	switch os.Args[1] {
	case "serve":
		serve(os.Args[2:])
	case "gen":
		gen(os.Args[2:])
	case "report":
		report(os.Args[2:])
	case "plot":
		plot(os.Args[2:])
	default:
		log.Fatalf("benchkit: unknown command %q", os.Args[1])
	}
}

// serve runs the fake until SIGTERM, then writes its request log and a summary line.
func serve(args []string) {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	limit := fs.Int("limit", 0, "requests allowed a window (0: none)")
	window := fs.Duration("window", time.Minute, "the fixed window")
	latency := fs.Duration("latency", 0, "latency of every answer")
	jitter := fs.Duration("jitter", 0, "extra latency, at random up to this")
	info := fs.String("info", "", "write URL, token and firm account UUID here, one a line")
	logPath := fs.String("log", "", "write the request log (seconds,method,status) here on exit")
	fs.Parse(args)
	srv, err := plannrtest.NewServer(plannrtest.Options{AnyClient: true, RateLimit: *limit, Window: *window})
	if err != nil {
		log.Fatal(err)
	}
	srv.SetFaults(plannrtest.Faults{Latency: *latency, Jitter: *jitter})
	if err := os.WriteFile(*info, []byte(srv.URL+"\n"+srv.Token+"\n"+srv.AccountUUID+"\n"), 0o600); err != nil {
		log.Fatal(err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	<-sig
	srv.Close()
	f, err := os.Create(*logPath)
	if err != nil {
		log.Fatal(err)
	}
	w := csv.NewWriter(f)
	w.Write([]string{"seconds", "method", "status", "duplicates"})
	entries := srv.Log()
	dups := duplicates(srv.Details())
	var t0 time.Time
	if len(entries) > 0 {
		t0 = entries[0].At
	}
	for i, e := range entries {
		d := ""
		if i == 0 {
			d = strconv.Itoa(dups)
		}
		w.Write([]string{strconv.FormatFloat(e.At.Sub(t0).Seconds(), 'f', 4, 64), e.Method, strconv.Itoa(e.Status), d})
	}
	w.Flush()
	f.Close()
}

// duplicates counts details held more than once: copies beyond the first.
func duplicates(details []plannrtest.Detail) int {
	seen := map[string]int{}
	n := 0
	for _, d := range details {
		k := mapping.Key(mapping.Type(d.Type), d.Value, d.AccountUUIDs)
		if seen[k]++; seen[k] > 1 {
			n++
		}
	}
	return n
}

// gen writes the same rows for both: the canonical CSV for plannr-import, and newman's data
// file (one iteration a row).
func gen(args []string) {
	fs := flag.NewFlagSet("gen", flag.ExitOnError)
	rows := fs.Int("rows", 600, "rows")
	canonical := fs.String("canonical", "rows.csv", "plannr-import's input")
	newman := fs.String("newman", "data.csv", "newman's data file")
	fs.Parse(args)
	a, _ := os.Create(*canonical)
	b, _ := os.Create(*newman)
	fmt.Fprintln(a, "account_uuids,type,name,value")
	fmt.Fprintln(b, "account_uuid,type,name,value")
	for i := 0; i < *rows; i++ {
		acc := fmt.Sprintf("%08x-5555-4555-8555-555555555555", i/2)
		line := fmt.Sprintf("%s,email,Email %d,client.%d@example.com", acc, i, i)
		fmt.Fprintln(a, line)
		fmt.Fprintln(b, line)
	}
	a.Close()
	b.Close()
}

type run struct {
	name                        string
	seconds                     float64
	requests, accepted, limited int
	dups                        int
	perSecond                   []float64 // accepted requests in each second
}

func readLog(path string) run {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		log.Fatal(err)
	}
	r := run{name: path}
	for i, rec := range recs[1:] {
		t, _ := strconv.ParseFloat(rec[0], 64)
		status, _ := strconv.Atoi(rec[2])
		if i == 0 {
			r.dups, _ = strconv.Atoi(rec[3])
		}
		r.requests++
		r.seconds = t
		sec := int(t)
		for len(r.perSecond) <= sec {
			r.perSecond = append(r.perSecond, 0)
		}
		switch {
		case status == 429:
			r.limited++
		case status >= 200 && status < 300:
			r.accepted++
			r.perSecond[sec]++
		}
	}
	return r
}

// report prints one line of figures for each log, then the ratios.
func report(args []string) {
	fs := flag.NewFlagSet("report", flag.ExitOnError)
	limitRate := fs.Float64("limit-rate", 0, "the server's limit, requests a second (0: none)")
	fs.Parse(args)
	for _, path := range fs.Args() {
		r := readLog(path)
		ratio := "-"
		if *limitRate > 0 && r.seconds > 0 {
			ratio = fmt.Sprintf("%.1f%%", 100*float64(r.accepted)/r.seconds / *limitRate)
		}
		fmt.Printf("%s\t%d\t%d\t%.1f%%\t%d\t%.1f/s\t%s\n", path, r.requests, r.limited,
			100*float64(r.limited)/math.Max(1, float64(r.requests)), r.dups, float64(r.accepted)/math.Max(r.seconds, 0.001), ratio)
	}
}

// plot writes an SVG of accepted requests a second over time, one line a log, against the
// limit.
func plot(args []string) {
	fs := flag.NewFlagSet("plot", flag.ExitOnError)
	limitRate := fs.Float64("limit-rate", 0, "the server's limit, requests a second")
	title := fs.String("title", "", "the plot's title")
	out := fs.String("o", "plot.svg", "the SVG to write")
	labels := fs.String("labels", "", "comma-separated names of the logs")
	fs.Parse(args)
	var runs []run
	for _, p := range fs.Args() {
		runs = append(runs, readLog(p))
	}
	names := strings.Split(*labels, ",")
	const W, H, left, bottom, top, right = 720.0, 320.0, 50.0, 40.0, 40.0, 20.0
	maxT, maxY := 1.0, *limitRate*1.5
	for _, r := range runs {
		maxT = math.Max(maxT, float64(len(r.perSecond)))
		for _, v := range r.perSecond {
			maxY = math.Max(maxY, v*1.1)
		}
	}
	x := func(t float64) float64 { return left + (W-left-right)*t/maxT }
	y := func(v float64) float64 { return H - bottom - (H-bottom-top)*v/maxY }
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" font-family="sans-serif" font-size="12">`+"\n", W, H)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="white"/><text x="%.0f" y="22" font-size="14">%s</text>`+"\n", left, *title)
	fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/><line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="black"/>`+"\n",
		left, y(0), W-right, y(0), left, y(0), left, top)
	for i := 0; i <= 4; i++ {
		v := maxY * float64(i) / 4
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="end">%.0f</text>`+"\n", left-6, y(v)+4, v)
		t := maxT * float64(i) / 4
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%.0fs</text>`+"\n", x(t), y(0)+18, t)
	}
	fmt.Fprintf(&b, `<text x="12" y="%.1f" transform="rotate(-90 12 %.1f)" text-anchor="middle">accepted requests / s</text>`+"\n", (H-bottom+top)/2, (H-bottom+top)/2)
	if *limitRate > 0 {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f" stroke="#c00" stroke-dasharray="6 4"/><text x="%.1f" y="%.1f" fill="#c00">limit %.0f/s</text>`+"\n",
			left, y(*limitRate), W-right, y(*limitRate), W-right-70, y(*limitRate)-6, *limitRate)
	}
	colours := []string{"#1f6fd1", "#e08a00", "#2a9d4a"}
	for i, r := range runs {
		var pts []string
		for t, v := range r.perSecond {
			pts = append(pts, fmt.Sprintf("%.1f,%.1f %.1f,%.1f", x(float64(t)), y(v), x(float64(t+1)), y(v)))
		}
		name := r.name
		if i < len(names) && names[i] != "" {
			name = names[i]
		}
		c := colours[i%len(colours)]
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", c, strings.Join(pts, " "))
		fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" fill="%s">%s</text>`+"\n", left+10+float64(i)*160, top-4, c, name)
	}
	b.WriteString("</svg>\n")
	if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
		log.Fatal(err)
	}
}

// Command plannr-import loads client contact details (e-mail addresses and phone numbers)
// from a CSV file into Plannr CRM. Run it with -h for its flags; README.md is its manual.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/term"

	"plannr-import/importer"
	"plannr-import/importer/plannr"
	"plannr-import/importer/plannrtest"
	"plannr-import/mapping"
)

func main() {
	// Keep the heap of a million-row run near its live size rather than twice it, unless
	// the user set GOMEMLIMIT: a batch tool shares its machine.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(96 << 20)
	}
	ctx, cancel := context.WithCancel(context.Background())
	abort := make(chan struct{})
	signals := make(chan os.Signal, 2)
	signal.Notify(signals, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-signals
		logStop("stopping: no new requests; waiting a few seconds for those in flight (press Ctrl-C again to abort them)")
		cancel()
		<-signals
		logStop("aborting the requests in flight")
		close(abort)
	}()
	os.Exit(run(ctx, abort, os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// logStop says what a signal did: as a JSON record when the logs are JSON, else as a line.
func logStop(msg string) {
	if l := stopLog.Load(); l != nil {
		if _, json := l.Handler().(*slog.JSONHandler); json {
			l.Warn(msg)
			return
		}
	}
	fmt.Fprintln(os.Stderr, "\nplannr-import: "+msg)
}

const usageHead = `Usage: plannr-import [flags] INPUT.csv

Reads contact details (e-mail addresses and phone numbers of client accounts) from
INPUT.csv, validates and normalises every row, creates each valid one in Plannr, and writes
a results file (one line per contact detail) and a failed-rows file (the rows to fix, with
an error column) beside it.

Flags (-flag and --flag both work; flags may follow INPUT.csv):
`

const usageTail = `
Environment:
  PLANNR_TOKEN         the Plannr API token (OAuth or personal access token); or --token-file
  PLANNR_ACCOUNT_UUID  the firm's account UUID, sent as X-PLANNR-ACCOUNT-UUID; or --account-uuid
  PLANNR_BASE_URL      the API's root (default https://api.plannrcrm.com); or --base-url

Exit codes:
  0  every row is good
  1  the run finished, but some rows are invalid, rejected or failed: see the failed-rows file
  2  usage, configuration or unreadable input: nothing was sent
  3  the run was stopped part-way (Ctrl-C, credentials refused, Plannr down): see the
     failed-rows file, and run on it to finish
`

// run is the whole command, apart from signals and the process exit.
func run(ctx context.Context, abort <-chan struct{}, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	cfg := importer.Config{Abort: abort}
	var tokenFile, accountUUID, baseURL, mappingFile, delimiter, summaryPath, logFormat string
	var sandbox, printMapping, showVersion, verbose bool
	var timeout time.Duration
	fs := flag.NewFlagSet("plannr-import", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&cfg.DryRun, "dry-run", false, "validate and normalise only: send nothing, need no credentials")
	fs.BoolVar(&sandbox, "sandbox", false, "import into a fake Plannr started on this machine (no credentials needed, nothing leaves it)")
	fs.StringVar(&cfg.Results, "results", "", "write the results to `PATH` (default: INPUT with .csv replaced by .results.csv)")
	fs.StringVar(&cfg.Failed, "failed", "", "write the rows to fix to `PATH` (default: INPUT with .csv replaced by .failed.csv)")
	fs.StringVar(&cfg.DefaultCountry, "default-country", "GB", "the country (`CC`: ISO code or English name) of phone numbers whose row names none")
	fs.StringVar(&mappingFile, "mapping", "", "read the input's columns as the mapping file `PATH` says (YAML or JSON; see README)")
	fs.BoolVar(&printMapping, "print-mapping", false, "print a starter mapping guessed from INPUT.csv's columns, to edit, and stop")
	fs.StringVar(&delimiter, "delimiter", "", "the field separator (`C`: , ; | or tab; default: found from the header line)")
	fs.StringVar(&cfg.Encoding, "encoding", "auto", "the input's encoding (`NAME`: auto, utf-8, utf-16, windows-1252 or latin1)")
	fs.StringVar(&tokenFile, "token-file", "", "read the API token from `PATH` instead of $PLANNR_TOKEN")
	fs.StringVar(&accountUUID, "account-uuid", "", "the firm's account `UUID` (default $PLANNR_ACCOUNT_UUID)")
	fs.StringVar(&baseURL, "base-url", "", "the API's root `URL` (default $PLANNR_BASE_URL, else "+plannr.DefaultBaseURL+")")
	fs.Float64Var(&cfg.Rate, "rate", 8, "requests a second to Plannr, all together (`N`; Plannr allows 500 a minute; 0: no limit)")
	fs.IntVar(&cfg.Burst, "burst", 1, "requests that may go out at once after a lull (`N`; 1 spaces every request evenly)")
	fs.IntVar(&cfg.Workers, "workers", 0, "requests in flight at most (`N`; default: enough for --rate at 1 s a request)")
	fs.IntVar(&cfg.Retries, "retries", 6, "times a detail is sent again after a network error or 5xx (`N`)")
	fs.DurationVar(&timeout, "timeout", 30*time.Second, "time allowed for each request (`D`, e.g. 30s)")
	fs.StringVar(&summaryPath, "summary", "", "write a JSON summary of the run to `PATH` at the end, whatever the exit code (for monitoring)")
	fs.StringVar(&logFormat, "log-format", "text", "how messages on stderr are written: text or json (`FORMAT`)")
	fs.BoolVar(&verbose, "v", false, "log every request: method, path, status, attempt, latency")
	fs.BoolVar(&showVersion, "version", false, "print the version and stop")
	usage := func(w io.Writer) {
		fmt.Fprint(w, usageHead)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		fmt.Fprint(w, usageTail)
	}
	var logger *slog.Logger
	writeSummary := func(summary *importer.Summary, errMsg string, code int) {
		if summaryPath == "" {
			return
		}
		var j importer.JSONSummary
		if summary != nil {
			j = summary.JSON(version())
		} else {
			now := time.Now().UTC()
			j = importer.JSONSummary{Version: version(), Started: now, Finished: now, Input: cfg.Input}
		}
		j.Error, j.ExitCode = errMsg, code
		if err := writeJSONFile(summaryPath, j); err != nil {
			fmt.Fprintf(stderr, "plannr-import: cannot write --summary: %v\n", err)
		}
	}
	fail := func(format string, a ...any) int {
		msg := fmt.Sprintf(format, a...)
		if logger != nil && logFormat == "json" {
			logger.Error(msg)
		} else {
			fmt.Fprintf(stderr, "plannr-import: %s\n", msg)
		}
		writeSummary(nil, msg, importer.ExitConfig)
		return importer.ExitConfig
	}

	inputs, err := parseInterleaved(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		usage(stdout)
		return importer.ExitOK
	case err == nil && showVersion:
		fmt.Fprintf(stdout, "plannr-import %s\n", longVersion())
		return importer.ExitOK
	case err == nil && logFormat != "text" && logFormat != "json":
		return fail("--log-format must be text or json, not %q", logFormat)
	case err != nil:
		return fail("%v (run plannr-import -h for help)", err)
	case len(inputs) == 0:
		usage(stderr)
		return fail("name the CSV file to import, e.g. plannr-import --dry-run contacts.csv")
	case len(inputs) > 1:
		return fail("one input file at a time, got %d: %s", len(inputs), strings.Join(inputs, " "))
	case cfg.Rate < 0 || cfg.Workers < 0 || cfg.Retries < 0 || timeout <= 0 || cfg.Burst < 1:
		return fail("--rate, --workers and --retries must not be negative, --burst must be 1 or more, and --timeout must be more than 0")
	}
	cfg.Input = inputs[0]
	level := slog.LevelInfo
	if verbose {
		level = slog.LevelDebug
	}
	if logFormat == "json" {
		logger = slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	} else {
		logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	}
	stopLog.Store(logger)
	cfg.Log = logger
	say := func(msg string) {
		if logFormat == "json" {
			logger.Info(msg)
		} else {
			fmt.Fprintln(stderr, "plannr-import: "+msg)
		}
	}
	if cfg.Delimiter, err = importer.ParseDelimiter(delimiter); err != nil {
		return fail("%v", err)
	}
	if printMapping {
		header, sample, err := importer.Sample(cfg.Input, importer.ReaderOptions{Delimiter: cfg.Delimiter, Encoding: cfg.Encoding}, 50)
		if err != nil {
			return fail("%v", err)
		}
		fmt.Fprint(stdout, mapping.Guess(header, sample))
		return importer.ExitOK
	}
	if mappingFile != "" {
		data, err := os.ReadFile(mappingFile)
		if err != nil {
			return fail("cannot read --mapping: %v", err)
		}
		if cfg.Mapping, err = mapping.ParseFile(data, mappingFile); err != nil {
			return fail("%v", err)
		}
		cfg.MappingDir = filepath.Dir(mappingFile)
		cfg.RerunFlags = append(cfg.RerunFlags, "--mapping", mappingFile)
	}
	if cfg.DefaultCountry != "GB" {
		cfg.RerunFlags = append(cfg.RerunFlags, "--default-country", cfg.DefaultCountry)
	}
	if f, ok := stderr.(*os.File); ok {
		cfg.Progress, cfg.ProgressBar = stderr, term.IsTerminal(int(f.Fd())) && logFormat == "text"
	}

	var fake *plannrtest.Server
	// A dry run needs no credentials; given them all, it asks Plannr (read-only) what exists.
	haveToken := tokenFile != "" || getenv("PLANNR_TOKEN") != ""
	haveAccount := accountUUID != "" || getenv("PLANNR_ACCOUNT_UUID") != ""
	if !cfg.DryRun || (haveToken && haveAccount && !sandbox) {
		var token string
		switch {
		case sandbox:
			if baseURL != "" {
				return fail("--sandbox and --base-url do not go together: the sandbox is its own Plannr")
			}
			if fake, err = plannrtest.NewServer(plannrtest.Options{AnyClient: true, RateLimit: 500, Window: time.Minute}); err != nil {
				return fail("cannot start the sandbox: %v", err)
			}
			defer fake.Close()
			fake.SetFaults(plannrtest.Faults{Latency: 40 * time.Millisecond, Jitter: 80 * time.Millisecond})
			token, accountUUID, baseURL = fake.Token, fake.AccountUUID, fake.URL
			say(fmt.Sprintf("sandbox: importing into a fake Plannr at %s; nothing leaves this machine", fake.URL))
		default:
			if token, err = readToken(tokenFile, getenv); err != nil {
				return fail("%v", err)
			}
			if accountUUID == "" {
				accountUUID = getenv("PLANNR_ACCOUNT_UUID")
			}
			if accountUUID == "" {
				return fail("set PLANNR_ACCOUNT_UUID (or --account-uuid) to your firm's Plannr account UUID")
			}
			if _, err := mapping.ParseAccountUUIDs(accountUUID); err != nil || strings.ContainsAny(strings.TrimSpace(accountUUID), " ;,|") {
				return fail("the firm account UUID %q is not a UUID: check PLANNR_ACCOUNT_UUID or --account-uuid", accountUUID)
			}
			if baseURL == "" {
				baseURL = getenv("PLANNR_BASE_URL")
			}
			if baseURL == "" {
				baseURL = plannr.DefaultBaseURL
			}
		}
		cfg.Client, err = plannr.New(plannr.Config{BaseURL: baseURL, Token: token, AccountUUID: strings.TrimSpace(accountUUID),
			UserAgent: "plannr-import/" + version(), Timeout: timeout})
		cfg.Timeout = timeout
		if err != nil {
			return fail("%v", err)
		}
		if verbose {
			cfg.Client.Log = logger
		}
	}

	summary, err := importer.Run(ctx, cfg)
	if summary != nil {
		if logFormat == "json" {
			j := summary.JSON(version())
			logger.Info("summary", "input", j.Input, "results", j.Results, "failed", j.Failed, "rows", j.Rows,
				"counts", j.Counts, "failed_rows", j.FailedRows, "not_attempted", j.NotAttempted, "requests", j.Requests,
				"rate_limited_429", j.RateLimited, "achieved_rate_per_second", j.AchievedRate, "stopped", j.Stopped,
				"stop_reason", j.StopReason, "exit_code", j.ExitCode)
		} else {
			summary.Print(stderr)
		}
	}
	if fake != nil {
		say(fmt.Sprintf("sandbox: the fake Plannr now holds %d contact details; it stops with this run", len(fake.Details())))
	}
	if err != nil {
		if summary == nil {
			return fail("%v", err)
		}
		// The run had begun (its summary is printed) when the input failed it.
		fmt.Fprintf(stderr, "plannr-import: %v\n", err)
		writeSummary(summary, err.Error(), importer.ExitConfig)
		return importer.ExitConfig
	}
	writeSummary(summary, "", summary.ExitCode())
	return summary.ExitCode()
}

// writeJSONFile writes v to path whole or not at all: monitoring never reads half a file.
func writeJSONFile(path string, v any) error {
	data, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(data, '\n'), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// stopLog is the logger the signal handler speaks through, once run has made it.
var stopLog atomic.Pointer[slog.Logger]

// readToken takes the token from --token-file, else from $PLANNR_TOKEN. The token never
// appears in a message.
func readToken(tokenFile string, getenv func(string) string) (string, error) {
	if tokenFile != "" {
		fi, err := os.Stat(tokenFile)
		if err != nil {
			return "", fmt.Errorf("cannot read --token-file: %v", err)
		}
		// As ssh does with keys: a secret others can read is refused, not used.
		if perm := fi.Mode().Perm(); runtime.GOOS != "windows" && perm&0o077 != 0 {
			return "", fmt.Errorf("--token-file %s can be read by other users (mode %04o): make it yours alone with chmod 600 %s", tokenFile, perm, tokenFile)
		}
		data, err := os.ReadFile(tokenFile)
		if err != nil {
			return "", fmt.Errorf("cannot read --token-file: %v", err)
		}
		token := strings.TrimSpace(string(data))
		if token == "" || strings.ContainsAny(token, "\r\n") {
			return "", fmt.Errorf("--token-file %s must hold the token alone, on one line", tokenFile)
		}
		return token, nil
	}
	if token := strings.TrimSpace(getenv("PLANNR_TOKEN")); token != "" {
		return token, nil
	}
	return "", fmt.Errorf("set PLANNR_TOKEN to a Plannr API token (or use --token-file PATH); to try the tool without one, use --sandbox or --dry-run")
}

// longVersion is what --version prints: the module version, the VCS revision and the Go
// that built it.
func longVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "(no build information)"
	}
	rev, modified := "unknown revision", ""
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = "revision " + s.Value
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		}
	}
	return fmt.Sprintf("%s (%s%s, %s)", bi.Main.Version, rev, modified, bi.GoVersion)
}

// version is the module version and VCS revision the binary was built from.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	v := bi.Main.Version
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			v += "+" + s.Value[:12]
		}
	}
	return v
}

// parseInterleaved parses flags wherever they stand among the arguments, as users expect of
// "plannr-import contacts.csv --dry-run"; "--" ends the flags.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

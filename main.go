// Command plannr-import loads client contact details (e-mail addresses and phone numbers)
// from a CSV file into Plannr CRM. Run it with -h for its flags; README.md is its manual.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"plannr-import/importer"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

const usageHead = `Usage: plannr-import [flags] INPUT.csv

Reads contact details (e-mail addresses and phone numbers of client accounts) from
INPUT.csv, validates and normalises every row, and writes a results file (one line per
contact detail) and a failed-rows file (the rows to fix, with an error column) beside it.

Flags (-flag and --flag both work; flags may follow INPUT.csv):
`

const usageTail = `
Exit codes:
  0  every row is good
  1  the run finished, but some rows are invalid or failed: see the failed-rows file
  2  usage, configuration or unreadable input: nothing was sent
  3  the run was stopped part-way: run the same command again to finish
`

// run is the whole command, apart from signals and the process exit.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var cfg importer.Config
	fs := flag.NewFlagSet("plannr-import", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.BoolVar(&cfg.DryRun, "dry-run", false, "validate and normalise only: send nothing, need no credentials")
	fs.StringVar(&cfg.Results, "results", "", "write the results to `PATH` (default: INPUT with .csv replaced by .results.csv)")
	fs.StringVar(&cfg.Failed, "failed", "", "write the rows to fix to `PATH` (default: INPUT with .csv replaced by .failed.csv)")
	fs.StringVar(&cfg.DefaultCountry, "default-country", "GB", "the country (`CC`: ISO code or English name) of phone numbers whose row names none")
	usage := func(w io.Writer) {
		fmt.Fprint(w, usageHead)
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
		fmt.Fprint(w, usageTail)
	}
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "plannr-import: "+format+"\n", a...)
		return importer.ExitConfig
	}

	inputs, err := parseInterleaved(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		usage(stdout)
		return importer.ExitOK
	case err != nil:
		return fail("%v (run plannr-import -h for help)", err)
	case len(inputs) == 0:
		usage(stderr)
		return fail("name the CSV file to import, e.g. plannr-import --dry-run contacts.csv")
	case len(inputs) > 1:
		return fail("one input file at a time, got %d: %s", len(inputs), strings.Join(inputs, " "))
	}
	cfg.Input = inputs[0]
	if !cfg.DryRun {
		return fail("sending to Plannr is not built yet: run with --dry-run to check the file")
	}

	summary, err := importer.Run(ctx, cfg)
	if summary != nil {
		summary.Print(stderr)
	}
	if err != nil {
		return fail("%v", err)
	}
	return summary.ExitCode()
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

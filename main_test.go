package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return runWithEnv(t, nil, args...)
}

func runWithEnv(t *testing.T, env map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), nil, args, func(k string) string { return env[k] }, &out, &errb)
	return code, out.String(), errb.String()
}

func TestUsage(t *testing.T) {
	for _, h := range []string{"-h", "--help", "-help"} {
		code, out, _ := runCLI(t, h)
		if code != 0 {
			t.Errorf("%s: exit %d", h, code)
		}
		for _, want := range []string{"Usage: plannr-import [flags] INPUT.csv", "-dry-run", "-results PATH", "-failed PATH", "-default-country CC", "Exit codes:", "3  the run was stopped"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: usage lacks %q:\n%s", h, want, out)
			}
		}
	}
}

func TestCommandLineErrors(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "in.csv")
	os.WriteFile(input, []byte("account_uuids,type,name,value\n"), 0o600)
	tests := []struct {
		args []string
		want string
	}{
		{nil, "name the CSV file to import"},
		{[]string{"--no-such-flag", input}, "flag provided but not defined: -no-such-flag"},
		{[]string{"--dry-run", input, input}, "one input file at a time"},
		{[]string{input}, "set PLANNR_TOKEN to a Plannr API token"},
		{[]string{"--dry-run", "--default-country", "Atlantis", input}, `"Atlantis" is not a known country`},
		{[]string{"--dry-run", filepath.Join(dir, "missing.csv")}, "missing.csv: no such file or directory"},
	}
	for _, tt := range tests {
		code, out, errOut := runCLI(t, tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 saying %q", tt.args, code, errOut, tt.want)
		}
		if out != "" {
			t.Errorf("%q: wrote to stdout: %q", tt.args, out)
		}
		if lines := strings.Split(strings.TrimSpace(errOut), "\n"); !strings.HasPrefix(lines[len(lines)-1], "plannr-import: ") {
			t.Errorf("%q: the last line should be the one error line: %q", tt.args, errOut)
		}
	}
}

// The README's first command, on the shipped sample: it finishes with exit 1 (the sample has
// bad rows on purpose) and says where the files are.
func TestSampleDryRun(t *testing.T) {
	dir := t.TempDir()
	results, failed := filepath.Join(dir, "r.csv"), filepath.Join(dir, "f.csv")
	// Flags after the input, as people type them.
	code, out, errOut := runCLI(t, "testdata/contacts.csv", "--dry-run", "--results", results, "-failed="+failed)
	if code != 1 {
		t.Fatalf("exit %d, stderr:\n%s", code, errOut)
	}
	if out != "" {
		t.Errorf("stdout should stay empty, got %q", out)
	}
	for _, want := range []string{"valid", "invalid", "duplicate", results, failed, "plannr-import --dry-run " + failed} {
		if !strings.Contains(errOut, want) {
			t.Errorf("summary lacks %q:\n%s", want, errOut)
		}
	}
	data, err := os.ReadFile(results)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(data), "\n"); n < 31 {
		t.Errorf("results have %d lines; the sample has more than 30 rows", n)
	}
}

func TestInterleavedFlags(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "-odd-name.csv")
	os.WriteFile(input, []byte("account_uuids,type,name,value\n7ed9c726-2d6d-45cf-87fc-6fae4f163072,email,Home,a@example.com\n"), 0o600)
	code, _, errOut := runCLI(t, "--dry-run", "--", input)
	if code != 0 {
		t.Errorf("-- before a file whose name starts with '-': exit %d: %s", code, errOut)
	}
}

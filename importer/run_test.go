package importer

import (
	"context"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	jane = "7ed9c726-2d6d-45cf-87fc-6fae4f163072"
	john = "fc9031fc-3155-43b9-8cbc-1d91a84f3c94"
)

// writeInput writes a CSV input in a fresh directory and returns its path.
func writeInput(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "contacts.csv")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// readCSV reads a whole CSV file into maps keyed by its header.
func readCSV(t *testing.T, path string) ([]string, []map[string]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	all, err := r.ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var rows []map[string]string
	for _, rec := range all[1:] {
		m := map[string]string{}
		for i, h := range all[0] {
			if i < len(rec) {
				m[h] = rec[i]
			}
		}
		rows = append(rows, m)
	}
	return all[0], rows
}

func dryRun(t *testing.T, input string) *Summary {
	t.Helper()
	s, err := Run(context.Background(), Config{Input: input, DryRun: true})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	return s
}

func TestRunDryRun(t *testing.T) {
	input := writeInput(t, "\ufeffAccount_UUIDs,Type,Name,Value,Country,Is_Primary,Notes\r\n"+
		jane+",email,Personal, Jane@Example.com ,,yes,first\r\n"+
		jane+",mobile,Mobile,07700 900123,,no,drama range\r\n"+
		jane+";"+john+",phone,Home,+44 (0)20 7946 0958,UK,,\"joint,\r\nclients\"\r\n"+
		jane+",email,Old,jane@example.com,,no,same address\r\n"+
		",,,,,,\r\n"+
		jane+",fax,Fax,123,Narnia,perhaps,\r\n"+
		"\r\n")
	s := dryRun(t, input)

	if s.Rows != 6 || s.Blank != 1 || s.Counts[Valid] != 2 || s.Counts[Duplicate] != 1 || s.Counts[Invalid] != 2 || s.FailedRows != 2 {
		t.Errorf("summary %+v", s)
	}
	if s.ExitCode() != ExitRows {
		t.Errorf("exit code %d, want %d", s.ExitCode(), ExitRows)
	}
	header, rows := readCSV(t, DefaultResultsPath(input))
	if got := strings.Join(header, ","); got != ResultColumns {
		t.Errorf("results header %q", got)
	}
	want := []struct{ row, line, status, value, errPart string }{
		{"1", "2", "valid", "Jane@Example.com", ""},
		{"2", "3", "invalid", "07700 900123", "value: \"07700 900123\" is not a valid GB phone number"},
		{"3", "4", "valid", "+442079460958", ""},
		{"4", "6", "duplicate", "jane@example.com", "as row 1 (line 2)"},
		{"6", "8", "invalid", "123", `type: "fax" is not a contact detail type`},
	}
	if len(rows) != len(want) {
		t.Fatalf("results have %d lines, want %d: %v", len(rows), len(want), rows)
	}
	for i, w := range want {
		r := rows[i]
		if r["row"] != w.row || r["line"] != w.line || r["status"] != w.status || r["value"] != w.value || !strings.Contains(r["error"], w.errPart) || (w.errPart == "" && r["error"] != "") {
			t.Errorf("results line %d = %v, want %+v", i+1, r, w)
		}
	}
	if rows[2]["account_uuids"] != jane+";"+john {
		t.Errorf("joint accounts written as %q", rows[2]["account_uuids"])
	}
	if !strings.Contains(rows[4]["error"], "is_primary") {
		t.Errorf("every problem of a row should be reported: %q", rows[4]["error"])
	}

	fheader, frows := readCSV(t, DefaultFailedPath(input))
	if got := strings.Join(fheader, ","); got != "Account_UUIDs,Type,Name,Value,Country,Is_Primary,Notes,error" {
		t.Errorf("failed-rows header %q", got)
	}
	if len(frows) != 2 || frows[0]["Value"] != "07700 900123" || frows[0]["Notes"] != "drama range" || frows[1]["Country"] != "Narnia" || frows[1]["Is_Primary"] != "perhaps" {
		t.Errorf("failed rows %v", frows)
	}
}

// The failed-rows file is an input as it stands: fix its cells and run on it.
func TestRunFailedFileRoundTrip(t *testing.T) {
	input := writeInput(t, "account_uuids,type,name,value,error,notes\n"+
		jane+",email,Personal,jane@example,old message,\"keep, this\"\n"+
		"C-17,phone,Mobile,07400 123456,,\n"+
		jane+",phone,Home,020 7946 0958,,\n")
	if s := dryRun(t, input); s.FailedRows != 2 {
		t.Fatalf("first run: %+v", s)
	}
	failed := DefaultFailedPath(input)
	header, rows := readCSV(t, failed)
	if strings.Join(header, ",") != "account_uuids,type,name,value,error,notes" {
		t.Errorf("the input's own error column should be reused, not repeated: %q", header)
	}
	if rows[0]["error"] == "old message" || !strings.Contains(rows[0]["error"], "no dot") || rows[0]["notes"] != "keep, this" {
		t.Errorf("failed row %v", rows[0])
	}

	// Rerun on the failed file untouched: the same rows fail again, nothing else appears.
	s := dryRun(t, failed)
	if s.Rows != 2 || s.Counts[Invalid] != 2 {
		t.Errorf("rerun on the failed file: %+v", s)
	}

	// The user fixes the cells; the stale error column is ignored.
	content, _ := os.ReadFile(failed)
	fixed := strings.NewReplacer("jane@example,", "jane@example.com,", "C-17", john).Replace(string(content))
	if err := os.WriteFile(failed, []byte(fixed), 0o600); err != nil {
		t.Fatal(err)
	}
	s = dryRun(t, failed)
	if s.Counts[Valid] != 2 || s.FailedRows != 0 || s.ExitCode() != ExitOK {
		t.Errorf("after fixing: %+v", s)
	}
	if _, rows := readCSV(t, DefaultFailedPath(failed)); len(rows) != 0 {
		t.Errorf("failed file of a clean run has rows: %v", rows)
	}
}

func TestRunBrokenRecordsKeepTheirLines(t *testing.T) {
	input := writeInput(t, "account_uuids,type,name,value\n"+
		jane+",email,Home,\"multi\nline@example.com\"\n"+
		jane+",email,O\"Brien,ob@example.com\n"+
		jane+",email,Work,\"never closed@example.com\n"+
		jane+",email,Other,other@example.com\n"+
		jane+",email,Short\n")
	s := dryRun(t, input)
	_, rows := readCSV(t, DefaultResultsPath(input))
	want := []struct{ line, status, errPart string }{
		{"2", "invalid", "not a valid e-mail"},
		{"4", "invalid", "line 4, column"},
		{"5", "invalid", "line 5: a quoted field opened here is not closed"},
		{"6", "valid", ""},
		{"7", "invalid", "line 7 has 3 fields but the header has 4"},
	}
	if len(rows) != len(want) || s.Rows != len(want) {
		t.Fatalf("results %v, summary %+v", rows, s)
	}
	for i, w := range want {
		if rows[i]["line"] != w.line || rows[i]["status"] != w.status || !strings.Contains(rows[i]["error"], w.errPart) {
			t.Errorf("line %d: %v, want %+v", i, rows[i], w)
		}
	}
	_, frows := readCSV(t, DefaultFailedPath(input))
	if len(frows) != 4 || frows[1]["name"] != `O"Brien` || frows[3]["value"] != "" {
		t.Errorf("failed rows %v", frows)
	}
}

func TestRunStopped(t *testing.T) {
	input := writeInput(t, "account_uuids,type,name,value\n"+strings.Repeat(jane+",email,Home,jane@example.com\n", 5))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s, err := Run(ctx, Config{Input: input, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if !s.Stopped || s.ExitCode() != ExitStopped || s.NotAttempted != 5 || s.Rows != 5 {
		t.Errorf("summary %+v", s)
	}
	_, frows := readCSV(t, DefaultFailedPath(input))
	if len(frows) != 5 || !strings.Contains(frows[0]["error"], "not attempted") {
		t.Errorf("failed rows %v", frows)
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.csv")
	os.WriteFile(good, []byte("account_uuids,type,name,value\n"), 0o600)
	tests := []struct {
		name    string
		cfg     Config
		content string
		input   bool // want an *InputError (else a *ConfigError)
		want    string
	}{
		{"missing file", Config{Input: filepath.Join(dir, "nope.csv")}, "", true, "nope.csv: no such file"},
		{"missing column", Config{}, "account_uuids,type,value\n", true, `column "name" is missing from the header (the header has: account_uuids, type, value)`},
		{"empty", Config{}, "", true, "is empty"},
		{"bad default country", Config{DefaultCountry: "Atlantis"}, "account_uuids,type,name,value\n", false, `default country "Atlantis" is not a known country`},
		{"results over input", Config{Input: good, Results: good}, "", false, "is the input file"},
		{"failed over input", Config{Input: good, Failed: filepath.Join(dir, ".", "good.csv")}, "", false, "is the input file"},
		{"results and failed the same", Config{Input: good, Results: filepath.Join(dir, "x.csv"), Failed: filepath.Join(dir, "x.csv")}, "", false, "are the same file"},
		{"unwritable results", Config{Input: good, Results: filepath.Join(dir, "no", "such", "dir.csv")}, "", false, "cannot create"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			cfg.DryRun = true
			if cfg.Input == "" {
				cfg.Input = writeInput(t, tt.content)
			}
			_, err := Run(context.Background(), cfg)
			var ie *InputError
			var ce *ConfigError
			if tt.input && !errors.As(err, &ie) || !tt.input && !errors.As(err, &ce) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Run error %v (%T), want it to say %q", err, err, tt.want)
			}
		})
	}
}

func TestDefaultPaths(t *testing.T) {
	tests := []struct{ in, results, failed string }{
		{"contacts.csv", "contacts.results.csv", "contacts.failed.csv"},
		{"/data/exports/Contacts.CSV", "/data/exports/Contacts.results.csv", "/data/exports/Contacts.failed.csv"},
		{"contacts.failed.csv", "contacts.failed.results.csv", "contacts.failed.failed.csv"},
		{"export.txt", "export.txt.results.csv", "export.txt.failed.csv"},
		{"data.csv.d/export", "data.csv.d/export.results.csv", "data.csv.d/export.failed.csv"},
	}
	for _, tt := range tests {
		if got := DefaultResultsPath(tt.in); got != tt.results {
			t.Errorf("DefaultResultsPath(%q) = %q, want %q", tt.in, got, tt.results)
		}
		if got := DefaultFailedPath(tt.in); got != tt.failed {
			t.Errorf("DefaultFailedPath(%q) = %q, want %q", tt.in, got, tt.failed)
		}
	}
}

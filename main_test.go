package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"plannr-import/importer/plannrtest"
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

// TestMain lets a test run this test binary as the command itself, to send it real signals.
func TestMain(m *testing.M) {
	if os.Getenv("PLANNR_IMPORT_RUN_MAIN") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

func TestSendConfigErrors(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "in.csv")
	os.WriteFile(input, []byte("account_uuids,type,name,value\n"), 0o600)
	tokenFile := filepath.Join(dir, "token")
	os.WriteFile(tokenFile, []byte("tok-from-file\n"), 0o600)
	emptyToken := filepath.Join(dir, "empty")
	os.WriteFile(emptyToken, []byte("\n"), 0o600)
	const account = "7ed9c726-2d6d-45cf-87fc-6fae4f163072"
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"no token", map[string]string{"PLANNR_ACCOUNT_UUID": account}, []string{input}, "set PLANNR_TOKEN to a Plannr API token"},
		{"no account", map[string]string{"PLANNR_TOKEN": "t0k3n-abcdef"}, []string{input}, "set PLANNR_ACCOUNT_UUID (or --account-uuid)"},
		{"account not a UUID", map[string]string{"PLANNR_TOKEN": "t0k3n-abcdef", "PLANNR_ACCOUNT_UUID": "acme"}, []string{input}, `the firm account UUID "acme" is not a UUID`},
		{"plain http to a remote host", map[string]string{"PLANNR_TOKEN": "t0k3n-abcdef", "PLANNR_ACCOUNT_UUID": account, "PLANNR_BASE_URL": "http://api.plannrcrm.com"}, []string{input}, "plain http to a host that is not this machine"},
		{"plain http by flag", map[string]string{"PLANNR_TOKEN": "t0k3n-abcdef"}, []string{"--account-uuid", account, "--base-url", "http://192.168.1.20:8080", input}, "plain http"},
		{"missing token file", map[string]string{"PLANNR_ACCOUNT_UUID": account}, []string{"--token-file", filepath.Join(dir, "nope"), input}, "cannot read --token-file"},
		{"empty token file", map[string]string{"PLANNR_ACCOUNT_UUID": account}, []string{"--token-file", emptyToken, input}, "must hold the token alone"},
		{"sandbox with a base URL", nil, []string{"--sandbox", "--base-url", "https://api.plannrcrm.com", input}, "do not go together"},
		{"negative rate", nil, []string{"--rate", "-1", input}, "must not be negative"},
	}
	for _, tt := range tests {
		code, out, errOut := runWithEnv(t, tt.env, tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) || out != "" {
			t.Errorf("%s: exit %d, stderr %q; want exit 2 saying %q", tt.name, code, errOut, tt.want)
		}
		if strings.Contains(errOut, "t0k3n") || strings.Contains(errOut, "tok-from-file") {
			t.Errorf("%s: the token is in the message: %q", tt.name, errOut)
		}
	}
}

// The README's first command: the sample imported into the sandbox.
func TestSandboxImportsTheSample(t *testing.T) {
	dir := t.TempDir()
	results, failed := filepath.Join(dir, "r.csv"), filepath.Join(dir, "f.csv")
	code, out, errOut := runCLI(t, "--sandbox", "--rate", "0", "--results", results, "--failed", failed, "testdata/contacts.csv")
	if code != 1 || out != "" {
		t.Fatalf("exit %d (want 1: the sample has bad rows), stdout %q, stderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{"sandbox: importing into a fake Plannr at http://127.0.0.1:", "created         23", "invalid         12", "the fake Plannr now holds 23 contact details"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	data, _ := os.ReadFile(results)
	if n := strings.Count(string(data), ",created,"); n != 23 {
		t.Errorf("%d created lines in the results", n)
	}
}

// A real SIGINT to the running command: it stops sending, finishes what is in flight, writes
// both files so that every row is in one of them, and exits 3.
func TestInterruptFlushesFiles(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "contacts.csv")
	var b strings.Builder
	b.WriteString("account_uuids,type,name,value\n")
	const rows = 300
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&b, "7ed9c726-2d6d-45cf-87fc-6fae4f163072,email,E%d,c%d@example.com\n", i, i)
	}
	os.WriteFile(input, []byte(b.String()), 0o600)

	cmd := exec.Command(os.Args[0], "--sandbox", "--rate", "40", input)
	cmd.Env = append(os.Environ(), "PLANNR_IMPORT_RUN_MAIN=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("exit: %v; stderr:\n%s", err, stderr.String())
	}
	results, _ := os.ReadFile(strings.TrimSuffix(input, ".csv") + ".results.csv")
	failed, _ := os.ReadFile(strings.TrimSuffix(input, ".csv") + ".failed.csv")
	done := strings.Count(string(results), "\n") - 1
	notDone := strings.Count(string(failed), "\n") - 1
	if done < 10 || notDone < 100 || done+notDone != rows {
		t.Errorf("%d rows in the results and %d in the failed-rows file; want all %d, split", done, notDone, rows)
	}
	if strings.Count(string(results), ",created,") != done {
		t.Errorf("every request in flight should have finished:\n%s", results)
	}
	if !strings.Contains(stderr.String(), "stopping: no new requests") || !strings.Contains(stderr.String(), "stopped part-way") {
		t.Errorf("stderr:\n%s", stderr.String())
	}
}

// kill -9 at any moment, then the same command again: every detail ends in Plannr exactly
// once, and the killed run's results file is whole, line by line.
func TestKilledRunRerunsSafely(t *testing.T) {
	srv, err := plannrtest.NewServer(plannrtest.Options{AnyClient: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	srv.SetFaults(plannrtest.Faults{Latency: 10 * time.Millisecond, Jitter: 30 * time.Millisecond, DropAfterStoreRate: 0.05})

	dir := t.TempDir()
	input := filepath.Join(dir, "nightly.csv")
	var b strings.Builder
	b.WriteString("account_uuids,type,name,value\n")
	const rows = 400
	for i := 0; i < rows; i++ {
		fmt.Fprintf(&b, "%08x-4444-4444-8444-444444444444,email,E%d,c%d@example.com\n", i/2, i, i)
	}
	os.WriteFile(input, []byte(b.String()), 0o600)
	command := func() *exec.Cmd {
		cmd := exec.Command(os.Args[0], "--rate", "150", "--workers", "8", input)
		cmd.Env = append(os.Environ(), "PLANNR_IMPORT_RUN_MAIN=1", "PLANNR_TOKEN="+srv.Token,
			"PLANNR_ACCOUNT_UUID="+srv.AccountUUID, "PLANNR_BASE_URL="+srv.URL)
		return cmd
	}

	cmd := command()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1200 * time.Millisecond)
	cmd.Process.Kill()
	cmd.Wait()
	created := len(srv.Details())
	if created == 0 || created >= rows {
		t.Fatalf("the kill came when %d of %d were created: not part-way", created, rows)
	}
	f, err := os.Open(filepath.Join(dir, "nightly.results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines, err := csv.NewReader(f).ReadAll() // a torn line would be a wrong field count
	f.Close()
	if err != nil {
		t.Fatalf("the killed run's results file is torn: %v", err)
	}
	held := map[string]bool{}
	for _, d := range srv.Details() {
		held[d.UUID] = true
	}
	for _, l := range lines[1:] {
		if l[2] == "created" && !held[l[7]] {
			t.Errorf("results line %v names a UUID the server does not hold", l)
		}
	}

	var stderr bytes.Buffer
	cmd = command()
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("the rerun: %v\n%s", err, stderr.String())
	}
	count := map[string]int{}
	for _, d := range srv.Details() {
		count[d.Value]++
	}
	for v, n := range count {
		if n != 1 {
			t.Errorf("%s is in Plannr %d times", v, n)
		}
	}
	if len(count) != rows {
		t.Errorf("Plannr holds %d details, want %d", len(count), rows)
	}
	data, _ := os.ReadFile(filepath.Join(dir, "nightly.results.csv"))
	exists, made := strings.Count(string(data), ",exists,"), strings.Count(string(data), ",created,")
	if exists < created || exists+made != rows {
		t.Errorf("the rerun: %d exist (%d were in Plannr at the kill), %d created; want all %d", exists, created, made, rows)
	}
}

func TestMappingFlags(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(text), 0o600)
		return p
	}
	badColumn := write("bad-column.yaml", "account_uuids: {column: \"Plannr ID\"}\ndetails:\n  - {type: email, name: E, value: {column: \"Email Adress\"}}\n")
	badType := write("bad-type.yaml", "account_uuids: {column: \"Plannr ID\"}\ndetails:\n  - {type: fax, name: Fax, value: {column: \"Fax\"}}\n")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"--dry-run", "--mapping", badColumn, "testdata/wide-export.csv"}, badColumn + `:3:44: column "Email Adress" is missing from the header (the header has: Client Ref, Title,`},
		{[]string{"--dry-run", "--mapping", badType, "testdata/wide-export.csv"}, badType + `:3:12: details[0].type: "fax" is not a contact detail type`},
		{[]string{"--dry-run", "--mapping", filepath.Join(dir, "none.yaml"), "testdata/wide-export.csv"}, "cannot read --mapping"},
		{[]string{"--dry-run", "--delimiter", "::", "testdata/wide-export.csv"}, `--delimiter "::" must be one character`},
		{[]string{"--dry-run", "--encoding", "klingon", "testdata/wide-export.csv"}, `--encoding "klingon" is not one of`},
	}
	for _, tt := range tests {
		code, _, errOut := runCLI(t, tt.args...)
		if code != 2 || !strings.Contains(errOut, tt.want) {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 saying %q", tt.args, code, errOut, tt.want)
		}
	}
	if _, err := os.Stat("testdata/wide-export.results.csv.lock"); err == nil {
		t.Error("a run that stopped on its configuration left a lock file")
	}
}

func TestPrintMapping(t *testing.T) {
	code, out, errOut := runCLI(t, "--print-mapping", "testdata/wide-export-utf16.tsv")
	if code != 0 || errOut != "" {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, line := range []string{`account_uuids: {column: "Plannr ID"}`, `country: {column: "Country of residence"}`} {
		if !strings.Contains(out, line) {
			t.Errorf("the printed mapping lacks %s:\n%s", line, out)
		}
	}
	// It reads every column the hand-written mapping of the same file reads.
	handWritten, _ := os.ReadFile("testdata/wide-export.mapping.yaml")
	for _, column := range []string{"Mobile Tel", "Home Tel", "Work Tel", "E-mail Address"} {
		value := `value: {column: "` + column + `"}`
		if !strings.Contains(string(handWritten), value) || !strings.Contains(out, value) {
			t.Errorf("%s: in the hand-written mapping %v, in the printed one %v:\n%s", value,
				strings.Contains(string(handWritten), value), strings.Contains(out, value), out)
		}
	}
	// Fed back, it works.
	dir := t.TempDir()
	m := filepath.Join(dir, "guess.yaml")
	os.WriteFile(m, []byte(out), 0o600)
	results := filepath.Join(dir, "r.csv")
	code, _, errOut = runCLI(t, "--dry-run", "--mapping", m, "--results", results, "--failed", filepath.Join(dir, "f.csv"), "testdata/wide-export.csv")
	if code != 1 || !strings.Contains(errOut, "valid           15") {
		t.Errorf("the printed mapping, used: exit %d\n%s", code, errOut)
	}
}

func TestVersion(t *testing.T) {
	code, out, _ := runCLI(t, "--version")
	if code != 0 || !strings.HasPrefix(out, "plannr-import ") || !strings.Contains(out, "go1.") {
		t.Errorf("--version: exit %d, %q", code, out)
	}
}

func TestTokenFileMustBePrivate(t *testing.T) {
	dir := t.TempDir()
	token := filepath.Join(dir, "token")
	os.WriteFile(token, []byte("s3cr3t-token-value\n"), 0o644)
	os.Chmod(token, 0o644)
	input := filepath.Join(dir, "in.csv")
	os.WriteFile(input, []byte("account_uuids,type,name,value\n"), 0o600)
	code, _, errOut := runWithEnv(t, map[string]string{"PLANNR_ACCOUNT_UUID": "7ed9c726-2d6d-45cf-87fc-6fae4f163072"}, "--token-file", token, input)
	if code != 2 || !strings.Contains(errOut, "can be read by other users (mode 0644): make it yours alone with chmod 600") || strings.Contains(errOut, "s3cr3t") {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

// --summary is written whatever the exit code, and --log-format json keeps stderr to JSON lines.
func TestSummaryAndJSONLogs(t *testing.T) {
	dir := t.TempDir()
	summary := filepath.Join(dir, "summary.json")
	results, failed := filepath.Join(dir, "r.csv"), filepath.Join(dir, "f.csv")
	code, out, errOut := runCLI(t, "--sandbox", "--rate", "0", "--log-format", "json", "-v", "--summary", summary,
		"--results", results, "--failed", failed, "testdata/contacts.csv")
	if code != 1 || out != "" {
		t.Fatalf("exit %d, stdout %q", code, out)
	}
	debug, sawSummary := 0, false
	for _, line := range strings.Split(strings.TrimSpace(errOut), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("a stderr line is not JSON: %q", line)
		}
		if rec["msg"] == "request" {
			debug++
			if rec["method"] == nil || rec["path"] == nil || rec["latency_ms"] == nil || rec["attempt"] == nil {
				t.Errorf("request line lacks a field: %v", rec)
			}
		}
		if rec["msg"] == "summary" {
			sawSummary = true
		}
	}
	if debug < 23 || !sawSummary {
		t.Errorf("%d request lines, summary %v:\n%s", debug, sawSummary, errOut)
	}
	var j map[string]any
	data, err := os.ReadFile(summary)
	if err != nil || json.Unmarshal(data, &j) != nil {
		t.Fatalf("summary file: %v %s", err, data)
	}
	counts := j["counts"].(map[string]any)
	requests := j["requests"].(map[string]any)
	if j["exit_code"] != 1.0 || counts["created"] != 23.0 || counts["invalid"] != 12.0 || requests["create_contact_detail"] != 23.0 ||
		requests["list_contact_details"] == 0.0 || j["version"] == "" || j["input"] != "testdata/contacts.csv" {
		t.Errorf("summary %s", data)
	}

	// A configuration error writes one too.
	code, _, _ = runCLI(t, "--dry-run", "--summary", summary, filepath.Join(dir, "missing.csv"))
	data, _ = os.ReadFile(summary)
	json.Unmarshal(data, &j)
	if code != 2 || j["exit_code"] != 2.0 || !strings.Contains(j["error"].(string), "no such file") {
		t.Errorf("exit %d, summary %s", code, data)
	}
}

// The dry run says what a real run would do, and how long it would take.
func TestDryRunPlan(t *testing.T) {
	dir := t.TempDir()
	// A token alone (no firm account) is not enough to ask Plannr: the dry run goes on without.
	code, _, errOut := runWithEnv(t, map[string]string{"PLANNR_TOKEN": "t0k3n-abcdef"}, "--dry-run", "--rate", "8",
		"--results", filepath.Join(dir, "r.csv"), "--failed", filepath.Join(dir, "f.csv"), "testdata/contacts.csv")
	if code != 1 || !strings.Contains(errOut, "Plan:        23 to create, 12 invalid: about 3 s at 8/s (480 a minute)") {
		t.Errorf("exit %d:\n%s", code, errOut)
	}
}

// With credentials, a dry run asks Plannr (read-only) what is there already.
func TestDryRunWithCredentialsFindsExisting(t *testing.T) {
	srv, err := plannrtest.NewServer(plannrtest.Options{AnyClient: true})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	env := map[string]string{"PLANNR_TOKEN": srv.Token, "PLANNR_ACCOUNT_UUID": srv.AccountUUID, "PLANNR_BASE_URL": srv.URL}
	dir := t.TempDir()
	args := []string{"--rate", "0", "--results", filepath.Join(dir, "r.csv"), "--failed", filepath.Join(dir, "f.csv"), "testdata/contacts.csv"}
	if code, _, errOut := runWithEnv(t, env, args...); code != 1 {
		t.Fatalf("the import: %d %s", code, errOut)
	}
	creates := srv.Stats().Creates
	code, _, errOut := runWithEnv(t, env, append([]string{"--dry-run"}, args...)...)
	if code != 1 || !strings.Contains(errOut, "Plan:        0 to create, 23 already in Plannr, 12 invalid") || srv.Stats().Creates != creates || srv.Stats().ByStatus[201] != creates {
		t.Errorf("exit %d:\n%s", code, errOut)
	}
}

// Hostile files end in exit 1 or 2 with a clear message: no panic, no hang.
func TestHostileFiles(t *testing.T) {
	const canonical = "account_uuids,type,name,value\n"
	const good = "7ed9c726-2d6d-45cf-87fc-6fae4f163072,email,Home,a@example.com\n"
	binary := make([]byte, 4096)
	for i := range binary {
		binary[i] = byte(i * 7)
	}
	many := make([]string, 100_000)
	for i := range many {
		many[i] = fmt.Sprintf("c%d", i)
	}
	tests := []struct {
		name    string
		content string
		args    []string
		code    int
		want    string
	}{
		{"empty", "", nil, 2, "is empty"},
		{"header only, not ours", "Name,Phone\n", nil, 2, `column "account_uuids" is missing from the header`},
		{"binary", string(binary), nil, 2, "NUL bytes"},
		{"a 2 MB field", canonical + good + "7ed9c726-2d6d-45cf-87fc-6fae4f163072,email,Home,\"" + strings.Repeat("x", 2<<20) + "\"\n" + good, nil, 1, "longer than 1024 KiB"},
		{"100,000 columns", strings.Join(many, ",") + "\n" + strings.Repeat("1,", 99_999) + "1\n", nil, 2, "(100000 columns)"},
		{"unterminated quote", canonical + good + "7ed9c726-2d6d-45cf-87fc-6fae4f163072,email,\"Home,a@example.com\n" + good, nil, 1, "a quoted field opened here is not closed"},
		{"NUL bytes in a row", canonical + good + "7ed9c726-2d6d-45cf-87fc-6fae4f163072,email,Ho\x00me,a@example.com\n", nil, 1, "has a NUL byte"},
		{"invalid UTF-8, said to be UTF-8", canonical + good + "7ed9c726-2d6d-45cf-87fc-6fae4f163072,email,Caf\xe9,a@example.com\n", []string{"--encoding", "utf-8"}, 1, "is not valid UTF-8"},
		{"CR-only line ends", strings.ReplaceAll(canonical+good+"x,email,Home,b@example.com\n", "\n", "\r"), nil, 1, `is not a UUID`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			input := filepath.Join(dir, "in.csv")
			os.WriteFile(input, []byte(tt.content), 0o600)
			args := append([]string{"--dry-run"}, tt.args...)
			code, _, errOut := runCLI(t, append(args, input)...)
			results, _ := os.ReadFile(filepath.Join(dir, "in.results.csv"))
			if code != tt.code || !strings.Contains(errOut+string(results), tt.want) {
				t.Errorf("exit %d (want %d); stderr:\n%.600s\nresults:\n%.600s\nwant %q", code, tt.code, errOut, results, tt.want)
			}
		})
	}
}

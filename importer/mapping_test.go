package importer

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"plannr-import/importer/plannrtest"
	"plannr-import/mapping"
)

// loadMapping reads one of testdata's mapping files.
func loadMapping(t *testing.T, name string) *mapping.Mapping {
	t.Helper()
	path := filepath.Join("..", "testdata", name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.ParseFile(data, path)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// copyTestdata copies files of testdata into a fresh directory, so that the outputs land there.
func copyTestdata(t *testing.T, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, n := range names {
		data, err := os.ReadFile(filepath.Join("..", "testdata", n))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(dir, n), data, 0o600)
	}
	return dir
}

const (
	anne  = "3f2b8c1e-5a7d-4c9b-8e21-0d4f6a7b9c01"
	tom   = "3f2b8c1e-5a7d-4c9b-8e21-0d4f6a7b9c02"
	lena  = "3f2b8c1e-5a7d-4c9b-8e21-0d4f6a7b9c03"
	raj   = "3f2b8c1e-5a7d-4c9b-8e21-0d4f6a7b9c04"
	sean  = "3f2b8c1e-5a7d-4c9b-8e21-0d4f6a7b9c05"
	grace = "3f2b8c1e-5a7d-4c9b-8e21-0d4f6a7b9c06"
	james = "3f2b8c1e-5a7d-4c9b-8e21-0d4f6a7b9c07"
)

// wideExpected is every detail testdata/wide-export.csv makes, as "account type name value
// primary": three phone columns and an e-mail per client, the empty cells making nothing,
// Raj's e-mail and James's mobile invalid.
var wideExpected = []string{
	anne + " phone_number Mobile +447400123401 true",
	anne + " phone_number Home +442079460101 false",
	anne + " email Personal email anne.hughes@example.co.uk true",
	tom + " phone_number Mobile +447400123402 true",
	tom + " phone_number Work (ext. 204) +441614960102 false",
	tom + " email Personal email Tom@Okafor.example.com true",
	lena + " phone_number Mobile +61412345603 true",
	lena + " phone_number Home +61298765103 false",
	lena + " email Personal email lena.fischer@example.com.au true",
	raj + " phone_number Mobile +447400123404 true",
	raj + " phone_number Home +441174960104 false",
	sean + " phone_number Mobile +353871234505 true",
	sean + " email Personal email sean.oconnor@example.ie true",
	james + " phone_number Home +441314960107 false",
	james + " email Personal email j.wright@example.co.uk true",
}

func heldDetails(srv *plannrtest.Server) []string {
	var got []string
	for _, d := range srv.Details() {
		got = append(got, strings.Join(d.AccountUUIDs, ";")+" "+d.Type+" "+d.Name+" "+d.Value+" "+map[bool]string{true: "true", false: "false"}[d.IsPrimary])
	}
	slices.Sort(got)
	return got
}

func TestWideExportImportsExactly(t *testing.T) {
	for _, tc := range []struct{ file, mappingFile string }{
		{"wide-export.csv", "wide-export.mapping.yaml"},
		{"wide-export.csv", "wide-export.lookup.yaml"},
		{"wide-export-excel-cp1252.csv", "wide-export.mapping.yaml"},
		{"wide-export-utf16.tsv", "wide-export.lookup.yaml"},
	} {
		t.Run(tc.file+" with "+tc.mappingFile, func(t *testing.T) {
			dir := copyTestdata(t, tc.file, "accounts.csv")
			srv := startFake(t, plannrtest.Options{Clients: []string{anne, tom, lena, raj, sean, grace, james}}, plannrtest.Faults{})
			input := filepath.Join(dir, tc.file)
			s, results, failed := importFile(t, context.Background(), Config{Input: input, Mapping: loadMapping(t, tc.mappingFile),
				MappingDir: dir, Client: clientFor(t, srv, srv.Token), Rate: 0})
			want := slices.Clone(wideExpected)
			slices.Sort(want)
			if got := heldDetails(srv); !slices.Equal(got, want) {
				t.Errorf("Plannr holds\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if s.Counts[Created] != 15 || s.Counts[Invalid] != 2 || s.NoDetails != 1 || len(results) != 17 {
				t.Errorf("summary %+v, %d results lines", s, len(results))
			}
			// One failed-rows line per source row, in the input's own columns, untouched.
			if len(failed) != 2 {
				t.Fatalf("failed rows %v", failed)
			}
			for _, f := range failed {
				switch f["Client Ref"] {
				case "C-1004":
					if f["Surname"] != "Patel" || !strings.Contains(f["error"], `Personal email: E-mail Address: "raj.patel@example" is not a valid e-mail address`) {
						t.Errorf("Raj's failed row %v", f)
					}
				case "C-1007":
					if f["Mobile Tel"] != "07700 900123" || !strings.Contains(f["error"], "Mobile: Mobile Tel:") {
						t.Errorf("James's failed row %v", f)
					}
				default:
					t.Errorf("unexpected failed row %v", f)
				}
			}
		})
	}
}

// The surname with a comma survives into the failed-rows file, quoted, as the input had it.
func TestWideExportFailedRowKeepsCells(t *testing.T) {
	dir := copyTestdata(t, "wide-export.csv")
	input := filepath.Join(dir, "wide-export.csv")
	m := loadMapping(t, "wide-export.mapping.yaml")
	m.Details[0].Value = mapping.Column("Title") // every row's "mobile" is now invalid
	s, err := Run(context.Background(), Config{Input: input, Mapping: m, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	_, failed := readCSV(t, DefaultFailedPath(input))
	if s.FailedRows != 7 || failed[0]["Surname"] != "Hughes, OBE" || failed[4]["First Name"] != "Seán" {
		t.Errorf("%d failed rows: %v", s.FailedRows, failed)
	}
}

func TestLookupThroughAccountsFile(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "export.csv")
	os.WriteFile(input, []byte("Ref,Email\nC-1,one@example.com\nc-2 ,two@example.com\nC-3,three@example.com\nC-4,four@example.com\nC-5,five@example.com\n,six@example.com\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "accounts.csv"), []byte("Account UUID;Ref;Name\n"+
		anne+";C-1;Anne\n"+tom+";C-2;Tom\n"+lena+";C-3;Lena\n"+raj+";C-3;Raj\n"+sean+";C-5;Sean (bad)\n"+"not-a-uuid;C-5;x\n"), 0o600)
	m, err := mapping.ParseFile([]byte("account_uuids: {lookup: {file: accounts.csv, key: Ref}}\ndetails: [{type: email, name: Email, value: {column: Email}}]\n"), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, err := Run(context.Background(), Config{Input: input, Mapping: m, MappingDir: dir, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	_, results := readCSV(t, DefaultResultsPath(input))
	want := map[string]string{
		"1": "valid " + anne,
		"2": "valid " + tom, // the key is matched trimmed and ignoring case
		"3": `invalid account_uuids: Ref "C-3" is on 2 lines of accounts.csv (lines 4, 5): which client is meant?`,
		"4": `invalid account_uuids: no account has Ref "C-4" in accounts.csv`,
		"5": `invalid account_uuids: Ref "C-5" is on 2 lines`,
		"6": "invalid Ref: is empty: it is how the client is found",
	}
	for _, r := range results {
		got := r["status"] + " " + r["account_uuids"]
		if r["status"] == "invalid" {
			got = r["status"] + " " + r["error"]
		}
		if !strings.HasPrefix(got, want[r["row"]]) {
			t.Errorf("row %s: %q, want %q", r["row"], got, want[r["row"]])
		}
	}
	if s.Counts[Valid] != 2 || s.Counts[Invalid] != 4 {
		t.Errorf("summary %+v", s.Counts)
	}
}

func TestLookupAccountsFileErrors(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "export.csv")
	os.WriteFile(input, []byte("Ref,Email\nC-1,one@example.com\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "accounts.csv"), []byte("id,Ref\nx,C-1\n"), 0o600)
	for text, want := range map[string]string{
		"account_uuids: {lookup: {file: nope.csv, key: Ref}}\n":                     "m.yaml:1:25: the accounts file of the lookup: " + filepath.Join(dir, "nope.csv") + ": no such file",
		"account_uuids: {lookup: {file: accounts.csv, key: Client, column: Ref}}\n": `the accounts file accounts.csv has no column "Client" (it has: id, Ref)`,
		"account_uuids: {lookup: {file: accounts.csv, key: Ref}}\n":                 "has no column of account UUIDs",
		"account_uuids: {lookup: {file: accounts.csv, key: Ref, column: X}}\n":      `m.yaml:1:25: column "X" is missing from the header`,
	} {
		m, err := mapping.ParseFile([]byte(text+"details: [{type: email, name: E, value: {column: Email}}]\n"), "m.yaml")
		if err != nil {
			t.Fatal(err)
		}
		_, err = Run(context.Background(), Config{Input: input, Mapping: m, MappingDir: dir, DryRun: true})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", text, err, want)
		}
	}
}

func TestLookupInPlannrByPrimaryEmail(t *testing.T) {
	srv := startFake(t, plannrtest.Options{Accounts: []plannrtest.Account{
		{UUID: anne, FirstName: "Anne", LastName: "Hughes", PrimaryEmail: "anne@example.com"},
		{UUID: tom, FirstName: "Joanne", LastName: "Okafor", PrimaryEmail: "joanne@example.com"}, // a partial match of anne@
		{UUID: lena, FirstName: "Lena", LastName: "Fischer", PrimaryEmail: "family@example.com"},
		{UUID: raj, FirstName: "Raj", LastName: "Fischer", PrimaryEmail: "Family@Example.com"},
	}}, plannrtest.Faults{})
	input := writeInput(t, "Email,Mobile\nANNE@example.com,07400 123401\nanne@example.com,07400 123402\nnobody@example.com,07400 123403\nfamily@example.com,07400 123404\n")
	m, err := mapping.ParseFile([]byte("account_uuids: {lookup: {plannr: primary_email, column: Email}}\ndetails:\n  - {type: phone, name: Mobile, value: {column: Mobile}}\n"), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	s, results, _ := importFile(t, context.Background(), Config{Input: input, Mapping: m, Client: clientFor(t, srv, srv.Token), Rate: 0})
	byRow := map[string]map[string]string{}
	for _, r := range results {
		byRow[r["row"]] = r
	}
	if r := byRow["1"]; r["status"] != "created" || r["account_uuids"] != anne {
		t.Errorf("row 1: %v", r)
	}
	if r := byRow["2"]; r["status"] != "created" || r["account_uuids"] != anne {
		t.Errorf("row 2: %v", r)
	}
	if r := byRow["3"]; r["status"] != "invalid" || !strings.Contains(r["error"], `no client in Plannr has the primary e-mail address "nobody@example.com"`) {
		t.Errorf("row 3: %v", r)
	}
	if r := byRow["4"]; r["status"] != "invalid" || !strings.Contains(r["error"], `2 clients in Plannr have the primary e-mail address "family@example.com"`) {
		t.Errorf("row 4: %v", r)
	}
	// One search per distinct address (the case of an address does not make it another).
	searches := 0
	for _, r := range srv.Log() {
		if r.Path == "/api/v1/account" {
			searches++
		}
	}
	if searches != 3 || s.Counts[Created] != 2 {
		t.Errorf("%d searches, summary %+v", searches, s.Counts)
	}
}

func TestDryRunDefersPlannrLookups(t *testing.T) {
	input := writeInput(t, "Email,Mobile\nanne@example.com,07400 123401\n")
	m, _ := mapping.ParseFile([]byte("account_uuids: {lookup: {plannr: primary_email, column: Email}}\ndetails: [{type: phone, name: Mobile, value: {column: Mobile}}]\n"), "m.yaml")
	s, err := Run(context.Background(), Config{Input: input, Mapping: m, DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	_, results := readCSV(t, DefaultResultsPath(input))
	if s.Counts[Valid] != 1 || !strings.Contains(results[0]["warning"], `looked up in Plannr by primary e-mail "anne@example.com" when sending`) {
		t.Errorf("%+v %v", s.Counts, results)
	}
}

package mapping

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// addSeeds adds every file of the project's testdata/fuzz/NAME as a seed: the seed corpus
// runs with the ordinary tests.
func addSeeds(f *testing.F, name string) {
	dir := filepath.Join("..", "testdata", "fuzz", name)
	entries, err := os.ReadDir(dir)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// FuzzMap feeds the canonical mapping any record: it must never panic, and what it calls
// valid must be what Plannr can take.
func FuzzMap(f *testing.F) {
	addSeeds(f, "FuzzMap")
	b, err := Canonical().Bind([]string{"account_uuids", "type", "name", "value", "country", "is_primary"}, Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		r := csv.NewReader(strings.NewReader(string(line)))
		r.FieldsPerRecord, r.LazyQuotes = -1, true
		record, err := r.Read()
		if err != nil {
			return
		}
		for _, res := range b.Map(record) {
			if !res.Valid() {
				if res.Error() == "" {
					t.Errorf("an invalid result with no message: %q", record)
				}
				continue
			}
			d := res.Detail
			if len(d.AccountUUIDs) == 0 || d.Name == "" || utf8.RuneCountInString(d.Name) > MaxNameLen || d.Value == "" {
				t.Errorf("valid but not sendable: %+v from %q", d, record)
			}
			for _, a := range d.AccountUUIDs {
				if _, ok := parseUUID(a); !ok || a != strings.ToLower(a) {
					t.Errorf("account %q from %q", a, record)
				}
			}
			switch d.Type {
			case PhoneNumber:
				if !strings.HasPrefix(d.Value, "+") || len(d.Country) != 2 {
					t.Errorf("phone %+v from %q", d, record)
				}
			case Email:
				if strings.Count(d.Value, "@") < 1 {
					t.Errorf("e-mail %q from %q", d.Value, record)
				}
			default:
				t.Errorf("type %q from %q", d.Type, record)
			}
		}
	})
}

// FuzzParseFile feeds the mapping-file parser anything: it must never panic, and a mapping it
// accepts must bind to a file that has its columns.
func FuzzParseFile(f *testing.F) {
	addSeeds(f, "FuzzParseFile")
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseFile(data, "m.yaml")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "m.yaml") {
				t.Errorf("an error that does not name the file: %v", err)
			}
			return
		}
		var header []string
		add := func(s Source) {
			if s.Column != "" {
				header = append(header, s.Column)
			}
		}
		add(m.AccountUUIDs)
		add(m.Country)
		if m.AccountLookup != nil {
			header = append(header, m.AccountLookup.Column)
		}
		for _, d := range m.Details {
			add(d.Type)
			add(d.Name)
			add(d.Value)
			add(d.Country)
			add(d.IsPrimary)
		}
		b, err := m.Bind(header, Options{})
		if err != nil {
			if _, ok := err.(*HeaderError); !ok {
				t.Errorf("Bind on its own columns: %v", err)
			}
			return // the same column named twice with different spacing: reported, fine
		}
		record := make([]string, len(header))
		for i := range record {
			record[i] = "x"
		}
		b.Map(record)
	})
}

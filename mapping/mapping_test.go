package mapping

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

const (
	jane  = "7ed9c726-2d6d-45cf-87fc-6fae4f163072"
	john  = "fc9031fc-3155-43b9-8cbc-1d91a84f3c94"
	upper = "7ED9C726-2D6D-45CF-87FC-6FAE4F163072"
)

func bindCanonical(t *testing.T, header ...string) *Binding {
	t.Helper()
	b, err := Canonical().Bind(header, Options{DefaultCountry: "GB"})
	if err != nil {
		t.Fatalf("Bind(%q): %v", header, err)
	}
	return b
}

func TestCanonicalMapValid(t *testing.T) {
	b := bindCanonical(t, "\ufeffAccount_UUIDs", " Type ", "NAME", "value", "Country", "is_primary", "notes")
	tests := []struct {
		record []string
		want   ContactDetail
		warn   string
	}{
		{
			[]string{upper, "Mobile", " Mobile ", "07911 123456", "", "yes", "anything"},
			ContactDetail{Type: PhoneNumber, Name: "Mobile", Value: "+447911123456", Country: "GG", IsPrimary: true, AccountUUIDs: []string{jane}},
			"",
		},
		{
			[]string{jane + ";" + john, "phone", "Home", "020 7946 0958", "UK", "", ""},
			ContactDetail{Type: PhoneNumber, Name: "Home", Value: "+442079460958", Country: "GB", AccountUUIDs: []string{jane, john}},
			"",
		},
		{
			[]string{jane, "telephone", "Sydney office", "(02) 9876 5123", "Australia", "0", ""},
			ContactDetail{Type: PhoneNumber, Name: "Sydney office", Value: "+61298765123", Country: "AU", AccountUUIDs: []string{jane}},
			"",
		},
		{
			// The column says France, but +44 carries its own country.
			[]string{jane, "phone_number", "Work", "+44 20 8123 4567 ext. 204", "FRA", "n", ""},
			ContactDetail{Type: PhoneNumber, Name: "Work (ext. 204)", Value: "+442081234567", Country: "GB", AccountUUIDs: []string{jane}},
			"extension 204 moved into the name",
		},
		{
			[]string{jane, "E-mail", "Personal", " Jane.Doe@Example.com ", "Narnia", "TRUE", ""},
			ContactDetail{Type: Email, Name: "Personal", Value: "Jane.Doe@Example.com", IsPrimary: true, AccountUUIDs: []string{jane}},
			"",
		},
	}
	for _, tt := range tests {
		got := b.Map(tt.record)
		if len(got) != 1 {
			t.Fatalf("Map(%q) made %d results, want 1", tt.record, len(got))
		}
		r := got[0]
		if !r.Valid() {
			t.Errorf("Map(%q) invalid: %s", tt.record, r.Error())
			continue
		}
		if !reflect.DeepEqual(r.Detail, tt.want) {
			t.Errorf("Map(%q)\n got %+v\nwant %+v", tt.record, r.Detail, tt.want)
		}
		if w := strings.Join(r.Warnings, "; "); !strings.Contains(w, tt.warn) || (tt.warn == "" && w != "") {
			t.Errorf("Map(%q) warnings %q, want %q", tt.record, w, tt.warn)
		}
	}
}

func TestCanonicalMapInvalid(t *testing.T) {
	b := bindCanonical(t, "account_uuids", "type", "name", "value", "country", "is_primary")
	tests := []struct {
		record []string
		want   []string // each problem, in order
	}{
		{[]string{"", "email", "Home", "a@example.com", "", ""}, []string{"account_uuids: is empty"}},
		{[]string{"C-1001", "email", "Home", "a@example.com", "", ""}, []string{`account_uuids: "C-1001" is not a UUID`}},
		{[]string{jane, "fax", "Fax", "020 7946 0958", "", ""}, []string{`type: "fax" is not a contact detail type`}},
		{[]string{jane, "email", "", "a@example.com", "", ""}, []string{"name: is empty"}},
		{[]string{jane, "email", "Home", "not an email", "", ""}, []string{`value: "not an email" is not a valid e-mail address`}},
		{[]string{jane, "phone", "Home", "07700 900123", "", ""}, []string{`value: "07700 900123" is not a valid GB phone number`}},
		{[]string{jane, "phone", "Home", "020 7946 0958", "Narnia", ""}, []string{`country: "Narnia" is not a known country`}},
		{[]string{jane, "phone", "Home", "", "", ""}, []string{"value: is empty"}},
		{[]string{jane, "email", "Home", "a@example.com", "", "sometimes"}, []string{`is_primary: "sometimes" is not true or false`}},
		{
			// Every problem of a row, in one message.
			[]string{"123", "phone", strings.Repeat("x", 300), "not a number", "", "maybe"},
			[]string{`account_uuids: "123" is not a UUID`, "name: is 300 characters long", `is_primary: "maybe"`, `value: "not a number" is not a phone number`},
		},
		{
			[]string{jane, "phone", strings.Repeat("x", 250), "020 8123 4567 x 1234", "", ""},
			[]string{"name: with the extension added it is 262 characters long"},
		},
		// A short record reads its missing cells as empty.
		{[]string{jane, "email"}, []string{"name: is empty", "value: is empty"}},
	}
	for _, tt := range tests {
		got := b.Map(tt.record)
		if len(got) != 1 {
			t.Fatalf("Map(%q) made %d results, want 1", tt.record, len(got))
		}
		r := got[0]
		if r.Valid() {
			t.Errorf("Map(%q) valid (%+v), want problems %q", tt.record, r.Detail, tt.want)
			continue
		}
		if len(r.Problems) != len(tt.want) {
			t.Errorf("Map(%q) problems %q, want %d: %q", tt.record, r.Problems, len(tt.want), tt.want)
			continue
		}
		for i, w := range tt.want {
			if !strings.Contains(r.Problems[i], w) {
				t.Errorf("Map(%q) problem %d = %q, want it to contain %q", tt.record, i, r.Problems[i], w)
			}
		}
		if r.Error() != strings.Join(r.Problems, "; ") {
			t.Errorf("Error() = %q", r.Error())
		}
	}
}

func TestBindErrors(t *testing.T) {
	tests := []struct {
		header []string
		want   string
	}{
		{[]string{"type", "name", "value"}, `column "account_uuids" is missing from the header`},
		{[]string{"account_uuids", "name", "value"}, `column "type" is missing from the header`},
		{[]string{"account_uuids", "type", "name", "Value", "value "}, `column "value" appears 2 times in the header (columns 4, 5)`},
	}
	for _, tt := range tests {
		_, err := Canonical().Bind(tt.header, Options{})
		var he *HeaderError
		if !errors.As(err, &he) || err.Error() != tt.want {
			t.Errorf("Bind(%q) = %v, want HeaderError %q", tt.header, err, tt.want)
		}
	}
	if _, err := Canonical().Bind([]string{"account_uuids", "type", "name", "value"}, Options{DefaultCountry: "Atlantis"}); err == nil || !strings.Contains(err.Error(), `"Atlantis" is not a known country`) {
		t.Errorf("bad default country: %v", err)
	}
}

func TestDefaultCountry(t *testing.T) {
	b, err := Canonical().Bind([]string{"account_uuids", "type", "name", "value", "country"}, Options{DefaultCountry: "au"})
	if err != nil {
		t.Fatal(err)
	}
	r := b.Map([]string{jane, "phone", "Office", "(02) 9876 5123", ""})[0]
	if !r.Valid() || r.Detail.Value != "+61298765123" || r.Detail.Country != "AU" {
		t.Errorf("default country AU: %+v %s", r.Detail, r.Error())
	}
	r = b.Map([]string{jane, "phone", "Office", "020 7946 0958", "GB"})[0]
	if !r.Valid() || r.Detail.Country != "GB" {
		t.Errorf("the row's country should win over the default: %+v %s", r.Detail, r.Error())
	}
}

func TestMappingSkipEmptyAndConstants(t *testing.T) {
	m := Mapping{
		AccountUUIDs: Column("Plannr ID"),
		Country:      OptionalColumn("Country of residence"),
		Details: []DetailSpec{
			{Type: Const("phone_number"), Name: Const("Mobile"), Value: Column("Mobile Tel"), IsPrimary: Const("true"), SkipEmpty: true},
			{Type: Const("phone_number"), Name: Const("Home"), Value: Column("Home Tel"), SkipEmpty: true},
			{Type: Const("email"), Name: Const("Personal email"), Value: Column("E-mail Address"), SkipEmpty: true},
		},
	}
	b, err := m.Bind([]string{"Plannr ID", "Mobile Tel", "Home Tel", "E-mail Address", "Country of residence"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := b.Map([]string{jane, "07911 123456", " ", "JANE@example.com", "United Kingdom"})
	if len(got) != 2 || got[0].Detail.Name != "Mobile" || !got[0].Detail.IsPrimary || got[1].Detail.Type != Email {
		t.Fatalf("Map made %+v", got)
	}
	got = b.Map([]string{jane, "07911 123456", "12", "", "Atlantis"})
	if len(got) != 2 || got[0].Valid() || !strings.Contains(got[0].Error(), `Country of residence: "Atlantis"`) {
		t.Fatalf("Map with a bad country made %+v", got)
	}
}

func TestKey(t *testing.T) {
	a := ContactDetail{Type: Email, Value: "Jane@Example.com", AccountUUIDs: []string{john, jane}}
	b := ContactDetail{Type: Email, Value: "jane@example.com", AccountUUIDs: []string{jane, john}}
	if a.Key() != b.Key() {
		t.Error("e-mails differing in case, accounts in another order: keys differ")
	}
	c := ContactDetail{Type: Email, Value: "jane@example.com", AccountUUIDs: []string{jane}}
	if a.Key() == c.Key() {
		t.Error("different account sets share a key")
	}
	p := ContactDetail{Type: PhoneNumber, Value: "jane@example.com", AccountUUIDs: []string{jane}}
	if p.Key() == c.Key() {
		t.Error("different types share a key")
	}
}

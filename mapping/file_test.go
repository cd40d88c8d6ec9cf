package mapping

import (
	"strings"
	"testing"
)

const exampleMapping = `# A wide export: one row per client.
account_uuids: {column: "Plannr ID"}
country: {column: "Country of residence"}
details:
  - {type: phone_number, name: Mobile, value: {column: "Mobile Tel"}, is_primary: true}
  - {type: phone_number, name: Home,   value: {column: "Home Tel"}}
  - {type: email, name: Personal email, value: {column: "E-mail Address"}, is_primary: true}
`

func TestParseFileExample(t *testing.T) {
	m, err := ParseFile([]byte(exampleMapping), "mapping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if m.AccountUUIDs.Column != "Plannr ID" || m.Country.Column != "Country of residence" || len(m.Details) != 3 {
		t.Fatalf("%+v", m)
	}
	d := m.Details[0]
	if d.Type.Const != "phone_number" || d.Name.Const != "Mobile" || d.Value.Column != "Mobile Tel" || d.IsPrimary.Const != "true" || !d.SkipEmpty {
		t.Errorf("details[0] = %+v", d)
	}
	b, err := m.Bind([]string{"Plannr ID", "Name", "Mobile Tel", "Home Tel", "E-mail Address", "Country of residence"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := b.Map([]string{jane, "Smith, Anne", "07400 123456", "", "anne@example.com", "UK"})
	if len(got) != 2 || got[0].Detail.Value != "+447400123456" || !got[0].Detail.IsPrimary || got[1].Detail.Type != Email {
		t.Errorf("Map = %+v", got)
	}
}

// JSON is YAML too.
func TestParseFileJSON(t *testing.T) {
	m, err := ParseFile([]byte(`{"account_uuids": {"column": "uuid"}, "details": [{"type": "email", "name": {"column": "Label"}, "value": {"column": "Mail"}, "is_primary": {"column": "Main"}}]}`), "m.json")
	if err != nil {
		t.Fatal(err)
	}
	if d := m.Details[0]; d.Name.Column != "Label" || d.IsPrimary.Column != "Main" {
		t.Errorf("%+v", d)
	}
}

func TestParseFileLookups(t *testing.T) {
	m, err := ParseFile([]byte("account_uuids: {lookup: {file: accounts.csv, key: \"Client Ref\"}}\ndetails: [{type: email, name: E, value: {column: Mail}}]\n"), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if l := m.AccountLookup; l == nil || l.File != "accounts.csv" || l.FileKey != "Client Ref" || l.Column != "Client Ref" || l.Pos != "m.yaml:1:25" {
		t.Errorf("file lookup %+v", l)
	}
	m, err = ParseFile([]byte("account_uuids:\n  lookup: {plannr: primary_email, column: \"E-mail Address\"}\ndetails: [{type: email, name: E, value: {column: Mail}}]\n"), "m.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if l := m.AccountLookup; l == nil || l.Plannr != LookupPrimaryEmail || l.Column != "E-mail Address" {
		t.Errorf("plannr lookup %+v", l)
	}
	b, err := m.Bind([]string{"E-mail Address", "Mail"}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := b.Map([]string{" Anne@Example.com ", "anne@example.com"})[0]
	if r.LookupKey != "Anne@Example.com" || !r.Valid() || r.Detail.AccountUUIDs != nil {
		t.Errorf("Map with a lookup = %+v", r)
	}
	r.Resolve([]string{jane}, nil)
	if len(r.Detail.AccountUUIDs) != 1 {
		t.Errorf("Resolve did not set the accounts")
	}
	if r := b.Map([]string{"", "anne@example.com"})[0]; r.Valid() || !strings.Contains(r.Error(), "E-mail Address: is empty: it is how the client is found") {
		t.Errorf("empty lookup key: %+v", r)
	}
}

func TestParseFileErrors(t *testing.T) {
	tests := []struct{ name, text, want string }{
		{"not YAML", "account_uuids: [\n", "m.yaml: not valid YAML or JSON"},
		{"empty", "", "m.yaml: is empty"},
		{"no accounts", "details: [{type: email, name: E, value: {column: M}}]\n", "m.yaml:1:1: account_uuids is missing"},
		{"no details", "account_uuids: {column: U}\n", "m.yaml:1:1: details must be a list"},
		{"details not a list", "account_uuids: {column: U}\ndetails: {type: email}\n", "m.yaml:2:10: details must be a list"},
		{"unknown key", "account_uuids: {column: U}\ndetials: []\n", `m.yaml:2:1: the mapping has an unknown key "detials"`},
		{"bad type", "account_uuids: {column: U}\ndetails:\n  - {type: fax, name: Fax, value: {column: F}}\n", `m.yaml:3:12: details[0].type: "fax" is not a contact detail type`},
		{"value a constant", "account_uuids: {column: U}\ndetails:\n  - {type: email, name: E, value: a@b.com}\n", "m.yaml:3:35: details[0].value must name a column"},
		{"no name", "account_uuids: {column: U}\ndetails:\n  - {type: email, value: {column: E}}\n", "m.yaml:3:5: details[0] has no name"},
		{"bad is_primary", "account_uuids: {column: U}\ndetails:\n  - {type: email, name: E, value: {column: E}, is_primary: often}\n", `details[0].is_primary: "often" is not true or false`},
		{"bad country", "account_uuids: {column: U}\ncountry: Atlantis\ndetails:\n  - {type: email, name: E, value: {column: E}}\n", `m.yaml:2:10: country: "Atlantis" is not a known country`},
		{"accounts a constant", "account_uuids: 7ed9c726-2d6d-45cf-87fc-6fae4f163072\ndetails: [{type: email, name: E, value: {column: M}}]\n", "m.yaml:1:16: account_uuids must name a column"},
		{"column key typo", "account_uuids: {colum: U}\ndetails: [{type: email, name: E, value: {column: M}}]\n", `m.yaml:1:17: account_uuids has an unknown key "colum": expected column`},
		{"lookup without key", "account_uuids: {lookup: {file: a.csv}}\ndetails: [{type: email, name: E, value: {column: M}}]\n", "account_uuids.lookup: key must name the column"},
		{"lookup by phone", "account_uuids: {lookup: {plannr: primary_phone, column: T}}\ndetails: [{type: email, name: E, value: {column: M}}]\n", `"primary_phone" is not a search Plannr offers here`},
		{"lookup both", "account_uuids: {lookup: {plannr: primary_email, file: a.csv, key: K}}\ndetails: [{type: email, name: E, value: {column: M}}]\n", "give either file or plannr"},
	}
	for _, tt := range tests {
		_, err := ParseFile([]byte(tt.text), "m.yaml")
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

// A column the file lacks is named with its place in the mapping file.
func TestBindNamesTheMappingPlace(t *testing.T) {
	m, err := ParseFile([]byte(exampleMapping), "mapping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Bind([]string{"Plannr ID", "Mobile Tel", "E-mail Address", "Country of residence"}, Options{})
	if err == nil || err.Error() != `mapping.yaml:6:56: column "Home Tel" is missing from the header` {
		t.Errorf("Bind: %v", err)
	}
}

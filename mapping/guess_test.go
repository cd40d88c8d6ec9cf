package mapping

import (
	"strings"
	"testing"
)

func TestGuess(t *testing.T) {
	header := []string{"Client Ref", "Title", "Surname", "Mobile Tel", "Home Tel", "Work", "E-mail Address", "Country of residence", "Notes"}
	sample := [][]string{
		{"C-1001", "Mrs", "Smith, Anne", "07400 123456", "", "020 7946 0958", "anne@example.com", "UK", "likes tea"},
		{"C-1002", "Mr", "Jones", "+44 7400 123457", "0117 496 0789", "", "bob@example.com", "United Kingdom", ""},
	}
	text := Guess(header, sample)
	for _, want := range []string{
		`account_uuids: {lookup: {file: accounts.csv, key: "Client Ref"}}`,
		`# account_uuids: {lookup: {plannr: primary_email, column: "E-mail Address"}}`,
		`country: {column: "Country of residence"}`,
		`- {type: phone_number, name: "Mobile", value: {column: "Mobile Tel"}, is_primary: true}`,
		`- {type: phone_number, name: "Home", value: {column: "Home Tel"}}`,
		`- {type: phone_number, name: "Work", value: {column: "Work"}}`, // by its cells
		`- {type: email, name: "Email", value: {column: "E-mail Address"}, is_primary: true}`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the guess lacks %s:\n%s", want, text)
		}
	}
	if strings.Contains(text, "Notes") && !strings.Contains(text, "# Other columns") || strings.Contains(text, `column: "Title"`) {
		t.Errorf("the guess maps a column it should not:\n%s", text)
	}
	// What it prints is a mapping file that works on the file it came from.
	m, err := ParseFile([]byte(text), "guess.yaml")
	if err != nil {
		t.Fatalf("the guess does not parse: %v\n%s", err, text)
	}
	if _, err := m.Bind(header, Options{}); err != nil {
		t.Errorf("the guess does not fit its file: %v", err)
	}
}

func TestGuessUUIDAndCanonical(t *testing.T) {
	text := Guess([]string{"ID", "Mail"}, [][]string{{jane, "a@example.com"}, {john + ";" + jane, "b@example.com"}})
	if !strings.Contains(text, `account_uuids: {column: "ID"}`) {
		t.Errorf("UUID column by its cells:\n%s", text)
	}
	canonical := Guess([]string{"account_uuids", "type", "name", "value", "country", "is_primary"}, nil)
	if !strings.Contains(canonical, "needs no mapping") {
		t.Errorf("canonical:\n%s", canonical)
	}
	if _, err := ParseFile([]byte(canonical), "c.yaml"); err != nil {
		t.Errorf("canonical guess: %v", err)
	}
}

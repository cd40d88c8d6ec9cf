package mapping

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Guess writes a starter mapping file for a file with this header, guessing from the column
// names and a sample of rows which columns hold account UUIDs, phone numbers, e-mail
// addresses and countries. It is for the user to read and edit, and says so.
func Guess(header []string, sample [][]string) string {
	kinds := make([]columnKind, len(header))
	for i, h := range header {
		var cells []string
		for _, row := range sample {
			if i < len(row) && strings.TrimSpace(row[i]) != "" {
				cells = append(cells, row[i])
			}
		}
		kinds[i] = guessColumn(h, cells)
	}
	var b strings.Builder
	b.WriteString("# A starter mapping guessed by plannr-import --print-mapping: read it, fix it, then run\n")
	b.WriteString("#   plannr-import --mapping THIS-FILE --dry-run INPUT.csv\n")
	if canonical(header) {
		b.WriteString("# This file already has the columns of the canonical format (account_uuids, type, name,\n")
		b.WriteString("# value): it needs no mapping. This is the built-in one, written out.\n")
		b.WriteString("account_uuids: {column: account_uuids}\ncountry: {column: country}\ndetails:\n")
		b.WriteString("  - {type: {column: type}, name: {column: name}, value: {column: value}, is_primary: {column: is_primary}}\n")
		return b.String()
	}
	q := strconv.Quote
	switch i := first(kinds, kindUUID); {
	case i >= 0:
		fmt.Fprintf(&b, "account_uuids: {column: %s}\n", q(header[i]))
	default:
		ref := first(kinds, kindRef)
		key := "Client Ref"
		if ref >= 0 {
			key = header[ref]
		}
		b.WriteString("# No column of Plannr account UUIDs was found. Find the client through a Plannr client\n")
		b.WriteString("# export (a CSV with this reference and an account UUID column)...\n")
		fmt.Fprintf(&b, "account_uuids: {lookup: {file: accounts.csv, key: %s}}\n", q(key))
		if e := first(kinds, kindEmail); e >= 0 {
			b.WriteString("# ...or by the client's primary e-mail address in Plannr:\n")
			fmt.Fprintf(&b, "# account_uuids: {lookup: {plannr: primary_email, column: %s}}\n", q(header[e]))
		}
	}
	if i := first(kinds, kindCountry); i >= 0 {
		fmt.Fprintf(&b, "country: {column: %s}\n", q(header[i]))
	} else {
		b.WriteString("# country: {column: \"Country\"}   # phone numbers without +CC are read as --default-country (GB)\n")
	}
	b.WriteString("details:\n")
	phones, emails := 0, 0
	for i, k := range kinds {
		var typ string
		var primary bool
		switch k {
		case kindPhone:
			typ, primary = "phone_number", phones == 0
			phones++
		case kindEmail:
			typ, primary = "email", emails == 0
			emails++
		default:
			continue
		}
		fmt.Fprintf(&b, "  - {type: %s, name: %s, value: {column: %s}", typ, q(detailName(header[i])), q(header[i]))
		if primary {
			b.WriteString(", is_primary: true")
		}
		b.WriteString("}\n")
	}
	if phones+emails == 0 {
		b.WriteString("  # No column looked like phone numbers or e-mail addresses: add one line per column, e.g.\n")
		b.WriteString("  - {type: email, name: \"Email\", value: {column: \"E-mail\"}}\n")
	}
	b.WriteString("# Other columns of the file are not read; they stay in the failed-rows file as they are.\n")
	return b.String()
}

type columnKind int

const (
	kindOther columnKind = iota
	kindUUID
	kindRef
	kindEmail
	kindPhone
	kindCountry
)

func first(kinds []columnKind, k columnKind) int {
	for i, x := range kinds {
		if x == k {
			return i
		}
	}
	return -1
}

func canonical(header []string) bool {
	have := map[string]bool{}
	for _, h := range header {
		have[normColumn(h)] = true
	}
	return have["account_uuids"] && have["type"] && have["name"] && have["value"]
}

// guessColumn says what a column holds: by its name first, then by most of its cells.
func guessColumn(name string, cells []string) columnKind {
	n := strings.ToLower(name)
	has := func(words ...string) bool {
		for _, w := range words {
			if strings.Contains(n, w) {
				return true
			}
		}
		return false
	}
	switch {
	case has("uuid", "plannr id", "plannr_id", "plannrid"):
		return kindUUID
	case has("mail"):
		return kindEmail
	case has("phone", "tel", "mobile", "mob ", "cell", "landline") && !has("fax", "type"):
		return kindPhone
	case has("country"):
		return kindCountry
	}
	if len(cells) > 0 {
		counts := map[columnKind]int{}
		for _, c := range cells {
			switch {
			case isUUIDList(c):
				counts[kindUUID]++
			case strings.Contains(c, "@"):
				counts[kindEmail]++
			case looksLikePhone(c):
				counts[kindPhone]++
			}
		}
		for _, k := range []columnKind{kindUUID, kindEmail, kindPhone} {
			if counts[k]*2 > len(cells) {
				return k
			}
		}
	}
	if has("ref", "client id", "client no", "client number", "account no", "customer id") {
		return kindRef
	}
	return kindOther
}

func isUUIDList(s string) bool {
	_, err := ParseAccountUUIDs(s)
	return err == nil
}

// looksLikePhone: mostly digits, at least seven of them, and little else.
func looksLikePhone(s string) bool {
	digits, other := 0, 0
	for _, r := range s {
		switch {
		case unicode.IsDigit(r):
			digits++
		case strings.ContainsRune(" +-()./", r):
		default:
			other++
		}
	}
	return digits >= 7 && other <= 4
}

// detailName makes a contact detail's name from its column's: "Mobile Tel" → "Mobile".
func detailName(column string) string {
	name := strings.TrimSpace(column)
	for _, suffix := range []string{" Tel", " Telephone", " Phone", " Number", " No", " Address"} {
		if len(name) > len(suffix) && strings.EqualFold(name[len(name)-len(suffix):], suffix) {
			name = strings.TrimSpace(name[:len(name)-len(suffix)])
		}
	}
	if strings.EqualFold(name, "e-mail") || strings.EqualFold(name, "email") {
		return "Email"
	}
	return name
}

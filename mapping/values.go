package mapping

import (
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ParseType reads a contact detail type, accepting the spellings people use in exports.
func ParseType(s string) (Type, error) {
	norm := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' || r == '_' {
			return -1
		}
		return unicode.ToLower(r)
	}, strings.TrimSpace(s))
	switch norm {
	case "email", "emailaddress", "mail":
		return Email, nil
	case "phonenumber", "phone", "mobile", "mobilephone", "mobilenumber", "telephone",
		"telephonenumber", "tel", "landline", "cell", "cellphone":
		return PhoneNumber, nil
	case "":
		return "", fmt.Errorf("is empty: use email or phone_number")
	}
	return "", fmt.Errorf("%s is not a contact detail type: use email or phone_number", quote(strings.TrimSpace(s)))
}

// ParseBool reads true/false, yes/no, y/n or 1/0 in any case; empty is false.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "y", "1", "t":
		return true, nil
	case "false", "no", "n", "0", "f", "":
		return false, nil
	}
	return false, fmt.Errorf("%s is not true or false (use yes/no, true/false or 1/0)", quote(s))
}

// ParseName trims a contact detail's name and checks Plannr's rules for it.
func ParseName(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch n := utf8.RuneCountInString(s); {
	case n == 0:
		return "", fmt.Errorf("is empty")
	case n > MaxNameLen:
		return "", fmt.Errorf("is %d characters long; Plannr allows at most %d", n, MaxNameLen)
	}
	return s, nil
}

// ParseEmail checks an e-mail address and returns it trimmed. "Name <addr>" and "mailto:"
// forms, common in CRM exports, are reduced to the address.
func ParseEmail(raw string) (string, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", fmt.Errorf("is empty")
	}
	if len(s) > 254 {
		return "", fmt.Errorf("is too long to be an e-mail address (%d characters; at most 254)", len(s))
	}
	if len(s) > 7 && strings.EqualFold(s[:7], "mailto:") {
		s = s[7:]
	}
	if strings.Count(s, "@") > 1 && strings.ContainsAny(s, ",; ") {
		return "", fmt.Errorf("%s holds more than one e-mail address: put each on its own row", quote(raw))
	}
	addr, err := mail.ParseAddress(s)
	if err != nil {
		return "", fmt.Errorf("%s is not a valid e-mail address", quote(raw))
	}
	if err := checkEmail(addr.Address); err != nil {
		return "", fmt.Errorf("%s is not a valid e-mail address: %v", quote(raw), err)
	}
	return addr.Address, nil
}

// checkEmail adds what a deliverable address needs beyond RFC 5322's grammar, which accepts
// quoted local parts and single-label domains that no client's mailbox has.
func checkEmail(addr string) error {
	at := strings.LastIndexByte(addr, '@')
	local, domain := addr[:at], addr[at+1:]
	if strings.ContainsAny(local, " \"\\") { // net/mail has unquoted a quoted local part
		return fmt.Errorf("quoted local parts are not accepted")
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return fmt.Errorf("the domain %s has no dot", quote(domain))
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || strings.HasPrefix(l, "-") || strings.HasSuffix(l, "-") {
			return fmt.Errorf("the domain %s is malformed", quote(domain))
		}
		for _, r := range l {
			if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				return fmt.Errorf("the domain %s has a %q in it", quote(domain), r)
			}
		}
	}
	if tld := labels[len(labels)-1]; utf8.RuneCountInString(tld) < 2 || strings.IndexFunc(tld, unicode.IsDigit) >= 0 {
		return fmt.Errorf("the domain %s has no valid top-level domain", quote(domain))
	}
	return nil
}

// ParseAccountUUIDs splits a cell of client account UUIDs (separated by ';', '|', ',' or
// spaces; a joint client has two) and checks each. UUIDs come back lower-cased, in order,
// without repeats.
func ParseAccountUUIDs(s string) ([]string, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool {
		return r == ';' || r == '|' || r == ',' || unicode.IsSpace(r)
	})
	if len(fields) == 0 {
		return nil, fmt.Errorf("is empty: give the client's Plannr account UUID")
	}
	var uuids []string
	var bad []string
	for _, f := range fields {
		u, ok := parseUUID(f)
		if !ok {
			bad = append(bad, quote(f))
			continue
		}
		if !slices.Contains(uuids, u) {
			uuids = append(uuids, u)
		}
	}
	switch len(bad) {
	case 0:
		return uuids, nil
	case 1:
		return nil, fmt.Errorf("%s is not a UUID", bad[0])
	}
	return nil, fmt.Errorf("%s are not UUIDs", strings.Join(bad, ", "))
}

// parseUUID accepts the 8-4-4-4-12 hex form, optionally in braces, in any case.
func parseUUID(s string) (string, bool) {
	if len(s) == 38 && s[0] == '{' && s[37] == '}' {
		s = s[1:37]
	}
	if len(s) != 36 {
		return "", false
	}
	for i := 0; i < 36; i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return "", false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return "", false
			}
		}
	}
	s = strings.ToLower(s)
	if s == "00000000-0000-0000-0000-000000000000" {
		return "", false
	}
	return s, true
}

package mapping

import (
	"strings"
	"testing"
)

func TestParsePhone(t *testing.T) {
	tests := []struct {
		raw, region string
		e164        string
		sentAs      string // region the number is sent as
		ext         string
	}{
		{"020 7946 0958", "GB", "+442079460958", "GB", ""},
		{"+44 (0)20 7946 0958", "GB", "+442079460958", "GB", ""},
		{"0044 20 7946 0958", "GB", "+442079460958", "GB", ""},
		{"(020) 7946-0958", "GB", "+442079460958", "GB", ""},
		{"０２０ ７９４６ ０９５８", "GB", "+442079460958", "GB", ""},
		{"  020-7946-0958  ", "GB", "+442079460958", "GB", ""},
		{"+442079460958", "GB", "+442079460958", "GB", ""},
		{"442079460958", "GB", "+442079460958", "GB", ""},
		{"7911123456", "GB", "+447911123456", "GG", ""}, // Excel dropped the leading zero
		{"07911 123456", "GB", "+447911123456", "GG", ""},
		{"tel:+44-20-8123-4567", "GB", "+442081234567", "GB", ""},
		{"0333 090 3630", "GB", "+443330903630", "GB", ""},
		{"020 8123 4567 ext. 123", "GB", "+442081234567", "GB", "123"},
		{"020 8123 4567 x123", "GB", "+442081234567", "GB", "123"},
		{"+44 20 8123 4567;ext=99", "GB", "+442081234567", "GB", "99"},
		// A +CC number carries its own country, whatever the row says.
		{"+44 20 8123 4567", "FR", "+442081234567", "GB", ""},
		{"+61 2 9876 5123", "GB", "+61298765123", "AU", ""},
		{"(02) 9876 5123", "AU", "+61298765123", "AU", ""},
		{"+1 (415) 555-2671", "GB", "+14155552671", "US", ""},
		{"01 23 45 67 89", "FR", "+33123456789", "FR", ""},
		{"07797 123456", "GB", "+447797123456", "JE", ""},
		{"+353 87 123 4567", "GB", "+353871234567", "IE", ""},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			p, err := ParsePhone(tt.raw, tt.region)
			if err != nil {
				t.Fatalf("ParsePhone(%q, %s): %v", tt.raw, tt.region, err)
			}
			if p.E164 != tt.e164 || p.Region != tt.sentAs || p.Extension != tt.ext {
				t.Errorf("ParsePhone(%q, %s) = %+v, want %s %s ext %q", tt.raw, tt.region, p, tt.e164, tt.sentAs, tt.ext)
			}
		})
	}
}

func TestParsePhoneInvalid(t *testing.T) {
	tests := []struct{ raw, region, want string }{
		{"", "GB", "is empty"},
		{"   ", "GB", "is empty"},
		{"abc", "GB", `"abc" is not a phone number`},
		{"12", "GB", "wrong number of digits"},
		{"07700 900123", "GB", "no such number range"}, // Ofcom's drama range
		{"01632 960123", "GB", "no such number range"},
		{"+44 20 7946 09581234", "GB", "wrong number of digits"},
		{"020 7946 0958", "AU", "not a valid AU phone number"},
		{"1.5E+11", "GB", "scientific notation"},
		{"4.47911E+11", "GB", "scientific notation"},
		{"020 8123 4567 / 020 8123 4568", "GB", "more than one phone number"},
		{"07911 123456; 020 8123 4567", "GB", "more than one phone number"},
		{"07911123456 (mobile)", "GB", "has words in it"},
		{"+999 123 456", "GB", "unknown country calling code"},
		{strings.Repeat("1", 300), "GB", "too long"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			p, err := ParsePhone(tt.raw, tt.region)
			if err == nil {
				t.Fatalf("ParsePhone(%q) = %+v, want an error", tt.raw, p)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("ParsePhone(%q) error %q, want it to say %q", tt.raw, err, tt.want)
			}
		})
	}
}

func TestParseCountry(t *testing.T) {
	tests := []struct{ in, want string }{
		{"GB", "GB"}, {"gb", "GB"}, {"UK", "GB"}, {"uk", "GB"}, {"U.K.", "GB"}, {"GBR", "GB"},
		{"United Kingdom", "GB"}, {"england", "GB"}, {"Scotland", "GB"}, {"Great Britain", "GB"},
		{" Australia ", "AU"}, {"aus", "AU"}, {"USA", "US"}, {"United States", "US"},
		{"Ireland", "IE"}, {"The Netherlands", "NL"}, {"Holland", "NL"}, {"Jersey", "JE"},
		{"Isle of Man", "IM"}, {"UAE", "AE"}, {"Hong Kong", "HK"}, {"Côte d'Ivoire", "CI"},
		{"deu", "DE"}, {"Germany", "DE"},
	}
	for _, tt := range tests {
		got, err := ParseCountry(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseCountry(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	for _, bad := range []string{"Narnia", "XX", "EU", "1", "826", "Channel Islands", strings.Repeat("France", 1000)} {
		if got, err := ParseCountry(bad); err == nil {
			t.Errorf("ParseCountry(%q) = %q, want an error", bad, got)
		} else if !strings.Contains(err.Error(), "is not a known country") {
			t.Errorf("ParseCountry(%q) error %q", bad, err)
		}
	}
}

func TestParseEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"jane.doe@example.co.uk", "jane.doe@example.co.uk"},
		{"  Jane.Doe@Example.COM ", "Jane.Doe@Example.COM"},
		{"mailto:jane@example.com", "jane@example.com"},
		{"Jane Doe <jane@example.com>", "jane@example.com"},
		{"o'brien+isa@example.org", "o'brien+isa@example.org"},
		{"anne@bücher.de", "anne@bücher.de"},
	}
	for _, tt := range tests {
		got, err := ParseEmail(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseEmail(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	bad := []struct{ in, want string }{
		{"", "is empty"},
		{"jane.example.com", "not a valid e-mail address"},
		{"jane@example", "has no dot"},
		{"jane@@example.com", "not a valid e-mail address"},
		{"jane@example..com", "not a valid e-mail address"},
		{"jane@-example.com", "malformed"},
		{"jane@example.c", "top-level domain"},
		{"jane@exa_mple.com", "has a '_'"},
		{"jane@example.com; john@example.com", "more than one e-mail address"},
		{`"jane doe"@example.com`, "quoted local parts"},
		{"jane doe@example.com", "not a valid e-mail address"},
		{strings.Repeat("a", 250) + "@example.com", "too long"},
	}
	for _, tt := range bad {
		got, err := ParseEmail(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseEmail(%q) = %q, %v; want an error saying %q", tt.in, got, err, tt.want)
		}
	}
}

func TestParseAccountUUIDs(t *testing.T) {
	const a, b = "7ed9c726-2d6d-45cf-87fc-6fae4f163072", "fc9031fc-3155-43b9-8cbc-1d91a84f3c94"
	tests := []struct {
		in   string
		want []string
	}{
		{a, []string{a}},
		{"  " + strings.ToUpper(a) + " ", []string{a}},
		{a + ";" + b, []string{a, b}},
		{a + " | " + b, []string{a, b}},
		{a + " " + b, []string{a, b}},
		{a + ", " + b, []string{a, b}},
		{a + ";" + a, []string{a}},
		{"{" + a + "}", []string{a}},
	}
	for _, tt := range tests {
		got, err := ParseAccountUUIDs(tt.in)
		if err != nil || strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("ParseAccountUUIDs(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	bad := []struct{ in, want string }{
		{"", "is empty"},
		{" ; ", "is empty"},
		{"12345", `"12345" is not a UUID`},
		{a + ";not-a-uuid", `"not-a-uuid" is not a UUID`},
		{"7ed9c726-2d6d-45cf-87fc-6fae4f16307", "is not a UUID"},
		{"7ed9c7262d6d45cf87fc6fae4f163072", "is not a UUID"},
		{"7ed9c726-2d6d-45cf-87fc-6fae4f16307g", "is not a UUID"},
		{"00000000-0000-0000-0000-000000000000", "is not a UUID"},
		{"x y", `"x", "y" are not UUIDs`},
	}
	for _, tt := range bad {
		got, err := ParseAccountUUIDs(tt.in)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParseAccountUUIDs(%q) = %q, %v; want an error saying %q", tt.in, got, err, tt.want)
		}
	}
}

func TestParseTypeAndBool(t *testing.T) {
	types := map[string]Type{
		"email": Email, "EMAIL": Email, "e-mail": Email, "E-Mail": Email, " Email Address ": Email,
		"phone_number": PhoneNumber, "phone": PhoneNumber, "Mobile": PhoneNumber,
		"telephone": PhoneNumber, "Phone Number": PhoneNumber, "TEL": PhoneNumber,
	}
	for in, want := range types {
		if got, err := ParseType(in); err != nil || got != want {
			t.Errorf("ParseType(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"fax", "", "address", "emails"} {
		if got, err := ParseType(bad); err == nil {
			t.Errorf("ParseType(%q) = %q, want an error", bad, got)
		}
	}
	if _, err := ParseType("fax"); err == nil || !strings.Contains(err.Error(), `"fax" is not a contact detail type`) {
		t.Errorf("ParseType(fax) error %v does not name the value", err)
	}
	bools := map[string]bool{
		"true": true, "TRUE": true, "Yes": true, "y": true, "1": true, " Y ": true,
		"false": false, "No": false, "n": false, "0": false, "": false, "  ": false,
	}
	for in, want := range bools {
		if got, err := ParseBool(in); err != nil || got != want {
			t.Errorf("ParseBool(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"maybe", "2", "yes please", "primary"} {
		if _, err := ParseBool(bad); err == nil {
			t.Errorf("ParseBool(%q) succeeded, want an error", bad)
		}
	}
}

func TestParseName(t *testing.T) {
	if got, err := ParseName("  Work phone \t"); err != nil || got != "Work phone" {
		t.Errorf("ParseName = %q, %v", got, err)
	}
	if _, err := ParseName(strings.Repeat("é", 255)); err != nil {
		t.Errorf("255 characters (510 bytes) should be allowed: %v", err)
	}
	if _, err := ParseName(strings.Repeat("a", 256)); err == nil || !strings.Contains(err.Error(), "256 characters") {
		t.Errorf("256 characters: %v", err)
	}
	if _, err := ParseName(" "); err == nil {
		t.Error("blank name accepted")
	}
}

package mapping

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"

	"github.com/nyaruka/phonenumbers"
)

// Phone is a phone number as libphonenumber validated it.
type Phone struct {
	// E164 is the number without its extension, e.g. "+442079460958".
	E164 string
	// Region is the ISO alpha-2 region the number is sent as: "GB" when Plannr would accept
	// the number as a GB number, otherwise the region libphonenumber places it in.
	Region string
	// Extension is the extension written after the number, if any ("123").
	Extension string
}

// maxPhoneLen bounds a phone cell: libphonenumber refuses anything over 250 characters anyway.
const maxPhoneLen = 250

var (
	excelScientific = regexp.MustCompile(`^[0-9]+(\.[0-9]+)?[eE]\+?[0-9]+$`)
	// Two numbers in one cell: "020 7946 0958 / 07700 900123", "…; …", "… or …".
	numberSeparator = regexp.MustCompile(`\s*(?:/|;|,|\bor\b|&)\s*`)
)

// ParsePhone parses a phone number written in any common way ("020 7946 0958",
// "+44 (0)20 7946 0958", "0044 20 7946 0958", full-width digits, "x123" extensions) as a
// number of country (an ISO alpha-2 code), and requires it to be a valid number, not merely
// one of a possible length. A number written with a leading +CC is read as its own country's.
func ParsePhone(raw, country string) (Phone, error) {
	s := strings.TrimSpace(raw)
	switch {
	case s == "":
		return Phone{}, fmt.Errorf("is empty")
	case len(s) > maxPhoneLen:
		return Phone{}, fmt.Errorf("is too long to be a phone number (%d characters)", len(s))
	case strings.ContainsAny(s, "eE") && excelScientific.MatchString(s):
		return Phone{}, fmt.Errorf("%s is a number in scientific notation, so its digits are lost: format the column as text in the spreadsheet and export again", quote(s))
	}
	if strings.ContainsAny(s, "/;,&oO") && countDigitGroups(numberSeparator.Split(s, -1)) > 1 {
		return Phone{}, fmt.Errorf("%s holds more than one phone number: put each on its own row", quote(s))
	}
	num, err := phonenumbers.Parse(s, country)
	if err != nil {
		return Phone{}, fmt.Errorf("%s is not a phone number (%s)", quote(s), phoneParseReason(err))
	}
	// IsValidNumber is IsValidNumberForRegion of the number's own region: look that up once.
	region := phonenumbers.GetRegionCodeForNumber(num)
	if !phonenumbers.IsValidNumberForRegion(num, region) {
		switch {
		case hasLetters(s):
			return Phone{}, fmt.Errorf("%s is not a valid phone number: it has words in it; keep only the number (an extension may follow as \"x123\")", quote(s))
		case !phonenumbers.IsPossibleNumber(num):
			return Phone{}, fmt.Errorf("%s is not a valid %s phone number: it has the wrong number of digits", quote(s), regionOf(num, country))
		default:
			return Phone{}, fmt.Errorf("%s is not a valid %s phone number: no such number range is in use", quote(s), regionOf(num, country))
		}
	}
	p := Phone{
		E164:      phonenumbers.Format(num, phonenumbers.E164),
		Region:    region,
		Extension: num.GetExtension(),
	}
	// Jersey, Guernsey and the Isle of Man share +44; libphonenumber places some UK ranges
	// there. Plannr judges a plain string as a GB number, so use GB wherever that passes.
	if region != "GB" && num.GetCountryCode() == 44 && phonenumbers.IsValidNumberForRegion(num, "GB") {
		p.Region = "GB"
	}
	return p, nil
}

// countDigitGroups counts the parts that look like a phone number of their own.
func countDigitGroups(parts []string) int {
	n := 0
	for _, p := range parts {
		digits := 0
		for _, r := range p {
			if unicode.IsDigit(r) {
				digits++
			}
		}
		if digits >= 6 {
			n++
		}
	}
	return n
}

// hasLetters reports letters other than those of an extension marker or a tel: prefix.
func hasLetters(s string) bool {
	s = strings.ToLower(s)
	for _, marker := range []string{"tel:", "extension", "ext.", "ext", "x"} {
		s = strings.ReplaceAll(s, marker, "")
	}
	return strings.IndexFunc(s, unicode.IsLetter) >= 0
}

func regionOf(num *phonenumbers.PhoneNumber, fallback string) string {
	if r := phonenumbers.GetRegionCodeForCountryCode(int(num.GetCountryCode())); r != "" && r != "ZZ" {
		return r
	}
	return fallback
}

func phoneParseReason(err error) string {
	switch err {
	case phonenumbers.ErrInvalidCountryCode:
		return "unknown country calling code"
	case phonenumbers.ErrNotANumber:
		return "no digits that make a number"
	case phonenumbers.ErrTooShortNSN, phonenumbers.ErrTooShortAfterIDD:
		return "too short"
	case phonenumbers.ErrNumTooLong:
		return "too long"
	}
	return err.Error()
}

package mapping

import (
	"fmt"
	"strings"

	"github.com/biter777/countries"
	"github.com/nyaruka/phonenumbers"
)

// maxCountryLen bounds what is handed to the country table: its lookup is quadratic in the
// length of the text, and no country name is anywhere near this long.
const maxCountryLen = 64

// ParseCountry reads a country as users write it: ISO 3166 alpha-2 or alpha-3 in any case,
// an English country name, or "UK". It returns the alpha-2 region code libphonenumber uses.
func ParseCountry(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", fmt.Errorf("is empty")
	}
	if len(s) > maxCountryLen {
		return "", fmt.Errorf("%s is not a known country", quote(s))
	}
	name := s
	if len(name) > 4 && strings.EqualFold(name[:4], "the ") {
		name = name[4:] // "The Netherlands", "the Bahamas"
	}
	code := countries.ByName(name)
	region := code.Alpha2()
	// ByName also knows pseudo-codes (XX, XK) and withdrawn ones; only a region that
	// libphonenumber can number is of use here.
	if !code.IsValid() || len(region) != 2 || phonenumbers.GetCountryCodeForRegion(region) == 0 {
		return "", fmt.Errorf("%s is not a known country", quote(s))
	}
	return region, nil
}

// quote shows a user's text in a message: quoted, and cut short when it is long.
func quote(s string) string {
	const max = 40
	if r := []rune(s); len(r) > max {
		s = string(r[:max]) + "…"
	}
	return fmt.Sprintf("%q", s)
}

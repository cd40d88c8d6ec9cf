package mapping

import (
	"slices"
	"strings"
)

// Type is the kind of a contact detail, as Plannr names it.
type Type string

// The two contact detail types Plannr accepts.
const (
	Email       Type = "email"
	PhoneNumber Type = "phone_number"
)

// MaxNameLen is Plannr's limit on a contact detail's name, in characters.
const MaxNameLen = 255

// ContactDetail is one validated, normalised contact detail, ready to be sent to
// POST /api/v2/contact-details.
type ContactDetail struct {
	Type Type
	Name string
	// Value is the E.164 form of a phone number, or the e-mail address as written (trimmed).
	Value string
	// Country is the ISO 3166 alpha-2 region a phone number is sent as: "GB" for every
	// number Plannr accepts as a GB number, otherwise the number's own; empty for e-mails.
	Country   string
	IsPrimary bool
	// AccountUUIDs are the owning client accounts, lower-cased, in file order, without repeats.
	AccountUUIDs []string
}

// Key identifies a contact detail for duplicate detection: the same type, the same normalised
// value (e-mails compared case-insensitively) and the same set of accounts, in any order.
func (d ContactDetail) Key() string {
	return Key(d.Type, d.Value, d.AccountUUIDs)
}

// Key builds the duplicate-detection key of a detail from its parts. value must already be
// normalised (E.164 for phones); account UUIDs must be lower-case.
func Key(t Type, value string, accountUUIDs []string) string {
	if t == Email {
		value = strings.ToLower(value)
	}
	accounts := slices.Clone(accountUUIDs)
	slices.Sort(accounts)
	accounts = slices.Compact(accounts)
	var b strings.Builder
	b.Grow(len(t) + len(value) + 37*len(accounts) + 2)
	b.WriteString(string(t))
	b.WriteByte(0)
	b.WriteString(value)
	for _, a := range accounts {
		b.WriteByte(0)
		b.WriteString(a)
	}
	return b.String()
}

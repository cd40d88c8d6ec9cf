package mapping

import (
	"fmt"
	"strings"
)

// Source is where one field of a contact detail comes from: a column of the input, or a
// constant written in the mapping.
type Source struct {
	// Column names a column of the input, matched case-insensitively after trimming.
	Column string
	// Const is the value used when Column is empty.
	Const string
	// Optional lets the column be missing from the file; it then reads as empty.
	Optional bool
	// Pos is where a mapping file sets the source ("mapping.yaml:4:12"), for messages.
	Pos string
}

// Column is a Source that reads the named column.
func Column(name string) Source { return Source{Column: name} }

// OptionalColumn is a Source that reads the named column if the file has it.
func OptionalColumn(name string) Source { return Source{Column: name, Optional: true} }

// Const is a Source that is always v.
func Const(v string) Source { return Source{Const: v} }

// DetailSpec says how to make one contact detail from a row.
type DetailSpec struct {
	Type, Name, Value, IsPrimary Source
	// Country overrides the row's country for this detail when it gives one.
	Country Source
	// SkipEmpty makes an empty value cell produce no detail, instead of an invalid one: a
	// wide export leaves the home phone of a client who has none empty.
	SkipEmpty bool
}

// Mapping describes how the rows of a file become contact details.
type Mapping struct {
	AccountUUIDs Source
	// AccountLookup, when set, replaces AccountUUIDs: the accounts are found from a key.
	AccountLookup *Lookup
	// Country is the row's country, used for phone numbers written without +CC.
	Country Source
	Details []DetailSpec
}

// Canonical is the built-in mapping of the canonical format: one contact detail per row,
// in the columns account_uuids, type, name, value and the optional country and is_primary.
func Canonical() Mapping {
	return Mapping{
		AccountUUIDs: Column("account_uuids"),
		Country:      OptionalColumn("country"),
		Details: []DetailSpec{{
			Type:      Column("type"),
			Name:      Column("name"),
			Value:     Column("value"),
			IsPrimary: OptionalColumn("is_primary"),
		}},
	}
}

// Options are the run-wide settings that mapping a record needs.
type Options struct {
	// DefaultCountry is the country of a phone number whose row names none. It is read like
	// the country column ("GB", "gbr", "United Kingdom"); empty means GB.
	DefaultCountry string
}

// HeaderError is a problem with a file's header that stops the whole file being mapped.
type HeaderError struct {
	Column  string
	Problem string
	// Pos is where the mapping file names the column, if a mapping file does.
	Pos string
}

func (e *HeaderError) Error() string {
	msg := fmt.Sprintf("column %q %s", e.Column, e.Problem)
	if e.Pos != "" {
		msg = e.Pos + ": " + msg
	}
	return msg
}

// Binding is a Mapping resolved against one file's header.
type Binding struct {
	accounts, country field
	lookup            *Lookup
	details           []detailBinding
	defaultRegion     string
}

type detailBinding struct {
	typ, name, value, isPrimary, country field
	skipEmpty                            bool
}

// field is a Source resolved to a column index (or -1 for a constant or a missing optional
// column) and the label its problems are reported under.
type field struct {
	index int
	value string
	label string
}

func (f field) get(record []string) string {
	if f.index >= 0 {
		if f.index < len(record) {
			return record[f.index]
		}
		return ""
	}
	return f.value
}

func (f field) isSet() bool { return f.index >= 0 || f.value != "" }

// Bind resolves m against header. It fails with a *HeaderError when a required column is
// missing or a column it reads appears more than once, and with a plain error when
// opts.DefaultCountry is not a country.
func (m Mapping) Bind(header []string, opts Options) (*Binding, error) {
	b := &Binding{defaultRegion: "GB"}
	if opts.DefaultCountry != "" {
		region, err := ParseCountry(opts.DefaultCountry)
		if err != nil {
			return nil, fmt.Errorf("default country %v", err)
		}
		b.defaultRegion = region
	}
	columns := make(map[string][]int, len(header))
	for i, h := range header {
		k := normColumn(h)
		columns[k] = append(columns[k], i)
	}
	resolve := func(s Source, name string) (field, error) {
		if s.Column == "" {
			return field{index: -1, value: s.Const, label: name}, nil
		}
		f := field{index: -1, label: strings.TrimSpace(s.Column)}
		switch idx := columns[normColumn(s.Column)]; len(idx) {
		case 0:
			if !s.Optional {
				return f, &HeaderError{Column: f.label, Problem: "is missing from the header", Pos: s.Pos}
			}
		case 1:
			f.index = idx[0]
		default:
			return f, &HeaderError{Column: f.label, Problem: fmt.Sprintf("appears %d times in the header (columns %s)", len(idx), columnList(idx)), Pos: s.Pos}
		}
		return f, nil
	}
	var err error
	accounts := m.AccountUUIDs
	if m.AccountLookup != nil {
		b.lookup = m.AccountLookup
		accounts = Source{Column: m.AccountLookup.Column, Pos: m.AccountLookup.Pos}
	}
	if b.accounts, err = resolve(accounts, "account_uuids"); err != nil {
		return nil, err
	}
	if b.country, err = resolve(m.Country, "country"); err != nil {
		return nil, err
	}
	for _, d := range m.Details {
		var db detailBinding
		for _, r := range []struct {
			dst  *field
			src  Source
			name string
		}{
			{&db.typ, d.Type, "type"},
			{&db.name, d.Name, "name"},
			{&db.value, d.Value, "value"},
			{&db.isPrimary, d.IsPrimary, "is_primary"},
			{&db.country, d.Country, "country"},
		} {
			if *r.dst, err = resolve(r.src, r.name); err != nil {
				return nil, err
			}
		}
		db.skipEmpty = d.SkipEmpty
		b.details = append(b.details, db)
	}
	return b, nil
}

func normColumn(s string) string {
	return strings.ToLower(strings.TrimSpace(strings.TrimPrefix(s, "\ufeff")))
}

func columnList(idx []int) string {
	s := make([]string, len(idx))
	for i, x := range idx {
		s[i] = fmt.Sprint(x + 1)
	}
	return strings.Join(s, ", ")
}

// Result is what one DetailSpec made of one record: a valid detail, or the problems that
// stop it being sent.
type Result struct {
	Detail ContactDetail
	// Problems are "column: what is wrong" lines; empty when Detail is valid.
	Problems []string
	// Warnings say what was changed on the way that the user should know of.
	Warnings []string
	// RawValue is the value cell as the file had it, for reporting an invalid detail.
	RawValue string
	// LookupKey is the row's key to its accounts when the mapping has a Lookup; the caller
	// resolves it and fills Detail.AccountUUIDs (see Resolve).
	LookupKey string
}

// Resolve sets the accounts found for a Lookup, or the problem that none could be.
func (r *Result) Resolve(accounts []string, problem error) {
	if problem != nil {
		r.Problems = append([]string{"account_uuids: " + problem.Error()}, r.Problems...)
		return
	}
	r.Detail.AccountUUIDs = accounts
}

// Lookup is the binding's account lookup, or nil when the file holds account UUIDs.
func (b *Binding) Lookup() *Lookup { return b.lookup }

// Valid reports whether the detail can be sent.
func (r Result) Valid() bool { return len(r.Problems) == 0 }

// Error joins the problems into one message.
func (r Result) Error() string { return strings.Join(r.Problems, "; ") }

// Map validates and normalises one record, returning a Result for every contact detail the
// record makes (for the canonical mapping, exactly one).
func (b *Binding) Map(record []string) []Result {
	accountCell := b.accounts.get(record)
	var accounts []string
	var accountsErr error
	lookupKey := strings.TrimSpace(accountCell)
	switch {
	case b.lookup == nil:
		accounts, accountsErr = ParseAccountUUIDs(accountCell)
		lookupKey = ""
	case lookupKey == "":
		accountsErr = fmt.Errorf("is empty: it is how the client is found")
	}
	rowCountry := b.country.get(record)

	results := make([]Result, 0, len(b.details))
	for _, d := range b.details {
		raw := d.value.get(record)
		if d.skipEmpty && strings.TrimSpace(raw) == "" {
			continue
		}
		r := Result{RawValue: raw, LookupKey: lookupKey}
		problem := func(f field, err error) {
			r.Problems = append(r.Problems, f.label+": "+err.Error())
		}
		if accountsErr != nil {
			problem(b.accounts, accountsErr)
		}
		typ, err := ParseType(d.typ.get(record))
		if err != nil {
			problem(d.typ, err)
		}
		name, err := ParseName(d.name.get(record))
		if err != nil {
			problem(d.name, err)
		}
		primary, err := ParseBool(d.isPrimary.get(record))
		if err != nil {
			problem(d.isPrimary, err)
		}
		r.Detail = ContactDetail{Type: typ, Name: name, IsPrimary: primary, AccountUUIDs: accounts}

		switch typ {
		case Email:
			if r.Detail.Value, err = ParseEmail(raw); err != nil {
				problem(d.value, err)
			}
		case PhoneNumber:
			countryField, countryCell := b.country, rowCountry
			if d.country.isSet() && strings.TrimSpace(d.country.get(record)) != "" {
				countryField, countryCell = d.country, d.country.get(record)
			}
			region := b.defaultRegion
			if strings.TrimSpace(countryCell) != "" {
				if region, err = ParseCountry(countryCell); err != nil {
					problem(countryField, err)
					break // the number cannot be judged without its country
				}
			}
			p, err := ParsePhone(raw, region)
			if err != nil {
				problem(d.value, err)
				break
			}
			r.Detail.Value, r.Detail.Country = p.E164, p.Region
			if p.Extension != "" && name != "" {
				r.Detail.Name = fmt.Sprintf("%s (ext. %s)", name, p.Extension)
				if _, err := ParseName(r.Detail.Name); err != nil {
					problem(d.name, fmt.Errorf("with the extension added it %v", err))
				} else {
					r.Warnings = append(r.Warnings, fmt.Sprintf("extension %s moved into the name: Plannr stores no extensions", p.Extension))
				}
			}
		}
		results = append(results, r)
	}
	return results
}

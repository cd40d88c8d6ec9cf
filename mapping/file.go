package mapping

import (
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Lookup finds a row's client accounts from something else the row holds, when the file
// has no Plannr UUIDs: a join through a CSV of legacy reference → account UUID, or a search
// of Plannr's clients by primary e-mail address. Mapping only reads the key from the row
// (Result.LookupKey); the importer, which owns files and the network, resolves it.
type Lookup struct {
	// Column is the input column holding the key.
	Column string
	// File is a CSV of accounts (a Plannr client export), FileKey its column holding the
	// key and FileUUID its column holding the account UUID ("" to take the column whose
	// name says uuid).
	File, FileKey, FileUUID string
	// Plannr names the account field to search Plannr by: "primary_email".
	Plannr string
	// Pos is where the mapping file sets the lookup.
	Pos string
}

// LookupPrimaryEmail is the Plannr search Lookup.Plannr supports.
const LookupPrimaryEmail = "primary_email"

// ParseFile reads a mapping file: YAML, or JSON (which is YAML too). name is the file's path
// as the user gave it, for messages: every problem names its place, "mapping.yaml:4:12".
//
//	account_uuids: {column: "Plannr ID"}
//	country: {column: "Country of residence"}
//	details:
//	  - {type: phone_number, name: Mobile, value: {column: "Mobile Tel"}, is_primary: true}
//	  - {type: email, name: Personal email, value: {column: "E-mail Address"}}
func ParseFile(data []byte, name string) (*Mapping, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: not valid YAML or JSON: %v", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: is empty: it needs account_uuids and details", name)
	}
	p := &fileParser{name: name}
	root := doc.Content[0]
	fields, err := p.object(root, "the mapping", "account_uuids", "country", "details")
	if err != nil {
		return nil, err
	}
	m := &Mapping{}
	switch n := fields["account_uuids"]; {
	case n == nil:
		return nil, p.errorf(root, "account_uuids is missing: say where the client's account UUIDs come from, e.g. account_uuids: {column: \"Plannr ID\"}")
	default:
		if m.AccountUUIDs, m.AccountLookup, err = p.accounts(n); err != nil {
			return nil, err
		}
	}
	if n := fields["country"]; n != nil {
		if m.Country, err = p.source(n, "country", false); err != nil {
			return nil, err
		}
		if m.Country.Column == "" {
			if _, err := ParseCountry(m.Country.Const); err != nil {
				return nil, p.errorf(n, "country: %v", err)
			}
		}
		m.Country.Optional = false
	}
	details := fields["details"]
	if details == nil || details.Kind != yaml.SequenceNode || len(details.Content) == 0 {
		where := root
		if details != nil {
			where = details
		}
		return nil, p.errorf(where, "details must be a list of the contact details to make from each row, e.g. - {type: email, name: Email, value: {column: \"E-mail\"}}")
	}
	for i, n := range details.Content {
		d, err := p.detail(n, fmt.Sprintf("details[%d]", i))
		if err != nil {
			return nil, err
		}
		m.Details = append(m.Details, d)
	}
	return m, nil
}

type fileParser struct{ name string }

func (p *fileParser) pos(n *yaml.Node) string {
	return fmt.Sprintf("%s:%d:%d", p.name, n.Line, n.Column)
}

func (p *fileParser) errorf(n *yaml.Node, format string, a ...any) error {
	return fmt.Errorf("%s: %s", p.pos(n), fmt.Sprintf(format, a...))
}

// object reads a YAML mapping whose keys must be among known.
func (p *fileParser) object(n *yaml.Node, what string, known ...string) (map[string]*yaml.Node, error) {
	if n.Kind != yaml.MappingNode {
		return nil, p.errorf(n, "%s must be a mapping of %s", what, strings.Join(known, ", "))
	}
	fields := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		found := false
		for _, want := range known {
			if k.Value == want {
				found = true
			}
		}
		if !found {
			return nil, p.errorf(k, "%s has an unknown key %q: expected %s", what, k.Value, strings.Join(known, ", "))
		}
		if _, dup := fields[k.Value]; dup {
			return nil, p.errorf(k, "%s sets %q twice", what, k.Value)
		}
		fields[k.Value] = v
	}
	return fields, nil
}

// source reads a field: a constant (a plain value) or {column: NAME}.
func (p *fileParser) source(n *yaml.Node, what string, columnOnly bool) (Source, error) {
	switch n.Kind {
	case yaml.ScalarNode:
		if columnOnly {
			return Source{}, p.errorf(n, "%s must name a column of the file: %s: {column: \"…\"}", what, what)
		}
		return Source{Const: n.Value, Pos: p.pos(n)}, nil
	case yaml.MappingNode:
		fields, err := p.object(n, what, "column")
		if err != nil {
			return Source{}, err
		}
		c := fields["column"]
		if c == nil || c.Kind != yaml.ScalarNode || strings.TrimSpace(c.Value) == "" {
			return Source{}, p.errorf(n, "%s: column must name a column of the file", what)
		}
		return Source{Column: c.Value, Pos: p.pos(c)}, nil
	}
	return Source{}, p.errorf(n, "%s must be a value or {column: \"…\"}", what)
}

func (p *fileParser) accounts(n *yaml.Node) (Source, *Lookup, error) {
	if n.Kind == yaml.MappingNode && len(n.Content) >= 2 && n.Content[0].Value == "lookup" {
		fields, err := p.object(n, "account_uuids", "lookup")
		if err != nil {
			return Source{}, nil, err
		}
		l := fields["lookup"]
		lf, err := p.object(l, "account_uuids.lookup", "file", "key", "uuid", "column", "plannr")
		if err != nil {
			return Source{}, nil, err
		}
		str := func(k string) string {
			if v := lf[k]; v != nil {
				return v.Value
			}
			return ""
		}
		look := &Lookup{Column: str("column"), File: str("file"), FileKey: str("key"), FileUUID: str("uuid"), Plannr: str("plannr"), Pos: p.pos(l)}
		switch {
		case look.File != "" && look.Plannr != "":
			return Source{}, nil, p.errorf(l, "account_uuids.lookup: give either file or plannr, not both")
		case look.File != "":
			if look.FileKey == "" {
				return Source{}, nil, p.errorf(l, "account_uuids.lookup: key must name the column that %s and the input share (e.g. key: \"Client Ref\")", look.File)
			}
			if look.Column == "" {
				look.Column = look.FileKey
			}
		case look.Plannr != "":
			if look.Plannr != LookupPrimaryEmail {
				return Source{}, nil, p.errorf(lf["plannr"], "account_uuids.lookup.plannr: %q is not a search Plannr offers here: use primary_email", look.Plannr)
			}
			if look.Column == "" {
				return Source{}, nil, p.errorf(l, "account_uuids.lookup: column must name the input column holding the client's primary e-mail address")
			}
		default:
			return Source{}, nil, p.errorf(l, "account_uuids.lookup needs file (a CSV of accounts) or plannr: primary_email")
		}
		return Source{}, look, nil
	}
	s, err := p.source(n, "account_uuids", true)
	return s, nil, err
}

func (p *fileParser) detail(n *yaml.Node, what string) (DetailSpec, error) {
	fields, err := p.object(n, what, "type", "name", "value", "country", "is_primary")
	if err != nil {
		return DetailSpec{}, err
	}
	d := DetailSpec{SkipEmpty: true}
	for _, f := range []struct {
		key        string
		dst        *Source
		required   bool
		columnOnly bool
		check      func(string) error
	}{
		{"type", &d.Type, true, false, func(s string) error { _, err := ParseType(s); return err }},
		{"name", &d.Name, true, false, func(s string) error { _, err := ParseName(s); return err }},
		{"value", &d.Value, true, true, nil},
		{"country", &d.Country, false, false, func(s string) error { _, err := ParseCountry(s); return err }},
		{"is_primary", &d.IsPrimary, false, false, func(s string) error { _, err := ParseBool(s); return err }},
	} {
		node := fields[f.key]
		if node == nil {
			if f.required {
				return DetailSpec{}, p.errorf(n, "%s has no %s", what, f.key)
			}
			continue
		}
		if *f.dst, err = p.source(node, what+"."+f.key, f.columnOnly); err != nil {
			return DetailSpec{}, err
		}
		if f.dst.Column == "" && f.check != nil {
			if err := f.check(f.dst.Const); err != nil {
				return DetailSpec{}, p.errorf(node, "%s.%s: %v", what, f.key, err)
			}
		}
	}
	return d, nil
}

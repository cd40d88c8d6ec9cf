package importer

import (
	"encoding/json"
	"strings"

	"github.com/nyaruka/phonenumbers"

	"plannr-import/importer/plannr"
	"plannr-import/mapping"
)

// existing indexes the contact details Plannr already holds for some accounts, by the same
// key as in-file duplicates: type, normalised value, set of accounts.
type existing map[string]plannr.ContactDetail

// add indexes server details. ok is false when a detail's owners cannot be read from its
// "accounts" (whose shape Plannr does not document reliably): the caller must then learn
// ownership another way.
func (e existing) add(details []plannr.ContactDetail, owners []string) (ok bool) {
	ok = true
	for _, d := range details {
		accounts, read := accountUUIDs(d.Accounts)
		if !read {
			if owners == nil {
				ok = false
				continue
			}
			accounts = owners
		}
		if key, valid := serverKey(d, accounts); valid {
			if _, dup := e[key]; !dup {
				e[key] = d
			}
		}
	}
	return ok
}

// serverKey is mapping.Key of a detail as Plannr returned it: its phone number brought to
// E.164 (Plannr may store it in another form), its e-mail address compared without case.
func serverKey(d plannr.ContactDetail, accounts []string) (string, bool) {
	t := mapping.Type(d.Type)
	value := strings.TrimSpace(d.Value)
	switch t {
	case mapping.PhoneNumber:
		region := "GB"
		if d.PhoneNumberMeta != nil && d.PhoneNumberMeta.Country != "" {
			region = strings.ToUpper(d.PhoneNumberMeta.Country)
		}
		num, err := phonenumbers.Parse(value, region)
		if err != nil {
			return "", false
		}
		value = phonenumbers.Format(num, phonenumbers.E164)
	case mapping.Email:
	default:
		return "", false
	}
	lower := make([]string, len(accounts))
	for i, a := range accounts {
		lower[i] = strings.ToLower(a)
	}
	return mapping.Key(t, value, lower), true
}

// accountUUIDs reads the owners of a detail from its "accounts", whatever shape it takes: a
// list of account objects or of UUIDs, one object, or any of these wrapped in "data".
func accountUUIDs(raw json.RawMessage) ([]string, bool) {
	if len(raw) == 0 {
		return nil, false
	}
	var wrapped struct {
		Data json.RawMessage `json:"data"`
	}
	if json.Unmarshal(raw, &wrapped) == nil && len(wrapped.Data) > 0 {
		raw = wrapped.Data
	}
	type account struct {
		UUID string `json:"uuid"`
	}
	var objects []account
	if json.Unmarshal(raw, &objects) == nil {
		out := make([]string, 0, len(objects))
		for _, o := range objects {
			if o.UUID == "" {
				return nil, false
			}
			out = append(out, o.UUID)
		}
		return out, len(out) > 0
	}
	var uuids []string
	if json.Unmarshal(raw, &uuids) == nil && len(uuids) > 0 {
		return uuids, true
	}
	var one account
	if json.Unmarshal(raw, &one) == nil && one.UUID != "" {
		return []string{one.UUID}, true
	}
	return nil, false
}

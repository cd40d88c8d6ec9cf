// Package mapping turns one CSV record into the contact details Plannr will be sent.
//
// It is pure: no network, no files, no clock. A [Mapping] says where each field of a
// [ContactDetail] comes from (a column of the row, or a constant); [Mapping.Bind] resolves it
// against a file's header once, and [Binding.Map] then validates and normalises each record:
// phone numbers by libphonenumber's rules for the row's country, e-mail addresses, client
// account UUIDs, booleans and country names. Every problem in a record is reported, each
// prefixed by the column it came from, so that a user can fix a row in one go.
//
// The canonical input format (one contact detail per row) is simply [Canonical], the built-in
// mapping.
package mapping

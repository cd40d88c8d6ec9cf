// Package importer runs an import: it streams a CSV file, maps each record to contact details
// with package mapping, settles every detail (in a dry run, by validation alone), and writes
// one results line per detail and one failed-rows line per source row that needs fixing.
//
// [Run] is the one call a caller needs: it takes a [Config] and returns a [Summary] whose
// ExitCode is the process's. Everything that goes wrong with the input file as a whole is an
// [*InputError]; everything that goes wrong with one row is that row's status in the results.
package importer

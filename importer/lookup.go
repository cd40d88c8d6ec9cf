package importer

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"plannr-import/importer/plannr"
	"plannr-import/mapping"
)

// resolution is what a lookup found for one key: the accounts, or why there are none
// (problem: the row's data, so it is invalid; failed: Plannr could not be asked).
type resolution struct {
	accounts []string
	problem  error
	failed   error
}

// resolver finds the client accounts of lookup keys (mapping.Lookup).
type resolver interface {
	resolve(ctx context.Context, keys []string) map[string]resolution
}

// fileResolver joins through a CSV of accounts: legacy reference → account UUID.
type fileResolver struct {
	name  string // the file, as the mapping names it
	key   string // its key column
	byKey map[string][]accountEntry
}

type accountEntry struct {
	line     int
	accounts []string
	err      error
}

// loadAccountsFile reads the accounts file of a lookup, whose path is relative to the
// mapping file's directory.
func loadAccountsFile(l *mapping.Lookup, mappingDir string) (*fileResolver, error) {
	path := l.File
	if !filepath.IsAbs(path) {
		path = filepath.Join(mappingDir, path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, &ConfigError{Msg: fmt.Sprintf("%s: the accounts file of the lookup: %v", l.Pos, pathErr(err))}
	}
	defer f.Close()
	rd, err := NewReader(f, ReaderOptions{})
	if err != nil {
		return nil, &ConfigError{Msg: fmt.Sprintf("%s: the accounts file %s %v", l.Pos, l.File, err)}
	}
	keyCol, uuidCol := -1, -1
	for i, h := range rd.Header() {
		switch {
		case strings.EqualFold(h, l.FileKey):
			keyCol = i
		case l.FileUUID != "" && strings.EqualFold(h, l.FileUUID):
			uuidCol = i
		case l.FileUUID == "" && uuidCol < 0 && strings.Contains(strings.ToLower(h), "uuid"):
			uuidCol = i
		}
	}
	switch {
	case keyCol < 0:
		return nil, &ConfigError{Msg: fmt.Sprintf("%s: the accounts file %s has no column %q (it has: %s)", l.Pos, l.File, l.FileKey, headerList(rd.Header()))}
	case uuidCol < 0 && l.FileUUID != "":
		return nil, &ConfigError{Msg: fmt.Sprintf("%s: the accounts file %s has no column %q (it has: %s)", l.Pos, l.File, l.FileUUID, headerList(rd.Header()))}
	case uuidCol < 0:
		return nil, &ConfigError{Msg: fmt.Sprintf("%s: the accounts file %s has no column of account UUIDs (none is named …uuid…): name it with uuid: in the lookup", l.Pos, l.File)}
	}
	r := &fileResolver{name: l.File, key: rd.Header()[keyCol], byKey: map[string][]accountEntry{}}
	for {
		rec, err := rd.Next()
		if err != nil {
			break
		}
		if rec.Err != nil || rec.Blank || keyCol >= len(rec.Cells) {
			continue
		}
		key := normLookupKey(rec.Cells[keyCol])
		if key == "" {
			continue
		}
		var cell string
		if uuidCol < len(rec.Cells) {
			cell = rec.Cells[uuidCol]
		}
		accounts, err := mapping.ParseAccountUUIDs(cell)
		r.byKey[key] = append(r.byKey[key], accountEntry{line: rec.Line, accounts: accounts, err: err})
	}
	return r, nil
}

func normLookupKey(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func (r *fileResolver) resolve(_ context.Context, keys []string) map[string]resolution {
	out := make(map[string]resolution, len(keys))
	for _, k := range keys {
		entries := r.byKey[normLookupKey(k)]
		switch {
		case len(entries) == 0:
			out[k] = resolution{problem: fmt.Errorf("no account has %s %q in %s", r.key, k, r.name)}
		case len(entries) > 1:
			lines := make([]string, len(entries))
			for i, e := range entries {
				lines[i] = fmt.Sprint(e.line)
			}
			out[k] = resolution{problem: fmt.Errorf("%s %q is on %d lines of %s (lines %s): which client is meant?", r.key, k, len(entries), r.name, strings.Join(lines, ", "))}
		case entries[0].err != nil:
			out[k] = resolution{problem: fmt.Errorf("%s line %d, for %s %q: %v", r.name, entries[0].line, r.key, k, entries[0].err)}
		default:
			out[k] = resolution{accounts: entries[0].accounts}
		}
	}
	return out
}

// plannrResolver finds clients in Plannr by primary e-mail address, through the shared
// pacer, and remembers every answer for the run.
type plannrResolver struct {
	snd      *sender
	parallel int

	mu    sync.Mutex
	cache map[string]resolution
}

func (r *plannrResolver) resolve(ctx context.Context, keys []string) map[string]resolution {
	out := make(map[string]resolution, len(keys))
	todo := map[string][]string{} // normalised key → the spellings of it in this batch
	r.mu.Lock()
	for _, k := range keys {
		if res, ok := r.cache[normLookupKey(k)]; ok {
			out[k] = res
		} else {
			todo[normLookupKey(k)] = append(todo[normLookupKey(k)], k)
		}
	}
	r.mu.Unlock()

	var wg sync.WaitGroup
	var mu sync.Mutex
	sem := make(chan struct{}, max(1, r.parallel))
	for norm, spellings := range todo {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			res := r.find(ctx, spellings[0])
			mu.Lock()
			for _, k := range spellings {
				out[k] = res
			}
			mu.Unlock()
			if res.failed == nil {
				r.mu.Lock()
				r.cache[norm] = res
				r.mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return out
}

// find asks Plannr for the client whose primary e-mail is email. Plannr's filter matches
// partly, so the match is checked here, ignoring case.
func (r *plannrResolver) find(ctx context.Context, email string) resolution {
	var found []plannr.Account
	err := r.snd.read(ctx, func(ctx context.Context) error {
		var err error
		found, err = r.snd.client.FindAccounts(ctx, plannr.AccountQuery{PrimaryEmail: email, Type: "client"}, r.snd.pacer.Wait)
		return err
	})
	if err != nil {
		return resolution{failed: err}
	}
	var exact []string
	for _, a := range found {
		if strings.EqualFold(strings.TrimSpace(a.PrimaryEmail()), strings.TrimSpace(email)) && !slices.Contains(exact, a.UUID) {
			exact = append(exact, a.UUID)
		}
	}
	switch len(exact) {
	case 0:
		return resolution{problem: fmt.Errorf("no client in Plannr has the primary e-mail address %q", email)}
	case 1:
		return resolution{accounts: []string{strings.ToLower(exact[0])}}
	}
	return resolution{problem: fmt.Errorf("%d clients in Plannr have the primary e-mail address %q (%s): which is meant?", len(exact), email, strings.Join(exact, ", "))}
}

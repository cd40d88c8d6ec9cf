// Package plannrtest is a fake Plannr API for tests and for --sandbox, in the manner of
// net/http/httptest: [NewServer] starts it on 127.0.0.1 and hands back its URL.
//
// It is faithful to Plannr as the project knows it, not a mock that says yes: it checks the
// bearer token and the firm account header, validates a new contact detail with Plannr's
// rules (a string phone number must be a valid GB number; an object one valid for its
// country; every account must be an existing client) and answers 422 in Laravel's shape; it
// counts requests in a fixed window and answers 429 with Retry-After as Laravel's throttle
// does; and it lists contact details with filters and pagination. [Faults] make it slow,
// failing, or dropping connections (before or after storing the detail).
package plannrtest

import (
	"bufio"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"math"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/mail"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nyaruka/phonenumbers"
)

// Options configure a fake Plannr.
type Options struct {
	// Token is the only bearer token accepted; empty means a random one.
	Token string
	// AccountUUID is the firm account expected in X-PLANNR-ACCOUNT-UUID; empty means random.
	AccountUUID string
	// Clients are the client accounts that exist. With AnyClient, every well-formed UUID is
	// an existing client (the sandbox: the user's file names the clients).
	Clients   []string
	AnyClient bool
	// Accounts are client accounts with names and primary e-mail addresses, found by
	// GET /api/v1/account; they exist as clients too.
	Accounts []Account
	// RateLimit is the number of requests allowed in each Window (Laravel's fixed window);
	// 0 means no limit. Window defaults to one minute.
	RateLimit int
	Window    time.Duration
	// WrapSingle wraps a created detail in {"data": …}; Plannr may or may not.
	WrapSingle bool
	// ErrorsAsString writes each 422 error as a string instead of a list, as has been seen.
	ErrorsAsString bool
	// AccountsAsClassName answers "accounts" as the API reference's generated example
	// does: a PHP class name, which says nothing of who owns the detail.
	AccountsAsClassName bool
	// Seed makes injected faults repeatable; 0 means random.
	Seed uint64
}

// Faults make the fake misbehave. Rates are probabilities per request, from 0 to 1.
type Faults struct {
	// Latency delays every answer; Jitter adds up to that much more at random.
	Latency, Jitter time.Duration
	// ServerErrorRate answers 500, 502, 503 or 504 without doing anything.
	ServerErrorRate float64
	// DropRate closes the connection without an answer, before doing anything.
	DropRate float64
	// DropAfterStoreRate stores the new detail, then closes the connection without an
	// answer: the client cannot know that it was created.
	DropAfterStoreRate float64
	// ErrorAfterStoreRate stores the new detail, then answers 502 as a failing proxy would.
	ErrorAfterStoreRate float64
	// PostOnly limits the faults other than latency to POST requests.
	PostOnly bool
}

// Account is a client account the fake can be searched for.
type Account struct {
	UUID                string
	FirstName, LastName string
	PrimaryEmail        string
}

// Detail is a contact detail the fake holds.
type Detail struct {
	UUID         string
	Type         string
	Name         string
	Value        string // as stored: E.164 for phones
	Country      string // phones: the country the number was judged by
	IsPrimary    bool
	AccountUUIDs []string
	CreatedAt    time.Time
}

// Request is one request the fake received, as its log keeps it.
type Request struct {
	At     time.Time // when it arrived, before any injected latency
	Method string
	Path   string
	Status int // the answer's status; 0 when the connection was dropped
}

// Stats count what the fake has seen.
type Stats struct {
	Requests    int         // every request, whatever its answer
	ByStatus    map[int]int // answers by HTTP status (dropped connections are not answers)
	Dropped     int
	Creates     int // details stored
	MaxInFlight int
}

// Server is a running fake Plannr.
type Server struct {
	// URL is the base URL to give a client, e.g. http://127.0.0.1:38517.
	URL         string
	Token       string
	AccountUUID string

	opts Options
	srv  *http.Server
	ln   net.Listener

	mu          sync.Mutex
	faults      Faults
	rng         *mrand.Rand
	clients     map[string]bool
	details     []*Detail
	byAccount   map[string][]int // account → indexes into details, oldest first
	windowStart time.Time
	windowCount int
	inFlight    int
	stats       Stats
	// lastHeader is the headers of the latest request, for tests of what a client sends.
	lastHeader http.Header
	log        []Request
}

// NewServer starts a fake Plannr on a free port of 127.0.0.1.
func NewServer(opts Options) (*Server, error) {
	if opts.Token == "" {
		opts.Token = "sandbox-" + newUUID()
	}
	if opts.AccountUUID == "" {
		opts.AccountUUID = newUUID()
	}
	if opts.Window == 0 {
		opts.Window = time.Minute
	}
	seed := opts.Seed
	if seed == 0 {
		seed = mrand.Uint64()
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("fake Plannr: %w", err)
	}
	s := &Server{
		URL:         "http://" + ln.Addr().String(),
		Token:       opts.Token,
		AccountUUID: opts.AccountUUID,
		opts:        opts,
		ln:          ln,
		rng:         mrand.New(mrand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
		clients:     map[string]bool{},
		byAccount:   map[string][]int{},
		stats:       Stats{ByStatus: map[int]int{}},
	}
	for _, c := range opts.Clients {
		s.clients[strings.ToLower(c)] = true
	}
	for _, a := range opts.Accounts {
		s.clients[strings.ToLower(a.UUID)] = true
	}
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops the server at once.
func (s *Server) Close() {
	s.srv.Close()
}

// SetFaults changes the faults from now on.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = f
}

// Details returns a copy of the details held, oldest first.
func (s *Server) Details() []Detail {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Detail, len(s.details))
	for i, d := range s.details {
		out[i] = *d
		out[i].AccountUUIDs = slices.Clone(d.AccountUUIDs)
	}
	return out
}

// Stats returns a copy of the counts so far.
func (s *Server) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.ByStatus = map[int]int{}
	for k, v := range s.stats.ByStatus {
		st.ByStatus[k] = v
	}
	return st
}

// Log returns every request received so far, in order of arrival.
func (s *Server) Log() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.log)
}

// LastHeader returns the headers of the last request received.
func (s *Server) LastHeader() http.Header {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.lastHeader.Clone()
}

// statusRecorder carries a request's log entry to answer.
type statusRecorder struct {
	http.ResponseWriter
	entry int
}

// Hijack lets drop reach the connection under the recorder.
func (r *statusRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	return r.ResponseWriter.(http.Hijacker).Hijack()
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.stats.Requests++
	s.inFlight++
	s.stats.MaxInFlight = max(s.stats.MaxInFlight, s.inFlight)
	s.lastHeader = r.Header.Clone()
	s.log = append(s.log, Request{At: time.Now(), Method: r.Method, Path: r.URL.Path})
	entry := len(s.log) - 1
	w = &statusRecorder{ResponseWriter: w, entry: entry}
	f := s.faults
	delay := f.Latency
	if f.Jitter > 0 {
		delay += time.Duration(s.rng.Int64N(int64(f.Jitter)))
	}
	roll, rollStore := s.rng.Float64(), s.rng.Float64()
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()

	// Laravel's throttle counts a request when it arrives, before the work that makes the
	// latency.
	if !s.allow(w) {
		return
	}
	// Like PHP behind a web server, the work goes on when the client hangs up: a request
	// that timed out on the client's side may still create its detail.
	time.Sleep(delay)
	if f.PostOnly && r.Method != http.MethodPost {
		roll, rollStore = 1, 1
	}
	switch {
	case roll < f.DropRate:
		s.drop(w)
		return
	case roll < f.DropRate+f.ServerErrorRate:
		status := []int{500, 502, 503, 504}[int(roll*1000)%4]
		s.answer(w, status, map[string]string{"message": http.StatusText(status)})
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.Token {
		s.answer(w, http.StatusUnauthorized, map[string]string{"message": "Unauthenticated."})
		return
	}
	if r.Header.Get("X-PLANNR-ACCOUNT-UUID") != s.AccountUUID {
		s.answer(w, http.StatusForbidden, map[string]string{"message": "This action is unauthorized."})
		return
	}
	if !strings.Contains(r.Header.Get("Accept"), "application/json") {
		s.answer(w, http.StatusNotAcceptable, map[string]string{"message": "Send Accept: application/json."})
		return
	}
	switch {
	case r.URL.Path == "/api/v2/contact-details" && r.Method == http.MethodPost:
		after := afterStoreNothing
		switch {
		case rollStore < f.DropAfterStoreRate:
			after = afterStoreDrop
		case rollStore < f.DropAfterStoreRate+f.ErrorAfterStoreRate:
			after = afterStore502
		}
		s.create(w, r, after)
	case r.URL.Path == "/api/v2/contact-details" && r.Method == http.MethodGet:
		s.list(w, r)
	case r.URL.Path == "/api/v1/account" && r.Method == http.MethodGet:
		s.accounts(w, r)
	case r.URL.Path == "/api/v2/contact-details":
		s.answer(w, http.StatusMethodNotAllowed, map[string]string{"message": "The " + r.Method + " method is not supported for route api/v2/contact-details."})
	default:
		s.answer(w, http.StatusNotFound, map[string]string{"message": "Not Found"})
	}
}

// allow counts the request against the fixed window and answers 429 when it is over.
func (s *Server) allow(w http.ResponseWriter) bool {
	if s.opts.RateLimit <= 0 {
		return true
	}
	s.mu.Lock()
	now := time.Now()
	if now.Sub(s.windowStart) >= s.opts.Window {
		s.windowStart, s.windowCount = now, 0
	}
	s.windowCount++
	count, reset := s.windowCount, s.windowStart.Add(s.opts.Window)
	s.mu.Unlock()

	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.opts.RateLimit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(max(0, s.opts.RateLimit-count)))
	if count <= s.opts.RateLimit {
		return true
	}
	wait := max(1, int(math.Ceil(time.Until(reset).Seconds())))
	h.Set("Retry-After", strconv.Itoa(wait))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	s.answer(w, http.StatusTooManyRequests, map[string]string{"message": "Too Many Attempts."})
	return false
}

// answer writes a JSON answer. The answers go through statusRecorder, which notes the
// status in the request's log entry.
func (s *Server) answer(w http.ResponseWriter, status int, body any) {
	s.mu.Lock()
	s.stats.ByStatus[status]++
	if rec, ok := w.(*statusRecorder); ok {
		s.log[rec.entry].Status = status
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}

func (s *Server) drop(w http.ResponseWriter) {
	s.mu.Lock()
	s.stats.Dropped++
	s.mu.Unlock()
	if hj, ok := w.(http.Hijacker); ok {
		if conn, _, err := hj.Hijack(); err == nil {
			conn.Close()
			return
		}
	}
	panic(http.ErrAbortHandler)
}

// validation gathers Laravel-style messages by field.
type validation struct {
	fields map[string][]string
	order  []string
}

func (v *validation) add(field, msg string) {
	if v.fields == nil {
		v.fields = map[string][]string{}
	}
	if _, ok := v.fields[field]; !ok {
		v.order = append(v.order, field)
	}
	v.fields[field] = append(v.fields[field], msg)
}

func (s *Server) reject(w http.ResponseWriter, v *validation) {
	total := 0
	for _, m := range v.fields {
		total += len(m)
	}
	msg := v.fields[v.order[0]][0]
	if total > 1 {
		msg += fmt.Sprintf(" (and %d more error%s)", total-1, map[bool]string{true: "s"}[total > 2])
	}
	errs := map[string]any{}
	for k, m := range v.fields {
		if s.opts.ErrorsAsString {
			errs[k] = m[0]
		} else {
			errs[k] = m
		}
	}
	s.answer(w, http.StatusUnprocessableEntity, map[string]any{"message": msg, "errors": errs})
}

// What goes wrong once a detail is stored.
const (
	afterStoreNothing = iota
	afterStoreDrop
	afterStore502
)

func (s *Server) create(w http.ResponseWriter, r *http.Request, after int) {
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		s.answer(w, http.StatusUnsupportedMediaType, map[string]string{"message": "Send Content-Type: application/json."})
		return
	}
	var body map[string]json.RawMessage
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&body); err != nil {
		s.answer(w, http.StatusBadRequest, map[string]string{"message": "The request body is not valid JSON."})
		return
	}
	var v validation
	d := &Detail{CreatedAt: time.Now().UTC()}

	if !str(body["type"], &d.Type) || d.Type == "" {
		v.add("type", "The type field is required.")
	} else if d.Type != "email" && d.Type != "phone_number" {
		v.add("type", "The selected type is invalid.")
	}
	if !str(body["name"], &d.Name) || strings.TrimSpace(d.Name) == "" {
		v.add("name", "The name field is required.")
	} else if len([]rune(d.Name)) > 255 {
		v.add("name", "The name field must not be greater than 255 characters.")
	}
	s.checkValue(&v, body["value"], d)
	if raw, ok := body["is_primary"]; ok {
		if !boolean(raw, &d.IsPrimary) {
			v.add("is_primary", "The is primary field must be true or false.")
		}
	}
	var accounts []json.RawMessage
	if json.Unmarshal(body["account_uuids"], &accounts) != nil || len(accounts) == 0 {
		v.add("account_uuids", "The account uuids field is required.")
	}
	s.mu.Lock()
	for i, raw := range accounts {
		var id string
		field := fmt.Sprintf("account_uuids.%d", i)
		switch {
		case !str(raw, &id) || !wellFormedUUID(id):
			v.add(field, fmt.Sprintf("The %s field must be a valid UUID.", field))
		case !s.opts.AnyClient && !s.clients[strings.ToLower(id)]:
			v.add(field, fmt.Sprintf("The selected %s is invalid.", field))
		default:
			d.AccountUUIDs = append(d.AccountUUIDs, strings.ToLower(id))
		}
	}
	if len(v.fields) > 0 {
		s.mu.Unlock()
		s.reject(w, &v)
		return
	}
	d.UUID = newUUID()
	if d.IsPrimary {
		for _, i := range s.indexesOf(d.AccountUUIDs) {
			if other := s.details[i]; other.Type == d.Type {
				other.IsPrimary = false
			}
		}
	}
	for _, a := range d.AccountUUIDs {
		s.byAccount[a] = append(s.byAccount[a], len(s.details))
	}
	s.details = append(s.details, d)
	s.stats.Creates++
	s.mu.Unlock()

	switch after {
	case afterStoreDrop:
		s.drop(w)
		return
	case afterStore502:
		s.answer(w, http.StatusBadGateway, map[string]string{"message": "Bad Gateway"})
		return
	}
	var out any = resource(d, true)
	if s.opts.WrapSingle {
		out = map[string]any{"data": out}
	}
	s.answer(w, http.StatusCreated, out)
}

// checkValue validates the value as Plannr does and stores its normalised form in d.
func (s *Server) checkValue(v *validation, raw json.RawMessage, d *Detail) {
	if len(raw) == 0 || string(raw) == "null" {
		v.add("value", "The value field is required.")
		return
	}
	switch d.Type {
	case "email":
		var addr string
		if !str(raw, &addr) || !validEmail(addr) {
			v.add("value", "The value field must be a valid email address.")
			return
		}
		d.Value = addr
	case "phone_number":
		var number, country string
		var obj struct {
			Country string `json:"country"`
			Number  string `json:"number"`
		}
		switch {
		case str(raw, &number):
			country = "GB" // a plain string is judged as a GB number
		case json.Unmarshal(raw, &obj) == nil && obj.Number != "":
			number, country = obj.Number, strings.ToUpper(obj.Country)
			if phonenumbers.GetCountryCodeForRegion(country) == 0 {
				v.add("value.country", "The value.country field must be a valid country.")
				return
			}
		default:
			v.add("value", "The value field must be a string.")
			return
		}
		num, err := phonenumbers.Parse(number, country)
		if err != nil || !phonenumbers.IsValidNumberForRegion(num, country) {
			v.add("value", "The value field must be a valid number.")
			return
		}
		d.Value, d.Country = phonenumbers.Format(num, phonenumbers.E164), country
	}
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	perPage, page := 15, 1
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			var val validation
			val.add("per_page", "The per page field must be between 1 and 500.")
			s.reject(w, &val)
			return
		}
		perPage = n
	}
	if v := q.Get("page"); v != "" {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			page = n
		}
	}
	var accounts []string
	if v := q.Get("filter[account_uuids]"); v != "" {
		accounts = strings.Split(strings.ToLower(v), ",")
	}
	typ, uuidF, value := q.Get("filter[type]"), q.Get("filter[uuid]"), strings.ToLower(q.Get("filter[value]"))
	includeAccounts := slices.Contains(strings.Split(q.Get("include"), ","), "accounts")

	s.mu.Lock()
	var match []*Detail
	candidates := s.details
	if accounts != nil {
		candidates = nil
		for _, i := range s.indexesOf(accounts) {
			candidates = append(candidates, s.details[i])
		}
	}
	for _, d := range candidates {
		if (typ == "" || d.Type == typ) && (uuidF == "" || d.UUID == uuidF) &&
			(value == "" || strings.Contains(strings.ToLower(d.Value), value)) {
			c := *d
			match = append(match, &c)
		}
	}
	s.mu.Unlock()

	total := len(match)
	last := max(1, (total+perPage-1)/perPage)
	from := min((page-1)*perPage, total)
	to := min(from+perPage, total)
	data := make([]map[string]any, 0, to-from)
	for _, d := range match[from:to] {
		res := resource(d, includeAccounts)
		if includeAccounts && s.opts.AccountsAsClassName {
			res["accounts"] = "App\\Http\\Resources\\AccountResource"
		}
		data = append(data, res)
	}
	link := func(p int) any {
		if p < 1 || p > last {
			return nil
		}
		u := *r.URL
		qq := u.Query()
		qq.Set("page", strconv.Itoa(p))
		u.RawQuery = qq.Encode()
		return s.URL + u.RequestURI()
	}
	s.answer(w, http.StatusOK, map[string]any{
		"data":  data,
		"links": map[string]any{"first": link(1), "last": link(last), "prev": link(page - 1), "next": link(page + 1)},
		"meta": map[string]any{"current_page": page, "last_page": last, "per_page": perPage, "total": total,
			"from": from + 1, "to": to, "path": s.URL + r.URL.Path},
	})
}

// accounts answers a search of accounts: filter[primary_email] and filter[name] match partly,
// as Plannr's do; every account here is a client.
func (s *Server) accounts(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	email, name := strings.ToLower(q.Get("filter[primary_email]")), strings.ToLower(q.Get("filter[name]"))
	if t := q.Get("filter[type]"); t != "" && t != "client" {
		s.answer(w, http.StatusOK, map[string]any{"data": []any{}, "links": map[string]any{"next": nil}})
		return
	}
	include := strings.Split(q.Get("include"), ",")
	data := []map[string]any{}
	for _, a := range s.opts.Accounts {
		full := strings.ToLower(a.FirstName + " " + a.LastName)
		if !strings.Contains(strings.ToLower(a.PrimaryEmail), email) || !strings.Contains(full, name) {
			continue
		}
		m := map[string]any{"uuid": a.UUID, "type": "client", "role": "client", "first_name": a.FirstName, "last_name": a.LastName}
		if slices.Contains(include, "primary_email") {
			m["primary_email"] = map[string]any{"uuid": newUUID(), "type": "email", "name": "Email", "value": a.PrimaryEmail}
		} else {
			m["primary_email"] = "App\\Http\\Resources\\ContactDetailResource"
		}
		data = append(data, m)
	}
	s.answer(w, http.StatusOK, map[string]any{"data": data, "links": map[string]any{"next": nil},
		"meta": map[string]any{"current_page": 1, "last_page": 1, "total": len(data)}})
}

// indexesOf returns the indexes of the details owned by any of accounts, oldest first.
// Called with mu held.
func (s *Server) indexesOf(accounts []string) []int {
	var idx []int
	for _, a := range accounts {
		idx = append(idx, s.byAccount[a]...)
	}
	slices.Sort(idx)
	return slices.Compact(idx)
}

func resource(d *Detail, withAccounts bool) map[string]any {
	ts := d.CreatedAt.Format(time.RFC3339)
	m := map[string]any{"uuid": d.UUID, "type": d.Type, "name": d.Name, "value": d.Value,
		"is_primary": d.IsPrimary, "created_at": ts, "updated_at": ts}
	if d.Type == "phone_number" {
		num, _ := phonenumbers.Parse(d.Value, d.Country)
		m["phone_number_meta"] = map[string]string{"country": d.Country, "formatted": phonenumbers.Format(num, phonenumbers.NATIONAL)}
	}
	if withAccounts {
		accs := make([]map[string]string, len(d.AccountUUIDs))
		for i, a := range d.AccountUUIDs {
			accs[i] = map[string]string{"uuid": a, "type": "client"}
		}
		m["accounts"] = accs
	}
	return m
}

func str(raw json.RawMessage, dst *string) bool {
	return len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, dst) == nil
}

// boolean accepts what Laravel's boolean rule does: true, false, 1, 0, "1", "0".
func boolean(raw json.RawMessage, dst *bool) bool {
	switch strings.Trim(string(raw), `"`) {
	case "true", "1":
		*dst = true
		return true
	case "false", "0":
		*dst = false
		return true
	}
	return false
}

// validEmail is Laravel's plain "email" rule, roughly: one @, a local part, a dotted domain.
func validEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[at+1:], ".") && !strings.ContainsAny(s, " \t")
}

func wellFormedUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if c != '-' {
				return false
			}
		} else if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
			return false
		}
	}
	return true
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Package plannr is a client for the part of Plannr CRM's API that the importer uses:
// creating contact details (POST /api/v2/contact-details) and listing them.
//
// A [Client] sends one request per call and says what happened; it never retries and never
// waits. Deciding whether to retry, and when, is the importer's business. Every answer that is
// not a success comes back as an [*Error] carrying the status, Plannr's message, its
// per-field validation messages and any Retry-After; failures to get an answer at all come
// back as the transport's error. Neither ever contains the token.
package plannr

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// DefaultBaseURL is Plannr's production API.
const DefaultBaseURL = "https://api.plannrcrm.com"

// CreatePath is the endpoint that creates a contact detail.
const CreatePath = "/api/v2/contact-details"

// maxBody bounds how much of an answer is read: Plannr's answers are a few kilobytes.
const maxBody = 4 << 20

// Config is what a Client needs.
type Config struct {
	// BaseURL is the API's root, e.g. https://api.plannrcrm.com. Plain http:// is only
	// accepted for a loopback host, so that a token never crosses a network in clear.
	BaseURL string
	// Token is the OAuth or personal access token, sent as a bearer token.
	Token string
	// AccountUUID is the firm's account, sent as X-PLANNR-ACCOUNT-UUID.
	AccountUUID string
	// UserAgent names the tool and its version.
	UserAgent string
	// Timeout bounds each request, from sending to the end of the answer.
	Timeout time.Duration
	// Transport, if set, replaces http.DefaultTransport (tests).
	Transport http.RoundTripper
}

// Client talks to Plannr's API. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	token     string
	account   string
	userAgent string
	timeout   time.Duration
	http      *http.Client
	// OnResponse, if set, is called with the header of every answer, whatever its status:
	// the pacer reads Plannr's rate-limit headers from it.
	OnResponse func(status int, h http.Header)
	// Observe, if set, is told of every answer with the time its request was sent: the
	// pacer learns Plannr's rate-limit window from it.
	Observe func(status int, h http.Header, sent time.Time)
	// Log, if set, gets a debug line for every request: method, path (without its query,
	// which can hold clients' e-mail addresses), status, attempt, latency. Never a header or
	// a body.
	Log      *slog.Logger
	requests atomic.Int64
	byKind   [3]atomic.Int64 // creates, listings, account searches
}

// Kinds of request, for counting.
const (
	KindCreate  = "create_contact_detail"
	KindList    = "list_contact_details"
	KindAccount = "find_account"
)

// RequestsByKind counts the requests sent so far by what they were for.
func (c *Client) RequestsByKind() map[string]int64 {
	return map[string]int64{KindCreate: c.byKind[0].Load(), KindList: c.byKind[1].Load(), KindAccount: c.byKind[2].Load()}
}

// New checks cfg and returns a Client.
func New(cfg Config) (*Client, error) {
	base, err := ParseBaseURL(cfg.BaseURL)
	if err != nil {
		return nil, err
	}
	transport := cfg.Transport
	if transport == nil {
		transport = http.DefaultTransport
	}
	return &Client{
		base:      base,
		token:     cfg.Token,
		account:   cfg.AccountUUID,
		userAgent: cfg.UserAgent,
		timeout:   cfg.Timeout,
		http: &http.Client{
			Transport: transport,
			// A redirect would resend the token to wherever it points: treat it as an answer.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// ParseBaseURL checks an API root: https, or http to a loopback host only.
func ParseBaseURL(s string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(s, "/"))
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("base URL %q is not a URL like %s", s, DefaultBaseURL)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopback(u.Hostname()) {
			return nil, fmt.Errorf("base URL %s uses plain http to a host that is not this machine: the token would cross the network in clear; use https", u.Redacted())
		}
	default:
		return nil, fmt.Errorf("base URL %s must start with https://", u.Redacted())
	}
	if u.User != nil {
		return nil, fmt.Errorf("base URL must not carry a user name or password")
	}
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

type attemptKey struct{}

// WithAttempt marks ctx as carrying attempt number n of a request, for the debug log.
func WithAttempt(ctx context.Context, n int) context.Context {
	return context.WithValue(ctx, attemptKey{}, n)
}

func attemptOf(ctx context.Context) int {
	if n, ok := ctx.Value(attemptKey{}).(int); ok {
		return n
	}
	return 1
}

// Requests is the number of requests sent so far.
func (c *Client) Requests() int64 { return c.requests.Load() }

// PhoneValue is a phone number of a country other than GB.
type PhoneValue struct {
	Country string `json:"country"`
	Number  string `json:"number"`
}

// CreateRequest is the body of POST /api/v2/contact-details. Value is a string, or a
// PhoneValue for a phone number that is not a GB number.
type CreateRequest struct {
	Type         string   `json:"type"`
	Name         string   `json:"name"`
	Value        any      `json:"value"`
	IsPrimary    bool     `json:"is_primary"`
	AccountUUIDs []string `json:"account_uuids"`
}

// ContactDetail is a contact detail as Plannr answers it.
type ContactDetail struct {
	UUID            string           `json:"uuid"`
	Type            string           `json:"type"`
	Name            string           `json:"name"`
	Value           string           `json:"value"`
	IsPrimary       bool             `json:"is_primary"`
	CreatedAt       string           `json:"created_at"`
	PhoneNumberMeta *PhoneNumberMeta `json:"phone_number_meta,omitempty"`
	// Accounts is left raw: its documented shape is a generator's artefact.
	Accounts json.RawMessage `json:"accounts,omitempty"`
}

// PhoneNumberMeta is what Plannr says of a phone number it stored.
type PhoneNumberMeta struct {
	Country   string `json:"country"`
	Formatted string `json:"formatted"`
}

// Create creates a contact detail. On a 201 it returns the detail Plannr made.
func (c *Client) Create(ctx context.Context, req CreateRequest) (*ContactDetail, *Response, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, nil, err
	}
	resp, err := c.do(ctx, http.MethodPost, CreatePath, nil, body)
	if err != nil {
		return nil, resp, err
	}
	var d ContactDetail
	if err := decodeMaybeWrapped(resp.Body, &d); err != nil || d.UUID == "" {
		return nil, resp, fmt.Errorf("POST %s: %d answer without a contact detail uuid: %.200q", CreatePath, resp.StatusCode, resp.Body)
	}
	return &d, resp, nil
}

// Response is an answer's status and body.
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// decodeMaybeWrapped decodes a single resource, which Plannr may or may not wrap in "data".
func decodeMaybeWrapped(body []byte, v any) error {
	var wrapped struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &wrapped); err == nil && len(wrapped.Data) > 0 && wrapped.Data[0] == '{' {
		body = wrapped.Data
	}
	return json.Unmarshal(body, v)
}

// do sends one request and reads the whole answer. A status outside 2xx is an *Error.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body []byte) (*Response, error) {
	if c.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, c.timeout)
		defer cancel()
	}
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawQuery = query.Encode()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("X-PLANNR-ACCOUNT-UUID", c.account)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("User-Agent", c.userAgent)

	c.requests.Add(1)
	switch {
	case method == http.MethodPost:
		c.byKind[0].Add(1)
	case path == ListPath:
		c.byKind[1].Add(1)
	default:
		c.byKind[2].Add(1)
	}
	sent := time.Now()
	hr, err := c.http.Do(req)
	if c.Log != nil {
		attrs := []any{"method", method, "path", path, "attempt", attemptOf(ctx), "latency_ms", time.Since(sent).Milliseconds()}
		if err != nil {
			attrs = append(attrs, "error", scrub(err).Error())
		} else {
			attrs = append(attrs, "status", hr.StatusCode)
		}
		c.Log.Debug("request", attrs...)
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s: %w", method, path, scrub(err))
	}
	defer hr.Body.Close()
	data, err := io.ReadAll(io.LimitReader(hr.Body, maxBody))
	if c.Observe != nil {
		c.Observe(hr.StatusCode, hr.Header, sent)
	}
	if c.OnResponse != nil {
		c.OnResponse(hr.StatusCode, hr.Header)
	}
	resp := &Response{StatusCode: hr.StatusCode, Header: hr.Header, Body: data}
	if err != nil {
		return resp, fmt.Errorf("%s %s: reading the %d answer: %w", method, path, hr.StatusCode, scrub(err))
	}
	if hr.StatusCode < 200 || hr.StatusCode > 299 {
		return resp, newError(method, path, hr.StatusCode, hr.Header, data)
	}
	return resp, nil
}

// scrub drops the URL that net/http puts in its errors: it holds no secret, but it is long
// and the same on every line.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// Error is an answer from Plannr that is not a success.
type Error struct {
	Method, Path string
	StatusCode   int
	// Message is Plannr's "message".
	Message string
	// Fields are the validation messages of a 422, by field ("value", "account_uuids.0").
	Fields map[string][]string
	// RetryAfter is the wait the server asked for (Retry-After), or 0.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	msg := e.Message
	if fm := e.FieldMessages(); fm != "" {
		msg = fm
	}
	if msg == "" {
		msg = http.StatusText(e.StatusCode)
	}
	return fmt.Sprintf("%d %s", e.StatusCode, msg)
}

// FieldMessages joins the validation messages: "value: The value field must be a valid
// number.; account_uuids.0: The selected account_uuids.0 is invalid."
func (e *Error) FieldMessages() string {
	keys := make([]string, 0, len(e.Fields))
	for k := range e.Fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var parts []string
	for _, k := range keys {
		for _, m := range e.Fields[k] {
			parts = append(parts, k+": "+m)
		}
	}
	return strings.Join(parts, "; ")
}

func newError(method, path string, status int, h http.Header, body []byte) *Error {
	e := &Error{Method: method, Path: path, StatusCode: status, RetryAfter: ParseRetryAfter(h.Get("Retry-After"), time.Now())}
	var doc struct {
		Message string                     `json:"message"`
		Errors  map[string]json.RawMessage `json:"errors"`
	}
	if json.Unmarshal(body, &doc) != nil {
		// Not JSON: a proxy's HTML error page, say. Keep a short, single-line excerpt.
		e.Message = strings.Join(strings.Fields(string(body[:min(len(body), 120)])), " ")
		return e
	}
	e.Message = doc.Message
	for field, raw := range doc.Errors {
		var list []string
		if json.Unmarshal(raw, &list) != nil {
			var one string
			if json.Unmarshal(raw, &one) != nil {
				continue
			}
			list = []string{one}
		}
		if e.Fields == nil {
			e.Fields = map[string][]string{}
		}
		e.Fields[field] = list
	}
	return e
}

// ParseRetryAfter reads a Retry-After header: seconds, or an HTTP date. It returns 0 when
// the header is absent or unreadable.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// ListPath is the endpoint that lists contact details.
const ListPath = "/api/v2/contact-details"

// ListQuery filters a listing of contact details.
type ListQuery struct {
	// AccountUUIDs keeps the details owned by any of these accounts.
	AccountUUIDs []string
	// Type keeps one type ("email", "phone_number").
	Type string
	// PerPage is the page size (at most 500; 0 means 500).
	PerPage int
}

// List fetches every contact detail matching q, following the paginator's next links. It
// makes one request a page; wait, if set, is called before each (the caller's rate limit).
func (c *Client) List(ctx context.Context, q ListQuery, wait func(context.Context) error) ([]ContactDetail, error) {
	perPage := q.PerPage
	if perPage <= 0 || perPage > 500 {
		perPage = 500
	}
	query := url.Values{"per_page": {strconv.Itoa(perPage)}, "page": {"1"}, "include": {"accounts"}}
	if len(q.AccountUUIDs) > 0 {
		query.Set("filter[account_uuids]", strings.Join(q.AccountUUIDs, ","))
	}
	if q.Type != "" {
		query.Set("filter[type]", q.Type)
	}
	return getAll[ContactDetail](ctx, c, ListPath, query, wait)
}

// getAll fetches every page of a Laravel paginator at path, following its next links;
// wait, if set, is called before each page's request.
func getAll[T any](ctx context.Context, c *Client, path string, query url.Values, wait func(context.Context) error) ([]T, error) {
	var all []T
	for pageNo := 1; ; pageNo++ {
		if wait != nil {
			if err := wait(ctx); err != nil {
				return all, err
			}
		}
		query.Set("page", strconv.Itoa(pageNo))
		resp, err := c.do(ctx, http.MethodGet, path, query, nil)
		if err != nil {
			return all, err
		}
		var p struct {
			Data  []T `json:"data"`
			Links struct {
				Next *string `json:"next"`
			} `json:"links"`
		}
		if err := json.Unmarshal(resp.Body, &p); err != nil {
			return all, fmt.Errorf("GET %s: the answer is not a page of a list: %w", path, err)
		}
		all = append(all, p.Data...)
		if p.Links.Next == nil || *p.Links.Next == "" || len(p.Data) == 0 {
			return all, nil
		}
	}
}

// AccountPath is the endpoint that finds accounts.
const AccountPath = "/api/v1/account"

// AccountQuery filters a search of accounts. Plannr's filters match partly.
type AccountQuery struct {
	PrimaryEmail string
	// Type keeps one type of account ("client").
	Type string
}

// Account is an account as Plannr answers a search.
type Account struct {
	UUID      string `json:"uuid"`
	Type      string `json:"type"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email"`
	// PrimaryEmailRaw is the included primary e-mail: a contact detail object, or a plain
	// address; read it with PrimaryEmail.
	PrimaryEmailRaw json.RawMessage `json:"primary_email"`
}

// PrimaryEmail is the account's primary e-mail address, whatever shape Plannr gave it in;
// failing that, its "email".
func (a Account) PrimaryEmail() string {
	var s string
	if json.Unmarshal(a.PrimaryEmailRaw, &s) == nil && s != "" {
		return s
	}
	var d ContactDetail
	if decodeMaybeWrapped(a.PrimaryEmailRaw, &d) == nil && d.Value != "" {
		return d.Value
	}
	return a.Email
}

// FindAccounts searches accounts, following the paginator; wait, if set, is called before
// each page's request.
func (c *Client) FindAccounts(ctx context.Context, q AccountQuery, wait func(context.Context) error) ([]Account, error) {
	query := url.Values{"per_page": {"500"}, "include": {"primary_email"}}
	if q.PrimaryEmail != "" {
		query.Set("filter[primary_email]", q.PrimaryEmail)
	}
	if q.Type != "" {
		query.Set("filter[type]", q.Type)
	}
	return getAll[Account](ctx, c, AccountPath, query, wait)
}

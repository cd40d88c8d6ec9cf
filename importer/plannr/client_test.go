package plannr_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"plannr-import/importer/plannr"
	"plannr-import/importer/plannrtest"
)

const (
	jane = "7ed9c726-2d6d-45cf-87fc-6fae4f163072"
	john = "fc9031fc-3155-43b9-8cbc-1d91a84f3c94"
)

func newFake(t *testing.T, opts plannrtest.Options) *plannrtest.Server {
	t.Helper()
	if opts.Clients == nil && !opts.AnyClient {
		opts.Clients = []string{jane, john}
	}
	s, err := plannrtest.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func newClient(t *testing.T, s *plannrtest.Server, token, account string) *plannr.Client {
	t.Helper()
	c, err := plannr.New(plannr.Config{BaseURL: s.URL, Token: token, AccountUUID: account, UserAgent: "plannr-import/test", Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestCreate(t *testing.T) {
	for _, wrap := range []bool{false, true} {
		s := newFake(t, plannrtest.Options{WrapSingle: wrap})
		c := newClient(t, s, s.Token, s.AccountUUID)
		d, resp, err := c.Create(context.Background(), plannr.CreateRequest{Type: "phone_number", Name: "Sydney", Value: plannr.PhoneValue{Country: "AU", Number: "+61298765123"}, IsPrimary: true, AccountUUIDs: []string{jane, john}})
		if err != nil {
			t.Fatalf("wrap=%v: %v", wrap, err)
		}
		if resp.StatusCode != 201 || d.UUID == "" || d.PhoneNumberMeta == nil || d.PhoneNumberMeta.Country != "AU" {
			t.Errorf("wrap=%v: %+v %+v", wrap, d, resp)
		}
		held := s.Details()
		if len(held) != 1 || held[0].UUID != d.UUID || held[0].Value != "+61298765123" || len(held[0].AccountUUIDs) != 2 {
			t.Errorf("server holds %+v", held)
		}
		h := s.LastHeader()
		for k, want := range map[string]string{"Authorization": "Bearer " + s.Token, "X-Plannr-Account-Uuid": s.AccountUUID, "Accept": "application/json", "Content-Type": "application/json", "User-Agent": "plannr-import/test"} {
			if h.Get(k) != want {
				t.Errorf("header %s = %q, want %q", k, h.Get(k), want)
			}
		}
	}
}

func TestCreateRefused(t *testing.T) {
	tests := []struct {
		name        string
		opts        plannrtest.Options
		badToken    bool
		badAccount  bool
		req         plannr.CreateRequest
		status      int
		wantMessage string
	}{
		{"bad token", plannrtest.Options{}, true, false, plannr.CreateRequest{Type: "email", Name: "x", Value: "a@example.com", AccountUUIDs: []string{jane}}, 401, "401 Unauthenticated."},
		{"bad account header", plannrtest.Options{}, false, true, plannr.CreateRequest{Type: "email", Name: "x", Value: "a@example.com", AccountUUIDs: []string{jane}}, 403, "403 This action is unauthorized."},
		{"foreign number as a string", plannrtest.Options{}, false, false, plannr.CreateRequest{Type: "phone_number", Name: "x", Value: "+61298765123", AccountUUIDs: []string{jane}}, 422, "value: The value field must be a valid number."},
		{"number invalid for its country", plannrtest.Options{}, false, false, plannr.CreateRequest{Type: "phone_number", Name: "x", Value: plannr.PhoneValue{Country: "AU", Number: "020 7946 0958"}, AccountUUIDs: []string{jane}}, 422, "value: The value field must be a valid number."},
		{"drama number", plannrtest.Options{}, false, false, plannr.CreateRequest{Type: "phone_number", Name: "x", Value: "+447700900123", AccountUUIDs: []string{jane}}, 422, "value: The value field must be a valid number."},
		{"bad e-mail", plannrtest.Options{}, false, false, plannr.CreateRequest{Type: "email", Name: "x", Value: "jane@", AccountUUIDs: []string{jane}}, 422, "value: The value field must be a valid email address."},
		{"unknown client", plannrtest.Options{}, false, false, plannr.CreateRequest{Type: "email", Name: "x", Value: "a@example.com", AccountUUIDs: []string{jane, "11111111-2222-4333-8444-555555555555"}}, 422, "account_uuids.1: The selected account_uuids.1 is invalid."},
		{"errors as strings", plannrtest.Options{ErrorsAsString: true}, false, false, plannr.CreateRequest{Type: "fax", Name: "", Value: "x", AccountUUIDs: nil}, 422, "account_uuids: The account uuids field is required.; name: The name field is required.; type: The selected type is invalid."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newFake(t, tt.opts)
			token, account := s.Token, s.AccountUUID
			if tt.badToken {
				token = "wrong-token-abcdef"
			}
			if tt.badAccount {
				account = john
			}
			c := newClient(t, s, token, account)
			_, _, err := c.Create(context.Background(), tt.req)
			var pe *plannr.Error
			if !errors.As(err, &pe) || pe.StatusCode != tt.status || !strings.Contains(err.Error(), tt.wantMessage) {
				t.Fatalf("error %v, want %d %q", err, tt.status, tt.wantMessage)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("the error shows the token: %v", err)
			}
			if len(s.Details()) != 0 {
				t.Errorf("a refused request stored a detail")
			}
		})
	}
}

func TestLaravelMessage(t *testing.T) {
	s := newFake(t, plannrtest.Options{})
	c := newClient(t, s, s.Token, s.AccountUUID)
	_, _, err := c.Create(context.Background(), plannr.CreateRequest{Type: "email", Name: "", Value: "nope", AccountUUIDs: []string{jane}})
	var pe *plannr.Error
	if !errors.As(err, &pe) || pe.Message != "The name field is required. (and 1 more error)" || len(pe.Fields) != 2 {
		t.Errorf("got %+v", pe)
	}
}

func TestRateLimit(t *testing.T) {
	s := newFake(t, plannrtest.Options{RateLimit: 2, Window: time.Minute})
	c := newClient(t, s, s.Token, s.AccountUUID)
	var remaining []string
	c.OnResponse = func(status int, h http.Header) { remaining = append(remaining, h.Get("X-RateLimit-Remaining")) }
	req := plannr.CreateRequest{Type: "email", Name: "x", Value: "a@example.com", AccountUUIDs: []string{jane}}
	for i := 0; i < 2; i++ {
		if _, _, err := c.Create(context.Background(), req); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err := c.Create(context.Background(), req)
	var pe *plannr.Error
	if !errors.As(err, &pe) || pe.StatusCode != 429 || pe.RetryAfter < 50*time.Second || pe.RetryAfter > time.Minute {
		t.Fatalf("third request: %v (%+v)", err, pe)
	}
	if strings.Join(remaining, ",") != "1,0,0" {
		t.Errorf("X-RateLimit-Remaining %v", remaining)
	}
	if c.Requests() != 3 || s.Stats().ByStatus[429] != 1 {
		t.Errorf("requests %d, stats %+v", c.Requests(), s.Stats())
	}
}

func TestList(t *testing.T) {
	s := newFake(t, plannrtest.Options{AnyClient: true})
	c := newClient(t, s, s.Token, s.AccountUUID)
	for i := 0; i < 7; i++ {
		acc := jane
		if i%2 == 1 {
			acc = john
		}
		if _, _, err := c.Create(context.Background(), plannr.CreateRequest{Type: "email", Name: "x", Value: strings.Repeat("a", i+1) + "@example.com", AccountUUIDs: []string{acc}}); err != nil {
			t.Fatal(err)
		}
	}
	pages := 0
	all, err := c.List(context.Background(), plannr.ListQuery{PerPage: 3}, func(context.Context) error { pages++; return nil })
	if err != nil || len(all) != 7 || pages != 3 {
		t.Fatalf("List: %d details in %d pages, %v", len(all), pages, err)
	}
	if !strings.Contains(string(all[0].Accounts), jane) {
		t.Errorf("accounts not included: %s", all[0].Accounts)
	}
	some, err := c.List(context.Background(), plannr.ListQuery{AccountUUIDs: []string{john}, Type: "email"}, nil)
	if err != nil || len(some) != 3 {
		t.Errorf("filtered List: %d, %v", len(some), err)
	}
}

func TestFaults(t *testing.T) {
	s := newFake(t, plannrtest.Options{})
	c := newClient(t, s, s.Token, s.AccountUUID)
	req := plannr.CreateRequest{Type: "email", Name: "x", Value: "a@example.com", AccountUUIDs: []string{jane}}

	s.SetFaults(plannrtest.Faults{ServerErrorRate: 1})
	_, _, err := c.Create(context.Background(), req)
	var pe *plannr.Error
	if !errors.As(err, &pe) || pe.StatusCode < 500 {
		t.Errorf("server error: %v", err)
	}
	s.SetFaults(plannrtest.Faults{DropRate: 1})
	if _, _, err := c.Create(context.Background(), req); err == nil || errors.As(err, &pe) {
		t.Errorf("dropped connection: %v", err)
	}
	if len(s.Details()) != 0 {
		t.Error("a failed request stored a detail")
	}
	s.SetFaults(plannrtest.Faults{DropAfterStoreRate: 1})
	if _, _, err := c.Create(context.Background(), req); err == nil {
		t.Error("dropped after store: no error")
	}
	if len(s.Details()) != 1 {
		t.Error("dropped after store: not stored")
	}
	s.SetFaults(plannrtest.Faults{Latency: time.Second})
	c2, _ := plannr.New(plannr.Config{BaseURL: s.URL, Token: s.Token, AccountUUID: s.AccountUUID, Timeout: 50 * time.Millisecond})
	if _, _, err := c2.Create(context.Background(), req); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout: %v", err)
	}
}

func TestParseBaseURL(t *testing.T) {
	good := []string{"https://api.plannrcrm.com", "https://api.plannrcrm.com/", "http://127.0.0.1:8080", "http://localhost:1234", "http://[::1]:99"}
	for _, u := range good {
		if _, err := plannr.ParseBaseURL(u); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
	bad := map[string]string{
		"http://api.plannrcrm.com":    "plain http",
		"http://10.0.0.5:8080":        "plain http",
		"http://localhost.evil.com":   "plain http",
		"ftp://api.plannrcrm.com":     "must start with https://",
		"api.plannrcrm.com":           "is not a URL",
		"https://user:pw@example.com": "user name or password",
	}
	for u, want := range bad {
		if _, err := plannr.ParseBaseURL(u); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", u, err, want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	tests := map[string]time.Duration{
		"":                              0,
		"7":                             7 * time.Second,
		" 0 ":                           0,
		"-3":                            0,
		"soon":                          0,
		"Thu, 03 Dec 2026 12:00:30 GMT": 30 * time.Second,
		"Thu, 03 Dec 2026 11:00:00 GMT": 0,
	}
	for in, want := range tests {
		if got := plannr.ParseRetryAfter(in, now); got != want {
			t.Errorf("ParseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

package plannrtest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

const client = "7ed9c726-2d6d-45cf-87fc-6fae4f163072"

// call sends a raw request, as a client that gets details wrong would.
func call(t *testing.T, s *Server, method, path, body string, header map[string]string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, s.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.Token)
	req.Header.Set("X-PLANNR-ACCOUNT-UUID", s.AccountUUID)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		if v == "" {
			req.Header.Del(k)
		} else {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var doc map[string]any
	json.Unmarshal(data, &doc)
	return resp.StatusCode, doc
}

func newServer(t *testing.T) *Server {
	t.Helper()
	s, err := NewServer(Options{Clients: []string{client}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func TestRequestChecks(t *testing.T) {
	s := newServer(t)
	good := `{"type":"email","name":"Home","value":"a@example.com","account_uuids":["` + client + `"]}`
	tests := []struct {
		name, method, path, body string
		header                   map[string]string
		status                   int
		message                  string
	}{
		{"no token", "POST", "/api/v2/contact-details", good, map[string]string{"Authorization": ""}, 401, "Unauthenticated."},
		{"no firm account", "POST", "/api/v2/contact-details", good, map[string]string{"X-PLANNR-ACCOUNT-UUID": ""}, 403, "This action is unauthorized."},
		{"no Accept", "POST", "/api/v2/contact-details", good, map[string]string{"Accept": ""}, 406, ""},
		{"form body", "POST", "/api/v2/contact-details", good, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415, ""},
		{"not JSON", "POST", "/api/v2/contact-details", "{type:", nil, 400, ""},
		{"is_primary not a boolean", "POST", "/api/v2/contact-details", `{"type":"email","name":"Home","value":"a@example.com","is_primary":"yes","account_uuids":["` + client + `"]}`, nil, 422, "The is primary field must be true or false."},
		{"account not a UUID", "POST", "/api/v2/contact-details", `{"type":"email","name":"Home","value":"a@example.com","account_uuids":["C-1"]}`, nil, 422, "The account_uuids.0 field must be a valid UUID."},
		{"per_page too big", "GET", "/api/v2/contact-details?per_page=501", "", nil, 422, "The per page field must be between 1 and 500."},
		{"unknown route", "GET", "/api/v2/contacts", "", nil, 404, "Not Found"},
		{"wrong method", "DELETE", "/api/v2/contact-details", "", nil, 405, ""},
	}
	for _, tt := range tests {
		status, doc := call(t, s, tt.method, tt.path, tt.body, tt.header)
		if status != tt.status || tt.message != "" && doc["message"] != tt.message {
			t.Errorf("%s: %d %v, want %d %q", tt.name, status, doc["message"], tt.status, tt.message)
		}
	}
	if len(s.Details()) != 0 {
		t.Error("a refused request stored a detail")
	}
	if status, _ := call(t, s, "POST", "/api/v2/contact-details", good, nil); status != 201 {
		t.Errorf("the good request: %d", status)
	}
}

func TestPrimaryMovesAndPagination(t *testing.T) {
	s := newServer(t)
	for _, v := range []string{"a@example.com", "b@example.com", "c@example.com"} {
		if status, _ := call(t, s, "POST", "/api/v2/contact-details", `{"type":"email","name":"x","value":"`+v+`","is_primary":true,"account_uuids":["`+client+`"]}`, nil); status != 201 {
			t.Fatal(status)
		}
	}
	var primaries []string
	for _, d := range s.Details() {
		if d.IsPrimary {
			primaries = append(primaries, d.Value)
		}
	}
	if strings.Join(primaries, ",") != "c@example.com" {
		t.Errorf("primaries %v: the last primary should win", primaries)
	}
	status, doc := call(t, s, "GET", "/api/v2/contact-details?per_page=2&filter[account_uuids]="+client, "", nil)
	meta := doc["meta"].(map[string]any)
	links := doc["links"].(map[string]any)
	if status != 200 || meta["total"] != 3.0 || meta["last_page"] != 2.0 || !strings.Contains(links["next"].(string), "page=2") || links["prev"] != nil {
		t.Errorf("page 1: %d %v %v", status, meta, links)
	}
	_, doc = call(t, s, "GET", "/api/v2/contact-details?per_page=2&page=2&filter[value]=C@EXAMPLE", "", nil)
	if data := doc["data"].([]any); len(data) != 0 {
		t.Errorf("page 2 of one match: %v", data)
	}
	_, doc = call(t, s, "GET", "/api/v2/contact-details?filter[value]=C@EXAMPLE&filter[type]=email", "", nil)
	if data := doc["data"].([]any); len(data) != 1 || doc["links"].(map[string]any)["next"] != nil {
		t.Errorf("filter[value]: %v", doc)
	}
}

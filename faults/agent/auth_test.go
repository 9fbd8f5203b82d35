package agent

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestEveryEndpointRefusesBadTokens sends every route of the control API
// (and one that does not exist) a missing, wrong, truncated, extended,
// wrong-scheme and empty bearer token: each answer is 401, and nothing
// happened (no fault was applied, none healed).
func TestEveryEndpointRefusesBadTokens(t *testing.T) {
	const token = "s3cret-token-0123456789abcdef"
	a, err := New(Config{Token: token})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	defer srv.Close()
	routes := []struct{ method, path, body string }{
		{"POST", "/faults", `{"id":"burn","kind":"cpu","params":{"cores":1}}`},
		{"GET", "/faults", ""},
		{"DELETE", "/faults/burn", ""},
		{"POST", "/heal-all", ""},
		{"GET", "/healthz", ""},
		{"GET", "/capabilities", ""},
		{"GET", "/probe?resolve=localhost&connect=127.0.0.1:1", ""},
		{"GET", "/no-such-route", ""},
	}
	headers := map[string]string{
		"missing":     "",
		"wrong":       "Bearer wrong",
		"truncated":   "Bearer " + token[:len(token)-1],
		"extended":    "Bearer " + token + "x",
		"no scheme":   token,
		"basic":       "Basic " + token,
		"lower case":  "bearer " + token,
		"empty token": "Bearer ",
	}
	for _, r := range routes {
		for name, h := range headers {
			req, _ := http.NewRequest(r.method, srv.URL+r.path, strings.NewReader(r.body))
			if h != "" {
				req.Header.Set("Authorization", h)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body bytes.Buffer
			body.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("%s %s with %s token: %d, want 401", r.method, r.path, name, resp.StatusCode)
			}
			if strings.Contains(body.String(), token) {
				t.Errorf("%s %s: the answer shows the token: %s", r.method, r.path, body.String())
			}
		}
	}
	if st := a.Status(); len(st.Faults) != 0 {
		t.Errorf("unauthorized requests changed the agent: %+v", st)
	}
	// The right token is accepted on the same server, so the 401s above
	// are about the token.
	req, _ := http.NewRequest("GET", srv.URL+"/healthz", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("right token: %v %v", resp, err)
	}
}

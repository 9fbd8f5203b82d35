package agent

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
)

// fuzzFault stands in for a real fault while the control API is fuzzed:
// the fuzzer must reach the handler's decoding, validation and bookkeeping,
// never the node's nftables, processes or memory.
type fuzzFault struct{}

func (fuzzFault) mechanism() string          { return "fuzz" }
func (fuzzFault) measure() (Measured, error) { return Measured{}, nil }
func (fuzzFault) heal() (Measured, error)    { return Measured{}, nil }

// fuzzRoutes are the routes fuzzed. /probe (it resolves names and connects
// to addresses the input picks) and /heal-all (it sweeps the host's own
// nftables and qdiscs) are left out, and so is /capabilities (it probes
// the kernel): they reach outside the process.
var fuzzRoutes = []struct{ method, path string }{
	{http.MethodPost, "/faults"},
	{http.MethodGet, "/faults"},
	{http.MethodDelete, "/faults/"},
	{http.MethodPut, "/faults"},
}

// FuzzControlAPI sends arbitrary requests to the agent's control API in
// process: it must never panic, must answer a status it documents, and
// must answer every error with an ErrorBody.
func FuzzControlAPI(f *testing.F) {
	for kind := range appliers {
		f.Add(uint8(0), "", []byte(`{"id":"f1","kind":"`+string(kind)+`","params":{"percent":30,"delay":"50ms"}}`), true)
	}
	f.Add(uint8(0), "", []byte(`{"id":"x","kind":"cpu","colour":1}`), true)
	f.Add(uint8(2), "f1", []byte(nil), true)
	f.Add(uint8(1), "", []byte(nil), false)
	f.Add(uint8(3), "", []byte(nil), true)
	saved := appliers
	fake := map[Kind]applier{}
	for kind := range saved {
		fake[kind] = func(*Agent, Fault) (fault, error) { return fuzzFault{}, nil }
	}
	appliers = fake
	f.Cleanup(func() { appliers = saved })
	a, err := New(Config{Token: "secret"})
	if err != nil {
		f.Fatal(err)
	}
	h := a.Handler()
	documented := map[int]bool{200: true, 201: true, 400: true, 401: true, 404: true, 405: true, 409: true, 500: true, 501: true}
	f.Fuzz(func(t *testing.T, route uint8, id string, body []byte, auth bool) {
		r := fuzzRoutes[int(route)%len(fuzzRoutes)]
		path := r.path
		if r.method == http.MethodDelete {
			path += url.PathEscape(id)
		}
		req := httptest.NewRequest(r.method, path, bytes.NewReader(body))
		if auth {
			req.Header.Set("Authorization", "Bearer secret")
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if !documented[w.Code] {
			t.Fatalf("%s %s: undocumented status %d: %s", r.method, path, w.Code, w.Body)
		}
		// ServeMux answers a path it does not route (DELETE /faults/ with an
		// empty id, found by this target) in plain text, and so 405: the
		// agent's ErrorBody covers only the routes it handles.
		unrouted := w.Code == http.StatusNotFound && w.Body.String() == "404 page not found\n"
		if w.Code >= 400 && w.Code != http.StatusMethodNotAllowed && !unrouted {
			var e ErrorBody
			if err := json.Unmarshal(w.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Fatalf("%s %s: status %d without an error body: %q", r.method, path, w.Code, w.Body)
			}
		}
		if len(a.Status().Faults) > 64 {
			a.mu.Lock()
			a.active, a.order = map[string]*activeFault{}, nil
			a.mu.Unlock()
		}
	})
}

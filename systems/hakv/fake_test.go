package hakv

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// fakeCluster is a tiny in-memory hakv for unit tests: one shared map, one
// node that is the primary, standbys that answer 503 with the Hakv-Primary
// hint, and per-node overrides to misbehave.
type fakeCluster struct {
	mu       sync.Mutex
	data     map[string]string
	primary  string
	override map[string]http.HandlerFunc // node -> replaces the API
	// chaos, when set, sees every request first and may answer it itself
	// (returning true) instead of the API.
	chaos   func(node string, w http.ResponseWriter, r *http.Request) bool
	servers map[string]*httptest.Server
	hits    map[string]int // requests per node
}

func newFakeCluster(t testing.TB, names ...string) *fakeCluster {
	fc := &fakeCluster{
		data:     map[string]string{},
		primary:  names[0],
		override: map[string]http.HandlerFunc{},
		servers:  map[string]*httptest.Server{},
		hits:     map[string]int{},
	}
	for _, n := range names {
		srv := httptest.NewServer(fc.handler(n))
		t.Cleanup(srv.Close)
		fc.servers[n] = srv
	}
	return fc
}

// endpoints returns name -> "127.0.0.1:port" for every node.
func (fc *fakeCluster) endpoints() map[string]string {
	m := map[string]string{}
	for n, s := range fc.servers {
		m[n] = strings.TrimPrefix(s.URL, "http://")
	}
	return m
}

func (fc *fakeCluster) setPrimary(n string) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.primary = n
}

func (fc *fakeCluster) setOverride(n string, h http.HandlerFunc) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.override[n] = h
}

func (fc *fakeCluster) hitCount(n string) int {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.hits[n]
}

func (fc *fakeCluster) handler(node string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /kv/{key}", func(w http.ResponseWriter, r *http.Request) {
		fc.mu.Lock()
		v, ok := fc.data[r.PathValue("key")]
		fc.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(v))
	})
	mux.HandleFunc("PUT /kv/{key}", func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		key := r.PathValue("key")
		fc.mu.Lock()
		defer fc.mu.Unlock()
		if from, cas := r.URL.Query()["if"]; cas && fc.data[key] != from[0] {
			http.Error(w, "precondition failed", http.StatusPreconditionFailed)
			return
		}
		fc.data[key] = string(body)
	})
	mux.HandleFunc("GET /kv", func(w http.ResponseWriter, r *http.Request) {
		prefix := r.URL.Query().Get("prefix")
		out := map[string]string{}
		fc.mu.Lock()
		for k, v := range fc.data {
			if strings.HasPrefix(k, prefix) {
				out[k] = v
			}
		}
		fc.mu.Unlock()
		_ = json.NewEncoder(w).Encode(out)
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fc.mu.Lock()
		fc.hits[node]++
		over, primary, chaos := fc.override[node], fc.primary, fc.chaos
		fc.mu.Unlock()
		switch {
		case chaos != nil && chaos(node, w, r):
		case over != nil:
			over(w, r)
		case r.URL.Path == "/status":
			role := map[bool]string{true: "primary", false: "standby"}[node == primary]
			_ = json.NewEncoder(w).Encode(map[string]any{"id": node, "role": role, "primary": primary})
		case node != primary:
			w.Header().Set(PrimaryHeader, primary)
			http.Error(w, "not primary", http.StatusServiceUnavailable)
		default:
			mux.ServeHTTP(w, r)
		}
	})
}

// status answers every request with code, and with the primary hint when
// hint is not nil.
func status(code int, hint *string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if hint != nil {
			w.Header().Set(PrimaryHeader, *hint)
		}
		http.Error(w, http.StatusText(code), code)
	}
}

// resetAfterRead reads the whole request, then resets the connection: the
// server may have acted on it, and the client gets no answer.
func resetAfterRead(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0) // RST rather than FIN
	}
	_ = conn.Close()
}

// refusedAddr returns a 127.0.0.1 address nothing listens on.
func refusedAddr(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	_ = l.Close()
	return addr
}

func (fc *fakeCluster) primaryName() string {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.primary
}

func (fc *fakeCluster) setChaos(f func(node string, w http.ResponseWriter, r *http.Request) bool) {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	fc.chaos = f
}

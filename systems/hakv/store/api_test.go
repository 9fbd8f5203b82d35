package store

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestCompareAndSet checks ?if=OLD against the committed value, including
// the empty value meaning "absent", and that concurrent compare-and-sets
// from the same value have exactly one winner.
func TestCompareAndSet(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 3, fast...)
	p, _ := c.waitPrimary(anyPrimary)
	steps := []struct {
		key, ifOld, value string
		want              int
	}{
		{"k", "", "a", http.StatusOK},                      // if= on an absent key creates it
		{"k", "", "b", http.StatusPreconditionFailed},      // ...and fails once it exists
		{"k", "a", "b", http.StatusOK},                     // matching value
		{"k", "a", "c", http.StatusPreconditionFailed},     // stale expectation
		{"nokey", "x", "y", http.StatusPreconditionFailed}, // absent is not "x"
	}
	for _, s := range steps {
		code, _, err := c.put(p, s.key, s.value, &s.ifOld)
		if err != nil || code != s.want {
			t.Fatalf("cas %s if=%q -> %q: got %d %v, want %d", s.key, s.ifOld, s.value, code, err, s.want)
		}
	}
	if code, v, _ := c.get(p, "k"); code != http.StatusOK || v != "b" {
		t.Fatalf("k = %d %q, want b", code, v)
	}
	if code, _, _ := c.get(p, "nokey"); code != http.StatusNotFound {
		t.Fatalf("failed cas created nokey: %d", code)
	}

	var mu sync.Mutex
	var winners []string
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			from, to := "b", fmt.Sprintf("w%d", w)
			code, _, err := c.put(p, "k", to, &from)
			if err != nil || code != http.StatusOK && code != http.StatusPreconditionFailed {
				t.Errorf("concurrent cas: %d %v", code, err)
			}
			if code == http.StatusOK {
				mu.Lock()
				winners = append(winners, to)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(winners) != 1 {
		t.Fatalf("concurrent cas from the same value: %d winners %v, want 1", len(winners), winners)
	}
	if _, v, _ := c.get(p, "k"); v != winners[0] {
		t.Fatalf("k = %q, want the winner's %q", v, winners[0])
	}
}

// TestClientAPI covers the rest of the client contract on one cluster:
// reads, 404, prefix scans, a standby's 503 naming the primary, health and
// status.
func TestClientAPI(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 3, fast...)
	p, _ := c.waitPrimary(anyPrimary)
	for _, k := range []string{"a/1", "a/2", "b/1"} {
		mustPut(t, c, p, k, "v"+k)
	}
	if code, v, _ := c.get(p, "a/2"); code != http.StatusOK || v != "va/2" {
		t.Errorf("get a/2: %d %q", code, v)
	}
	if code, _, _ := c.get(p, "zzz"); code != http.StatusNotFound {
		t.Errorf("get absent key: %d, want 404", code)
	}
	got, err := c.scan(p, "a/")
	if err != nil || len(got) != 2 || got["a/1"] != "va/1" || got["a/2"] != "va/2" {
		t.Errorf("scan a/: %v %v", got, err)
	}
	s := (p + 1) % 3
	waitFor(t, "the standby to know the primary", func() bool {
		st, err := c.status(s)
		return err == nil && st.Role == RoleStandby && st.Primary == c.nodes[p].id && st.CommitIndex >= 4
	})
	code, hdr, _ := c.put(s, "x", "1", nil)
	if code != http.StatusServiceUnavailable || hdr.Get(PrimaryHeader) != c.nodes[p].id {
		t.Errorf("write on a standby: %d, %s=%q; want 503 naming %s", code, PrimaryHeader, hdr.Get(PrimaryHeader), c.nodes[p].id)
	}
	resp, err := c.hc.Get("http://" + c.nodes[s].addr + "/kv/a/1")
	if err != nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get(PrimaryHeader) != c.nodes[p].id {
		t.Errorf("read on a standby without --stale-reads: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	if resp, err := c.hc.Get("http://" + c.nodes[s].addr + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("healthz on a standby: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

// TestBodyOver1MiBGets413 sends a value one byte over the limit (413) and
// one exactly at it, which passes the size check and is then refused only
// because this node is not primary.
func TestBodyOver1MiBGets413(t *testing.T) {
	cfg := Config{
		ID: "n1", Peers: []Peer{{ID: "n1", Addr: "127.0.0.1:1"}, {ID: "n2", Addr: "127.0.0.1:2"}},
		DataDir: t.TempDir(), Replication: Sync, Election: Quorum, FsyncAlways: true,
		Heartbeat: 100 * time.Millisecond, FailoverTimeout: time.Second,
	}
	n, err := newNode(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer n.wal.Close()
	srv := httptest.NewServer(n.routes())
	defer srv.Close()
	for _, tc := range []struct {
		size int
		want int
	}{{MaxValue + 1, http.StatusRequestEntityTooLarge}, {4 * MaxValue, http.StatusRequestEntityTooLarge}, {MaxValue, http.StatusServiceUnavailable}} {
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/kv/big", bytes.NewReader(make([]byte, tc.size)))
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatalf("put %d bytes: %v", tc.size, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("put %d bytes: %d, want %d", tc.size, resp.StatusCode, tc.want)
		}
	}
}

// TestSIGTERMStopsCleanly: SIGTERM stops serving and exits 0.
func TestSIGTERMStopsCleanly(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 1, fast...)
	p, _ := c.waitPrimary(anyPrimary)
	mustPut(t, c, p, "k", "v")
	c.signal(p, syscall.SIGTERM)
	select {
	case <-c.nodes[p].done:
	case <-time.After(5 * time.Second):
		t.Fatal("still running 5 s after SIGTERM")
	}
	if code := c.nodes[p].exit.ExitCode(); code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
	c.nodes[p].cmd = nil
	if !strings.Contains(c.logOf(p), "msg=stopped") {
		t.Errorf("no stop logged")
	}
	// The write survives the restart of a single-node cluster.
	c.start(p)
	c.waitPrimary(anyPrimary)
	if code, v, _ := c.get(p, "k"); code != http.StatusOK || v != "v" {
		t.Errorf("after restart k = %d %q", code, v)
	}
}

package store

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// Benchmark shape: one op is a batch of benchBatch writes spread over
// benchClients concurrent clients, so that even -benchtime 1x measures a
// real rate.
const (
	benchClients = 16
	benchBatch   = 2000
)

var benchValue = strings.Repeat("x", 100)

// BenchmarkWrites measures acknowledged writes per second through three
// hakv processes on loopback for each replication mode (fsync=always,
// quorum election), and a bare in-process net/http PUT handler on loopback
// as the baseline, in the same run. Each mode also reports its ratio to the
// baseline.
func BenchmarkWrites(b *testing.B) {
	var baseline float64
	b.Run("baseline", func(b *testing.B) {
		srv := httptest.NewServer(bareStore())
		defer srv.Close()
		baseline = measureWrites(b, srv.URL)
	})
	for _, mode := range []Replication{Sync, SemiSync, Async} {
		b.Run(string(mode), func(b *testing.B) {
			c := startCluster(b, 3, append(fast, "--replication="+string(mode))...)
			p, _ := c.waitPrimary(anyPrimary)
			wps := measureWrites(b, "http://"+c.nodes[p].addr)
			if baseline > 0 {
				b.ReportMetric(wps/baseline, "x-baseline")
			}
		})
	}
}

// bareStore is the baseline: a map behind a mutex, no log, no replication.
func bareStore() http.Handler {
	var mu sync.Mutex
	m := map[string][]byte{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxValue))
		if err != nil || r.Method != http.MethodPut {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		mu.Lock()
		m[r.URL.Path] = v
		mu.Unlock()
		io.WriteString(w, "ok\n")
	})
}

// measureWrites runs batches of PUTs against base and reports writes/s.
func measureWrites(b *testing.B, base string) float64 {
	hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: benchClients}}
	defer hc.CloseIdleConnections()
	var seq atomic.Int64
	total := 0
	for b.Loop() {
		var wg sync.WaitGroup
		var next atomic.Int64
		for range benchClients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for next.Add(1) <= benchBatch {
					if err := benchPut(hc, fmt.Sprintf("%s/kv/bench-%d", base, seq.Add(1))); err != nil {
						b.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		total += benchBatch
	}
	wps := float64(total) / b.Elapsed().Seconds()
	b.ReportMetric(wps, "writes/s")
	return wps
}

func benchPut(hc *http.Client, url string) error {
	req, err := http.NewRequest(http.MethodPut, url, strings.NewReader(benchValue))
	if err != nil {
		return err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("put %s: %s", url, resp.Status)
	}
	return nil
}

package hakv

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/workload"
)

// benchClients is the concurrency of both loops in BenchmarkRecordedVsBare.
const benchClients = 4

// BenchmarkRecordedVsBare compares the harness's write throughput (Runner:
// routing, classification, the recorder and a history file) against a bare
// http.Client PUT loop, against the same server in the same run. Each
// iteration runs both loops for benchWindow; run it with -benchtime=Nx.
// Metrics: recorded-ops/s, bare-ops/s and recorded/bare.
func BenchmarkRecordedVsBare(b *testing.B) {
	const benchWindow = time.Second
	srv := benchServer(b)
	addr := strings.TrimPrefix(srv.URL, "http://")
	var recOps, bareOps int64
	var recTime, bareTime time.Duration
	for i := range b.N {
		n, d := recordedLoop(b, addr, benchWindow, i)
		recOps, recTime = recOps+n, recTime+d
		n, d = bareLoop(b, srv.URL, benchWindow)
		bareOps, bareTime = bareOps+n, bareTime+d
	}
	rec := float64(recOps) / recTime.Seconds()
	bare := float64(bareOps) / bareTime.Seconds()
	b.ReportMetric(rec, "recorded-ops/s")
	b.ReportMetric(bare, "bare-ops/s")
	b.ReportMetric(rec/bare, "recorded/bare")
}

// benchServer is a minimal in-memory PUT endpoint, the same for both loops.
func benchServer(b *testing.B) *httptest.Server {
	var mu sync.Mutex
	data := map[string]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v, err := io.ReadAll(r.Body)
		if err != nil || r.Method != http.MethodPut {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		mu.Lock()
		data[r.URL.Path] = string(v)
		mu.Unlock()
	}))
	b.Cleanup(srv.Close)
	return srv
}

// recordedLoop runs the Runner, writes only, unpaced, for d.
func recordedLoop(b *testing.B, addr string, d time.Duration, i int) (int64, time.Duration) {
	w, err := history.Create(filepath.Join(b.TempDir(), "history-"+strconv.Itoa(i)+".jsonl"))
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	kv := NewClient(map[string]string{"n1": addr}, benchClients)
	defer kv.CloseIdleConnections()
	r := workload.NewRunner(kv, workload.NewRecorder(w, time.Now()))
	start := time.Now()
	st, err := r.Run(context.Background(), workload.Config{Clients: benchClients, Duration: d, Mix: workload.Mix{Write: 1}})
	if err != nil {
		b.Fatal(err)
	}
	if st.OK != st.Total {
		b.Fatalf("recorded loop: %d of %d ok", st.OK, st.Total)
	}
	return st.Total, time.Since(start)
}

// bareLoop PUTs from benchClients goroutines with a plain tuned client for d.
func bareLoop(b *testing.B, url string, d time.Duration) (int64, time.Duration) {
	tr := &http.Transport{MaxIdleConnsPerHost: benchClients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	var ops atomic.Int64
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	start := time.Now()
	var wg sync.WaitGroup
	for c := range benchClients {
		wg.Go(func() {
			for seq := 0; ctx.Err() == nil; seq++ {
				v := strconv.Itoa(c) + "-" + strconv.Itoa(seq)
				req, _ := http.NewRequest(http.MethodPut, url+"/kv/k"+strconv.Itoa(seq%16), strings.NewReader(v))
				resp, err := hc.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				ops.Add(1)
			}
		})
	}
	wg.Wait()
	return ops.Load(), time.Since(start)
}

package metrics

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/results/internal/fakerun"
)

// drilledMetrics is a Metrics after a short run: three ok writes on n1, a
// failed write, a kill that ended, a failover to n2, and a verdict.
func drilledMetrics(t *testing.T, rto *float64) *Exporter {
	t.Helper()
	m := New("kill-primary")
	for range 3 {
		m.ObserveOp(history.Op{Type: history.OK, F: history.Write}, 4*time.Millisecond)
	}
	m.ObserveOp(history.Op{Type: history.Invoke, F: history.Write}, 0) // ignored
	m.ObserveOp(history.Op{Type: history.Fail, F: history.Write}, 2*time.Second)
	m.SetPrimary("n1")
	m.SetActiveFaults([]string{"kill", "kill", "pause"})
	m.SetActiveFaults(nil)
	m.SetPrimary("n2")
	r := fakerun.Default(fakerun.T0)
	r.RTO = rto
	m.Finish(r.Verdict())
	return m
}

// sample finds the value of the series of family name whose labels
// include want.
func sample(t *testing.T, fams map[string]*dto.MetricFamily, name string, want map[string]string) *dto.Metric {
	t.Helper()
	f, ok := fams[name]
	if !ok {
		t.Fatalf("no metric family %s", name)
	}
next:
	for _, m := range f.Metric {
		have := map[string]string{}
		for _, l := range m.Label {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if have[k] != v {
				continue next
			}
		}
		return m
	}
	t.Fatalf("%s has no series with labels %v", name, want)
	return nil
}

func gaugeOf(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	t.Helper()
	return sample(t, fams, name, labels).GetGauge().GetValue()
}

func parseText(t *testing.T, r io.Reader) map[string]*dto.MetricFamily {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		t.Fatalf("parse metrics text: %v", err)
	}
	return fams
}

func TestMetricsTextfileParsesBack(t *testing.T) {
	m := drilledMetrics(t, fakerun.F64(2.5))
	path := filepath.Join(t.TempDir(), "hadrill.prom")
	if err := m.WriteTextfile(path); err != nil {
		t.Fatal(err)
	}
	if tmp, _ := filepath.Glob(path + "?*"); len(tmp) > 0 {
		t.Errorf("temporary files left behind: %v", tmp)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fams := parseText(t, f)
	for name, fam := range fams {
		if !strings.HasPrefix(name, "hadrill_") {
			t.Errorf("metric %s lacks the hadrill_ prefix", name)
		}
		for _, s := range fam.Metric {
			if !hasLabel(s, "scenario", "kill-primary") {
				t.Errorf("a series of %s lacks scenario=kill-primary", name)
			}
		}
	}
	if got := sample(t, fams, "hadrill_ops_total", map[string]string{"f": "write", "outcome": "ok"}).GetCounter().GetValue(); got != 3 {
		t.Errorf("ok writes = %v, want 3", got)
	}
	h := sample(t, fams, "hadrill_op_latency_seconds", map[string]string{"f": "write", "outcome": "fail"}).GetHistogram()
	if h.GetSampleCount() != 1 || h.GetSampleSum() != 2 {
		t.Errorf("fail latency histogram count=%d sum=%v, want 1 and 2", h.GetSampleCount(), h.GetSampleSum())
	}
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"hadrill_active_faults", map[string]string{"kind": "kill"}, 0},
		{"hadrill_active_faults", map[string]string{"kind": "pause"}, 0},
		{"hadrill_primary", map[string]string{"node": "n1"}, 0},
		{"hadrill_primary", map[string]string{"node": "n2"}, 1},
		{"hadrill_rto_seconds", nil, 2.5},
		{"hadrill_fault_rto_seconds", map[string]string{"fault": "0", "kind": "kill"}, 2.5},
		{"hadrill_lost_writes", nil, 0},
		{"hadrill_availability_ratio", nil, 0.95},
		{"hadrill_check_result", map[string]string{"check": "rpo", "result": "pass"}, 1},
		{"hadrill_check_result", map[string]string{"check": "rpo", "result": "fail"}, 0},
		{"hadrill_verdict", map[string]string{"result": "pass"}, 1},
	} {
		if got := gaugeOf(t, fams, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
}

func TestMetricsActiveFaultsCountsKinds(t *testing.T) {
	m := New("s")
	m.SetActiveFaults([]string{"partition", "partition", "kill"})
	fams := gather(t, m)
	if got := gaugeOf(t, fams, "hadrill_active_faults", map[string]string{"kind": "partition"}); got != 2 {
		t.Errorf("active partitions = %v, want 2", got)
	}
	if _, ok := fams["hadrill_rto_seconds"]; ok {
		t.Error("hadrill_rto_seconds is exported before Finish measured it")
	}
}

func TestMetricsUnboundedRTOIsInf(t *testing.T) {
	m := drilledMetrics(t, nil)
	if got := gaugeOf(t, gather(t, m), "hadrill_rto_seconds", nil); !math.IsInf(got, 1) {
		t.Errorf("unbounded RTO exported as %v, want +Inf", got)
	}
}

func gather(t *testing.T, m *Exporter) map[string]*dto.MetricFamily {
	t.Helper()
	mfs, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*dto.MetricFamily{}
	for _, mf := range mfs {
		out[mf.GetName()] = mf
	}
	return out
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.Label {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

// TestMetricsPromtoolAccepts lints the textfile with Prometheus's own
// tool. It is skipped where promtool is not installed (Debian: apt-get
// install prometheus).
func TestMetricsPromtoolAccepts(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Skip("promtool not installed")
	}
	path := filepath.Join(t.TempDir(), "hadrill.prom")
	if err := drilledMetrics(t, nil).WriteTextfile(path); err != nil {
		t.Fatal(err)
	}
	in, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = in
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}

func TestMetricsServeUntilContextEnds(t *testing.T) {
	m := drilledMetrics(t, fakerun.F64(2.5))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.serve(ctx, ln)
	url := "http://" + ln.Addr().String() + "/metrics"
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	fams := parseText(t, resp.Body)
	resp.Body.Close()
	if got := gaugeOf(t, fams, "hadrill_primary", map[string]string{"node": "n2"}); got != 1 {
		t.Errorf("served hadrill_primary{node=n2} = %v, want 1", got)
	}
	cancel()
	deadline := time.Now().Add(3 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", ln.Addr().String(), 200*time.Millisecond)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("metrics server still accepts connections after ctx ended")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestMetricsServeRejectsBadAddress(t *testing.T) {
	err := New("s").Serve(context.Background(), "127.0.0.1:notaport")
	if err == nil || !strings.HasPrefix(err.Error(), "serve metrics: ") {
		t.Errorf("Serve(bad address) = %v, want a serve metrics error", err)
	}
}

// TestMetricsPushToGateway pushes to a fake pushgateway on 127.0.0.1 and
// checks the grouping key and the series it received.
func TestMetricsPushToGateway(t *testing.T) {
	var mu sync.Mutex
	var method, path string
	var fams map[string]*dto.MetricFamily
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		method, path = r.Method, r.URL.Path
		fams = map[string]*dto.MetricFamily{}
		dec := expfmt.NewDecoder(r.Body, expfmt.ResponseFormat(r.Header))
		for {
			var mf dto.MetricFamily
			if err := dec.Decode(&mf); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Errorf("decode push: %v", err)
				}
				break
			}
			fams[mf.GetName()] = &mf
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer gw.Close()
	if !strings.HasPrefix(gw.URL, "http://127.0.0.1:") {
		t.Fatalf("fake pushgateway at %s, want 127.0.0.1", gw.URL)
	}
	if err := drilledMetrics(t, fakerun.F64(2.5)).Push(context.Background(), gw.URL, "hadrill"); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if method != http.MethodPut || path != "/metrics/job/hadrill/scenario/kill-primary" {
		t.Errorf("push was %s %s, want PUT /metrics/job/hadrill/scenario/kill-primary", method, path)
	}
	s := sample(t, fams, "hadrill_rto_seconds", nil)
	if s.GetGauge().GetValue() != 2.5 || hasLabel(s, "scenario", "kill-primary") {
		t.Errorf("pushed RTO series %v: want 2.5 without a scenario label (the grouping key has it)", s)
	}
}

// TestMetricsConcurrentUse drives the metrics as the runner does, from
// many clients at once while the nemesis changes faults and primaries;
// run it with -race.
func TestMetricsConcurrentUse(t *testing.T) {
	m := New("s")
	var wg sync.WaitGroup
	for p := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 500 {
				m.ObserveOp(history.Op{Process: p, Type: history.OK, F: history.Read}, time.Millisecond)
				if i%100 == 0 {
					m.SetPrimary([]string{"n1", "n2"}[i%2])
					m.SetActiveFaults([]string{"pause"})
				}
			}
		}()
	}
	wg.Wait()
	if got := sample(t, gather(t, m), "hadrill_ops_total", map[string]string{"f": "read"}).GetCounter().GetValue(); got != 4000 {
		t.Errorf("ops counted %v, want 4000", got)
	}
}

// TestMetricsServeOneAddressRunAfterRun serves two runs in turn on one
// address, as --repeat does: the second waits for the first to let go.
func TestMetricsServeOneAddressRunAfterRun(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx1, cancel1 := context.WithCancel(context.Background())
	if err := New("first").Serve(ctx1, addr); err != nil {
		t.Fatal(err)
	}
	cancel1()
	ctx2, cancel2 := context.WithCancel(context.Background())
	defer cancel2()
	if err := New("second").Serve(ctx2, addr); err != nil {
		t.Fatalf("second run could not serve on %s: %v", addr, err)
	}
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if strings.Contains(string(body), `scenario="first"`) {
		t.Error("the first run's server still answers")
	}
}

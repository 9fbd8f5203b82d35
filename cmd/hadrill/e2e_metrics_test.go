package main

import (
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// watchOpsCounter polls the live metrics endpoint while a run goes on and
// reports how much hadrill_ops_total grew between the first and the last
// successful scrape.
func watchOpsCounter(t *testing.T, addr string) <-chan float64 {
	out := make(chan float64, 1)
	go func() {
		first, last := -1.0, -1.0
		deadline := time.Now().Add(4 * time.Minute)
		for time.Now().Before(deadline) {
			if v, ok := scrapeOps(addr); ok {
				if first < 0 {
					first = v
				}
				last = v
			} else if first >= 0 {
				break // the run ended and took the server with it
			}
			time.Sleep(time.Second)
		}
		out <- last - first
	}()
	return out
}

func scrapeOps(addr string) (float64, bool) {
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		return 0, false
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	fams, err := parseMetrics(strings.NewReader(string(b)))
	if err != nil {
		return 0, false
	}
	var sum float64
	for _, m := range fams["hadrill_ops_total"].GetMetric() {
		sum += m.GetCounter().GetValue()
	}
	return sum, true
}

func parseMetrics(r io.Reader) (map[string]*dto.MetricFamily, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	return p.TextToMetricFamilies(r)
}

// checkMetricsFile parses the node_exporter textfile as Prometheus would.
func checkMetricsFile(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fams, err := parseMetrics(f)
	if err != nil {
		t.Fatalf("metrics file does not parse: %v", err)
	}
	for _, name := range []string{"hadrill_ops_total", "hadrill_rto_seconds", "hadrill_lost_writes", "hadrill_check_result"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("metrics file lacks %s", name)
		}
	}
}

// Package metrics exposes drills to Prometheus: live while a run goes (its
// operations, latency, faults in force and acting primary) and its outcome
// once checked, served over HTTP for scraping, pushed to a pushgateway, or
// written for node_exporter's textfile collector.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/client_golang/prometheus/push"
	dto "github.com/prometheus/client_model/go"

	"github.com/hadrill/hadrill/checker"
	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/results"
)

// scenarioLabel is on every metric, so that drills of several scenarios can
// share one Prometheus (or one pushgateway job) without colliding.
const scenarioLabel = "scenario"

// Exporter exposes one run to Prometheus: live, while it runs (ops, latency,
// active faults, the acting primary), and its outcome once checked (RTO,
// lost writes, availability, check results). It uses its own registry,
// never the global one, so that runs in one process (--repeat, tests) do
// not collide and nothing but hadrill's metrics is exported. All methods
// are safe for concurrent use.
type Exporter struct {
	scenario string
	reg      *prometheus.Registry

	ops          *prometheus.CounterVec
	latency      *prometheus.HistogramVec
	activeFaults *prometheus.GaugeVec
	primary      *prometheus.GaugeVec
	rto          *prometheus.GaugeVec
	faultRTO     *prometheus.GaugeVec
	lostWrites   *prometheus.GaugeVec
	availability *prometheus.GaugeVec
	checks       *prometheus.GaugeVec
	verdict      *prometheus.GaugeVec
	finished     *prometheus.GaugeVec

	mu    sync.Mutex
	kinds map[string]bool // fault kinds seen, so that ended ones drop to 0
	nodes map[string]bool // primaries seen, likewise
}

// latencyBuckets span 1 ms to about 16 s: a healthy store answers in
// milliseconds, and a client timeout during a failover in seconds.
var latencyBuckets = prometheus.ExponentialBuckets(0.001, 2, 15)

// New creates the metrics of one run of scenario on a private
// registry. Outcome metrics appear only once Finish sets them, so a scrape
// never reads a 0 RTO that was never measured.
func New(scenario string) *Exporter {
	m := &Exporter{scenario: scenario, reg: prometheus.NewRegistry(), kinds: map[string]bool{}, nodes: map[string]bool{}}
	c := prometheus.Labels{scenarioLabel: scenario}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help, ConstLabels: c}, labels)
		m.reg.MustRegister(g)
		return g
	}
	m.ops = prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hadrill_ops_total",
		Help: "Completed client operations by kind and outcome (ok, fail, info).", ConstLabels: c},
		[]string{"f", "outcome"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hadrill_op_latency_seconds",
		Help: "Client operation latency, invocation to completion.", ConstLabels: c, Buckets: latencyBuckets},
		[]string{"f", "outcome"})
	m.reg.MustRegister(m.ops, m.latency)
	m.activeFaults = gauge("hadrill_active_faults", "Faults currently in force, by kind.", "kind")
	m.primary = gauge("hadrill_primary", "1 for the node currently acting as primary, 0 for the others.", "node")
	m.rto = gauge("hadrill_rto_seconds", "Largest recovery time over the run's disruptive faults; +Inf when a fault was never recovered from.")
	m.faultRTO = gauge("hadrill_fault_rto_seconds", "Recovery time of one fault.", "fault", "kind")
	m.lostWrites = gauge("hadrill_lost_writes", "Acknowledged ledger writes missing at the final read (RPO as a count).")
	m.availability = gauge("hadrill_availability_ratio", "Ok operations over all operations of the run.")
	m.checks = gauge("hadrill_check_result", "1 for a check's result (pass, fail, unknown), 0 for the other two.", "check", "result")
	m.verdict = gauge("hadrill_verdict", "1 for the run's merged verdict, 0 for the other two.", "result")
	m.finished = gauge("hadrill_run_finished_timestamp_seconds", "When the run's verdict was set, in Unix seconds.")
	return m
}

// Registry returns the private registry, for callers that want to add
// their own collectors or serve it themselves.
func (m *Exporter) Registry() *prometheus.Registry { return m.reg }

// ObserveOp records one completed operation: op is the completion (ok,
// fail or info) and latency its time since invocation. Invocations are
// ignored, so the runner can pass every recorded event.
func (m *Exporter) ObserveOp(op history.Op, latency time.Duration) {
	if op.Type == history.Invoke || op.Type == "" {
		return
	}
	l := prometheus.Labels{"f": string(op.F), "outcome": string(op.Type)}
	m.ops.With(l).Inc()
	m.latency.With(l).Observe(latency.Seconds())
}

// SetActiveFaults sets how many faults of each kind are in force; kinds
// set before and absent now drop to 0 (rather than vanish), so a graph
// shows the fault ending.
func (m *Exporter) SetActiveFaults(kinds []string) {
	count := map[string]int{}
	for _, k := range kinds {
		count[k]++
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range count {
		m.kinds[k] = true
	}
	for k := range m.kinds {
		m.activeFaults.WithLabelValues(k).Set(float64(count[k]))
	}
}

// SetPrimary marks node as the acting primary and every other node seen
// so far as not; "" means no primary is known (all 0).
func (m *Exporter) SetPrimary(node string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if node != "" {
		m.nodes[node] = true
	}
	for n := range m.nodes {
		v := 0.0
		if n == node {
			v = 1
		}
		m.primary.WithLabelValues(n).Set(v)
	}
}

// Finish records the run's outcome from its verdict. Measurements the
// verdict lacks are left unset rather than reported as 0.
func (m *Exporter) Finish(v *results.Verdict) {
	if c, ok := v.Checks[checker.CheckRTO]; ok {
		switch {
		case c.Unbounded:
			m.rto.WithLabelValues().Set(math.Inf(1))
		case c.Value != nil:
			m.rto.WithLabelValues().Set(*c.Value)
		}
	}
	for _, f := range v.Faults {
		if f.RTO != nil {
			m.faultRTO.WithLabelValues(strconv.Itoa(f.ID), f.Kind).Set(*f.RTO)
		}
	}
	if c, ok := v.Checks[checker.CheckRPO]; ok && c.Value != nil {
		m.lostWrites.WithLabelValues().Set(*c.Value)
	}
	if c, ok := v.Checks[checker.CheckAvailability]; ok && c.Value != nil {
		m.availability.WithLabelValues().Set(*c.Value)
	}
	for name, c := range v.Checks {
		setOneHot(m.checks, c.Result, name)
	}
	setOneHot(m.verdict, v.Verdict)
	m.finished.WithLabelValues().Set(float64(time.Now().Unix()))
}

// setOneHot sets the series for r to 1 and those of the other results to
// 0, so that an alert can match on result="fail" == 1 and a dashboard
// still sees every series.
func setOneHot(g *prometheus.GaugeVec, r checker.Result, labels ...string) {
	for _, res := range []checker.Result{checker.Pass, checker.Fail, checker.Unknown} {
		v := 0.0
		if res == r {
			v = 1
		}
		g.WithLabelValues(append(labels, string(res))...).Set(v)
	}
}

// Serve exposes /metrics on addr (host:port; use 127.0.0.1 unless the
// scraper is elsewhere) until ctx ends, then shuts the server down. It
// returns once listening, so that a bad address is reported before the run
// starts rather than lost in a goroutine.
//
// The port may still be held for a moment by the server of a run whose ctx
// just ended (--repeat runs one after another on one address), so a busy
// address is retried for up to two seconds before giving up.
func (m *Exporter) Serve(ctx context.Context, addr string) error {
	deadline := time.Now().Add(2 * time.Second)
	for {
		ln, err := net.Listen("tcp", addr)
		if err == nil {
			m.serve(ctx, ln)
			return nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) || time.Now().After(deadline) {
			return fmt.Errorf("serve metrics: %w", err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("serve metrics: %w", ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// serve runs the HTTP server on ln in the background until ctx ends.
func (m *Exporter) serve(ctx context.Context, ln net.Listener) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	slog.Info("serving metrics", "addr", "http://"+ln.Addr().String()+"/metrics")
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			slog.Warn("metrics server stopped", "err", err)
		}
	}()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
}

// Push sends the metrics to a Prometheus pushgateway at url under job,
// replacing what an earlier push of the same scenario left there. The
// scenario becomes part of the grouping key (and is dropped from the
// series themselves, as the pushgateway requires), so runs of different
// scenarios under one job do not overwrite each other.
func (m *Exporter) Push(ctx context.Context, url, job string) error {
	g := prometheus.GathererFunc(func() ([]*dto.MetricFamily, error) {
		mfs, err := m.reg.Gather()
		for _, mf := range mfs {
			for _, metric := range mf.Metric {
				metric.Label = dropLabel(metric.Label, scenarioLabel)
			}
		}
		return mfs, err
	})
	err := push.New(url, job).Gatherer(g).Grouping(scenarioLabel, m.scenario).PushContext(ctx)
	if err != nil {
		return fmt.Errorf("push metrics to %s: %w", url, err)
	}
	return nil
}

// dropLabel returns ls without the label called name.
func dropLabel(ls []*dto.LabelPair, name string) []*dto.LabelPair {
	out := ls[:0]
	for _, l := range ls {
		if l.GetName() != name {
			out = append(out, l)
		}
	}
	return out
}

// WriteTextfile writes the metrics in the text format read by
// node_exporter's textfile collector (--metrics-file), atomically: the
// collector never reads half a file. Name the file *.prom.
func (m *Exporter) WriteTextfile(path string) error {
	if err := prometheus.WriteToTextfile(path, m.reg); err != nil {
		return fmt.Errorf("write metrics file: %w", err)
	}
	return nil
}

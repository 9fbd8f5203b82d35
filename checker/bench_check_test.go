package checker_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/hadrill/hadrill/checker"
	"github.com/hadrill/hadrill/drill"
	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/results"
)

// The 1 M-operation history of the benchmarks: 1000 keys, 16 clients,
// reads, writes, CAS (half of them answered 412) and ledger writes.
const (
	benchOps, benchKeys, benchClients = 1_000_000, 1000, 16
	benchSeed                         = 42
)

// roleEnv makes the test binary play one side of BenchmarkCheck1M in a
// process of its own, so that each side's peak memory is its own.
const roleEnv = "HADRILL_BENCH_ROLE"

// measured is what a role process reports on stdout.
type measured struct {
	Seconds float64 `json:"seconds"`
	// CPU is user plus system time: on a machine shared with other work,
	// it is steadier than the wall-clock time.
	CPU     float64 `json:"cpu"`
	PeakKiB int64   `json:"peak_kib"`
	Result  string  `json:"result"`
}

// Bounds of BenchmarkCheck1M (issue 26): `hadrill check` of a 1 M-operation
// run folder may take at most this many times the peak memory and the time
// of raw porcupine checking the same operations.
const (
	maxMemoryRatio = 1.5
	maxTimeRatio   = 2.0
)

// checkRounds is how many times BenchmarkCheck1M runs each side per
// iteration, alternating, so that rounds disturbed by other work on a
// shared machine do not decide the ratios.
const checkRounds = 5

// BenchmarkCheck1M compares `hadrill check` on a generated 1 M-operation
// run folder (drill.CheckRun, the code path of the command: decode,
// every check, verdict, JUnit, report.html) with raw porcupine checking the
// same operations, already in memory, in the same run: porcupine's
// partitioned key-value model (rawModel), on operations generated in memory
// (not decoded, not kept twice), at the default GOGC. Each side runs in a
// process of its own and reports its time and peak RSS (VmHWM; porcupine's
// is reset after its operations are built, so it counts the operations and
// the check). Each side runs checkRounds times, alternating. A side's time
// is its fastest round: other work on the machine only ever adds to a
// round's time, so the fastest is the least disturbed (on a busy 2-core
// machine, one round of the same side took 2.7 s and another 9.7 s). Its
// memory and CPU time are medians. The ratios are check/porcupine; the
// benchmark fails when memory exceeds maxMemoryRatio or time maxTimeRatio.
func BenchmarkCheck1M(b *testing.B) {
	dir := b.TempDir()
	ops := checker.ConcurrentHistory(benchSeed, benchOps, benchKeys, benchClients)
	writeRunFolder(b, dir, ops)
	ops = nil
	for b.Loop() {
		var chk, por []measured
		for i := range checkRounds {
			if i%2 == 0 {
				chk, por = append(chk, runRole(b, "check", dir)), append(por, runRole(b, "porcupine", dir))
			} else {
				por, chk = append(por, runRole(b, "porcupine", dir)), append(chk, runRole(b, "check", dir))
			}
			c, p := chk[i], por[i]
			if c.Result != string(checker.Pass) || p.Result != string(porcupine.Ok) {
				b.Fatalf("check %q, porcupine %q: the generated history is linearizable", c.Result, p.Result)
			}
			b.Logf("round %d: check %.2f s (cpu %.2f s) %.0f MiB; porcupine %.2f s (cpu %.2f s) %.0f MiB",
				i, c.Seconds, c.CPU, float64(c.PeakKiB)/1024, p.Seconds, p.CPU, float64(p.PeakKiB)/1024)
		}
		c, p := figures(chk), figures(por)
		timeRatio, memRatio := c.Seconds/p.Seconds, c.MiB/p.MiB
		b.Logf("hadrill check / porcupine: time %.2f (%.2f s / %.2f s, at most %.1f), memory %.2f (%.0f MiB / %.0f MiB, at most %.1f), cpu %.2f",
			timeRatio, c.Seconds, p.Seconds, maxTimeRatio, memRatio, c.MiB, p.MiB, maxMemoryRatio, c.CPU/p.CPU)
		b.ReportMetric(c.Seconds, "check-s")
		b.ReportMetric(p.Seconds, "porcupine-s")
		b.ReportMetric(timeRatio, "time-ratio")
		b.ReportMetric(c.CPU/p.CPU, "cpu-ratio")
		b.ReportMetric(c.MiB, "check-MiB")
		b.ReportMetric(p.MiB, "porcupine-MiB")
		b.ReportMetric(memRatio, "memory-ratio")
		if memRatio > maxMemoryRatio {
			b.Errorf("hadrill check peaks at %.2f times porcupine's memory, more than %.1f", memRatio, maxMemoryRatio)
		}
		if timeRatio > maxTimeRatio {
			b.Errorf("hadrill check takes %.2f times porcupine's time, more than %.1f", timeRatio, maxTimeRatio)
		}
	}
}

// sideFigures are one side's figures over its rounds: the fastest time,
// the median CPU time and peak memory.
type sideFigures struct{ Seconds, CPU, MiB float64 }

// figures sums up one side's rounds.
func figures(ms []measured) sideFigures {
	var secs, cpu, mib []float64
	for _, m := range ms {
		secs, cpu, mib = append(secs, m.Seconds), append(cpu, m.CPU), append(mib, float64(m.PeakKiB)/1024)
	}
	return sideFigures{Seconds: slices.Min(secs), CPU: median(cpu), MiB: median(mib)}
}

// BenchmarkCheckerCore1M compares hadrill's linearizability check, from the
// decoded events (pairing and validation included), with raw porcupine on
// the same operations, one after the other in one process. The order
// alternates between iterations, so that neither side always runs on the
// heap the other left, and the figures are medians over the iterations
// (the ratio is the median of the per-iteration ratios), so that one
// iteration disturbed by other work on the machine does not decide them.
func BenchmarkCheckerCore1M(b *testing.B) {
	ops := checker.ConcurrentHistory(benchSeed, benchOps, benchKeys, benchClients)
	raw := rawOperations(ops)
	var cores, bases, ratios, cpuRatios []float64
	for i := 0; b.Loop(); i++ {
		var core, base, coreCPU, baseCPU float64
		if i%2 == 0 {
			core, coreCPU = timeCore(b, ops)
			base, baseCPU = timePorcupine(b, raw)
		} else {
			base, baseCPU = timePorcupine(b, raw)
			core, coreCPU = timeCore(b, ops)
		}
		b.Logf("iteration %d: core %.3f s (cpu %.3f s), porcupine %.3f s (cpu %.3f s)", i, core, coreCPU, base, baseCPU)
		cores, bases = append(cores, core), append(bases, base)
		ratios, cpuRatios = append(ratios, core/base), append(cpuRatios, coreCPU/baseCPU)
	}
	b.ReportMetric(median(cores), "core-s")
	b.ReportMetric(median(bases), "porcupine-s")
	b.ReportMetric(median(ratios), "core-ratio")
	b.ReportMetric(median(cpuRatios), "core-cpu-ratio")
}

// timeCore times checker.Linearizability on ops, from a collected heap:
// wall-clock and CPU seconds (user plus system, steadier on a shared
// machine). The profiler label side=core (side=porcupine in timePorcupine)
// reaches porcupine's goroutines, so `pprof -tagfocus` can split a profile.
func timeCore(b *testing.B, ops []history.Op) (float64, float64) {
	runtime.GC()
	start, cpu := time.Now(), cpuSeconds(b)
	var r *checker.LinearizabilityResult
	pprof.Do(context.Background(), pprof.Labels("side", "core"), func(ctx context.Context) {
		r = checker.Linearizability(ctx, checker.Input{Ops: ops}, true, checker.Options{})
	})
	took, used := time.Since(start).Seconds(), cpuSeconds(b)-cpu
	if r.Check.Result != checker.Pass {
		b.Fatalf("core %q %s: the generated history is linearizable", r.Check.Result, r.Check.Detail)
	}
	return took, used
}

// timePorcupine times raw porcupine on raw, as timeCore does.
func timePorcupine(b *testing.B, raw []porcupine.Operation) (float64, float64) {
	runtime.GC()
	start, cpu := time.Now(), cpuSeconds(b)
	var res porcupine.CheckResult
	pprof.Do(context.Background(), pprof.Labels("side", "porcupine"), func(context.Context) {
		res, _ = porcupine.CheckOperationsVerbose(rawModel, raw, 0)
	})
	took, used := time.Since(start).Seconds(), cpuSeconds(b)-cpu
	if res != porcupine.Ok {
		b.Fatalf("porcupine %q: the generated history is linearizable", res)
	}
	return took, used
}

// median returns the median of xs (the mean of the middle two when even).
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return (s[(len(s)-1)/2] + s[len(s)/2]) / 2
}

// runRole runs the test binary as one side of BenchmarkCheck1M.
func runRole(b *testing.B, role, dir string) measured {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchRole$", "-test.count=1")
	// Both sides at the Go runtime's defaults: no GOGC or memory limit
	// inherited from the caller.
	cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "GOGC=") || strings.HasPrefix(kv, "GOMEMLIMIT=")
	})
	cmd.Env = append(cmd.Env, roleEnv+"="+role, "HADRILL_BENCH_DIR="+dir)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("%s: %v\n%s", role, err, out)
	}
	for line := range strings.Lines(string(out)) {
		if rest, ok := strings.CutPrefix(line, "MEASURED "); ok {
			var m measured
			if err := json.Unmarshal([]byte(rest), &m); err != nil {
				b.Fatal(err)
			}
			return m
		}
	}
	b.Fatalf("%s reported nothing:\n%s", role, out)
	return measured{}
}

// TestBenchRole is one side of BenchmarkCheck1M; it does nothing unless the
// benchmark started it.
func TestBenchRole(t *testing.T) {
	role, dir := os.Getenv(roleEnv), os.Getenv("HADRILL_BENCH_DIR")
	var m measured
	switch role {
	case "":
		t.Skip("run by BenchmarkCheck1M")
	case "write": // a run folder to profile `hadrill check` on
		writeRunFolder(t, dir, checker.ConcurrentHistory(benchSeed, benchOps, benchKeys, benchClients))
		return
	case "check":
		start, cpu := time.Now(), cpuSeconds(t)
		v, err := drill.CheckRun(context.Background(), dir, drill.CheckOptions{})
		if err != nil {
			t.Fatal(err)
		}
		m.Seconds, m.CPU, m.Result = time.Since(start).Seconds(), cpuSeconds(t)-cpu, string(v.Verdict)
	case "porcupine":
		raw := rawOperations(checker.ConcurrentHistory(benchSeed, benchOps, benchKeys, benchClients))
		runtime.GC()
		debug.FreeOSMemory()
		if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
			t.Fatalf("reset peak RSS: %v", err)
		}
		start, cpu := time.Now(), cpuSeconds(t)
		res, _ := porcupine.CheckOperationsVerbose(rawModel, raw, 0)
		m.Seconds, m.CPU, m.Result = time.Since(start).Seconds(), cpuSeconds(t)-cpu, string(res)
		runtime.KeepAlive(raw)
	}
	m.PeakKiB = peakKiB(t)
	b, _ := json.Marshal(m)
	fmt.Printf("MEASURED %s\n", b)
}

// cpuSeconds is the CPU time this process has used so far.
func cpuSeconds(t testing.TB) float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// peakKiB reads this process's peak RSS (VmHWM).
func peakKiB(t *testing.T) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmHWM:"); ok {
			n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no VmHWM in /proc/self/status")
	return 0
}

// writeRunFolder writes a run folder as `hadrill run` leaves it, holding ops.
func writeRunFolder(tb testing.TB, dir string, ops []history.Op) {
	tb.Helper()
	scenario := `name: bench-1m
duration: 1h
cluster: {system: hakv, nodes: 3}
workload: {kind: register, ledger_ratio: 0.2, clients: 16, rate: 1000/s, keys: 1000}
targets: {linearizable: true}
`
	if err := os.WriteFile(filepath.Join(dir, results.ScenarioFile), []byte(scenario), 0o644); err != nil {
		tb.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, results.HistoryFile))
	if err != nil {
		tb.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	enc := json.NewEncoder(w)
	for _, op := range ops {
		if err := enc.Encode(op); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		tb.Fatal(err)
	}
	if err := f.Close(); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, results.FaultsFile), nil, 0o644); err != nil {
		tb.Fatal(err)
	}
	// run.json: `hadrill check` refuses a run folder without one. It is
	// what a run that crashed before its load ended leaves: no end times,
	// so the checks take the history's own.
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	meta := results.Meta{RunID: "bench-1m", Started: start, LoadStart: start, Finished: start.Add(time.Hour)}
	if err := results.WriteMeta(results.RunDir{Path: dir}, meta); err != nil {
		tb.Fatal(err)
	}
}

// rawInput is how a plain porcupine user would write a key-value operation.
type rawInput struct {
	f                history.Func
	key, from, value string
	refused, open    bool
}

// rawOperations translates a history for raw porcupine, as a user of the
// library would: pair by process, keep what happened or may have.
func rawOperations(ops []history.Op) []porcupine.Operation {
	open := map[int]history.Op{}
	var out []porcupine.Operation
	for _, op := range ops {
		if op.Type == history.Invoke {
			open[op.Process] = op
			continue
		}
		inv := open[op.Process]
		delete(open, op.Process)
		in := &rawInput{f: inv.F, key: inv.Key, from: inv.From, value: inv.Value}
		ret := op.Time
		switch {
		case inv.F == history.Read || inv.F == history.FinalRead:
			if op.Type != history.OK {
				continue
			}
			in.f, in.value = history.Read, op.Value
		case op.Type == history.Fail && op.Error == history.Precondition:
			in.refused = true
		case op.Type == history.Fail:
			continue
		case op.Type != history.OK:
			in.open, ret = true, math.MaxInt64
		}
		out = append(out, porcupine.Operation{ClientId: op.Process, Input: in, Call: inv.Time, Return: ret})
	}
	for _, inv := range open {
		if inv.F == history.Write || inv.F == history.CAS {
			out = append(out, porcupine.Operation{ClientId: inv.Process, Input: &rawInput{f: inv.F, key: inv.Key, from: inv.From, value: inv.Value, open: true},
				Call: inv.Time, Return: math.MaxInt64})
		}
	}
	return out
}

// rawModel is a plain partitioned register model, as porcupine's own
// key-value examples write one.
var rawModel = porcupine.Model{
	Partition: func(ops []porcupine.Operation) [][]porcupine.Operation {
		by := map[string][]porcupine.Operation{}
		for _, op := range ops {
			k := op.Input.(*rawInput).key
			by[k] = append(by[k], op)
		}
		out := make([][]porcupine.Operation, 0, len(by))
		for _, p := range by {
			out = append(out, p)
		}
		return out
	},
	Init: func() any { return "" },
	Step: func(state, input, _ any) (bool, any) {
		s, in := state.(string), input.(*rawInput)
		switch {
		case in.f == history.Read:
			return s == in.value, s
		case in.f == history.Write:
			return true, in.value
		case in.refused:
			return s != in.from, s
		case s == in.from:
			return true, in.value
		}
		return in.open, s
	},
	Equal: func(a, b any) bool { return a == b },
}

package main

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/results"
)

// BenchmarkFaultLatency measures how late faults take effect: a random
// nemesis injects 100 partitions, losses and pauses into a real cluster, one
// a second, and the benchmark reports the median and maximum time from each
// fault's scheduled start to the moment it was in force (as the node agent
// or the Docker API reported it). The baseline, from the same run, is the
// median round trip of a client read, so the figures survive a noisy
// machine as ratios.
func BenchmarkFaultLatency(b *testing.B) {
	if testing.Short() {
		b.Skip("a 100 s drill")
	}
	for b.Loop() {
		root := b.TempDir()
		requireDocker(b)
		code, stdout, stderr := hadrill(b, "run", "random-faults", "--seed", "1", "--results", root,
			// Each --set is validated as it is applied: shorten the faults
			// before their interval.
			"--set", "duration=103s", "--set", "nemesis.start=1s", "--set", "nemesis.duration=400ms",
			"--set", "nemesis.interval=1s", "--set", "nemesis.kinds=[partition, loss, pause]")
		if code != exitOK && code != exitFailed {
			b.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
		}
		dir := filepath.Join(root, "random-faults", "latest")
		events, _, err := history.ReadFile[history.FaultEvent](filepath.Join(dir, results.FaultsFile))
		if err != nil {
			b.Fatal(err)
		}
		var lat []float64
		for _, f := range history.FoldFaults(events) {
			if f.Effective > 0 {
				lat = append(lat, time.Duration(f.Effective-f.At).Seconds()*1000)
			}
		}
		if len(lat) < 90 {
			b.Fatalf("only %d faults took effect", len(lat))
		}
		slices.Sort(lat)
		v, err := results.ReadVerdict(dir)
		if err != nil {
			b.Fatal(err)
		}
		read := v.Latency.Run["read"].P50 * 1000
		med, worst := lat[len(lat)/2], lat[len(lat)-1]
		b.ReportMetric(float64(len(lat)), "faults")
		b.ReportMetric(med, "median-ms")
		b.ReportMetric(worst, "max-ms")
		b.ReportMetric(read, "read-p50-ms")
		b.ReportMetric(med/read, "median/read")
	}
}

package drillreport

import (
	"math"
	"testing"
)

func TestProjectMatchesClosedForm(t *testing.T) {
	// Every failure takes 60 s and loses 2 writes; 4 failures a year. The
	// yearly downtime is then 1 min × Poisson(4): mean 4 min, median 4,
	// 95th percentile 8 (the Poisson(4) quantiles).
	downtime := []drawSample{{value: 60}}
	p := project(downtime, []float64{2}, 4, 1, DefaultSimulations, 1)
	if math.Abs(p.DowntimeMinutes.Mean-4) > 0.1 {
		t.Errorf("mean yearly downtime %.3f min, want 4 ± 0.1", p.DowntimeMinutes.Mean)
	}
	if p.DowntimeMinutes.P50 != 4 || p.DowntimeMinutes.P95 != 8 {
		t.Errorf("downtime p50/p95 = %v/%v min, want 4/8", p.DowntimeMinutes.P50, p.DowntimeMinutes.P95)
	}
	if math.Abs(p.LostWrites.Mean-8) > 0.2 {
		t.Errorf("mean yearly lost writes %.3f, want 8 ± 0.2", p.LostWrites.Mean)
	}
	// P(at least one failure in a year) = 1 - e^-4.
	if want := 1 - math.Exp(-4); math.Abs(p.PAnyLoss-want) > 0.01 {
		t.Errorf("P(any loss) = %.4f, want %.4f", p.PAnyLoss, want)
	}
	if p.PUnrecovered != 0 {
		t.Errorf("P(unrecovered) = %v with no unbounded sample", p.PUnrecovered)
	}
}

func TestProjectIsSeeded(t *testing.T) {
	d := []drawSample{{value: 1}, {value: 30}, {value: 400, unrecovered: true}}
	a := project(d, []float64{0, 0, 5}, 2, 3, 2000, 7)
	b := project(d, []float64{0, 0, 5}, 2, 3, 2000, 7)
	if a != b {
		t.Errorf("same seed, different projections:\n%+v\n%+v", a, b)
	}
	c := project(d, []float64{0, 0, 5}, 2, 3, 2000, 8)
	if a == c {
		t.Error("different seeds gave identical projections")
	}
	// Failures per horizon ~ Poisson(6); each is unrecovered with p=1/3.
	if want := 1 - math.Exp(-6.0/3); math.Abs(a.PUnrecovered-want) > 0.03 {
		t.Errorf("P(unrecovered) = %.3f, want %.3f", a.PUnrecovered, want)
	}
}

func TestProjectZeroRateAndNoSamples(t *testing.T) {
	p := project(nil, nil, 0, 1, 100, 1)
	if p.DowntimeMinutes.P95 != 0 || p.LostWrites.Mean != 0 || p.DowntimeSamples != 0 {
		t.Errorf("zero rate, no samples: %+v", p)
	}
}

// BenchmarkProjection is 10 000 simulated years at 12 failures a year.
func BenchmarkProjection(b *testing.B) {
	d := []drawSample{{value: 2.1}, {value: 2.7}, {value: 3.4}, {value: 9}}
	for b.Loop() {
		project(d, []float64{0, 0, 1, 3}, 12, 1, DefaultSimulations, 1)
	}
}

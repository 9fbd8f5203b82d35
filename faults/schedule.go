package faults

import (
	"cmp"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"time"
)

// Planned is a fault placed in a schedule. ID numbers it in schedule order
// and is the "fault" field of its faults.jsonl events.
type Planned struct {
	ID int
	Spec
}

// Fixed orders fault specs by start time (stable for equal times) and
// numbers them.
func Fixed(specs []Spec) []Planned {
	sorted := slices.Clone(specs)
	slices.SortStableFunc(sorted, func(a, b Spec) int { return cmp.Compare(a.At, b.At) })
	out := make([]Planned, len(sorted))
	for i, s := range sorted {
		out[i] = Planned{ID: i, Spec: s}
	}
	return out
}

// RandomSpec describes a seeded random nemesis: every Interval from Start,
// pick a kind and a target at random and hold the fault for Duration.
type RandomSpec struct {
	Kinds    []string
	Targets  []Target
	Start    time.Duration
	Interval time.Duration
	Duration time.Duration
	// Params apply to every fault, keyed by kind.
	Params map[string]Params
}

// Random expands a random nemesis into fault specs for a run of the given
// length, in time order; Fixed numbers them together with any fixed faults. The schedule depends only on its arguments: the same seed gives
// the same schedule. Every fault ends (is healed) before the run does, and a
// quarter of each interval is left quiet so the cluster can recover between
// faults.
func Random(r RandomSpec, runFor time.Duration, seed int64) []Spec {
	if r.Interval <= 0 || len(r.Kinds) == 0 || len(r.Targets) == 0 {
		return nil
	}
	rng := Rand(seed, "nemesis")
	var specs []Spec
	for at := r.Start; at+r.Duration <= runFor; at += r.Interval {
		// Jitter the start inside the first quarter of the interval.
		jitter := time.Duration(rng.Int64N(int64(r.Interval)/4 + 1))
		start := at + jitter
		if start+r.Duration > runFor {
			break
		}
		kind := r.Kinds[rng.IntN(len(r.Kinds))]
		specs = append(specs, Spec{
			Kind:     kind,
			Target:   r.Targets[rng.IntN(len(r.Targets))],
			At:       start,
			Duration: r.Duration,
			Params:   r.Params[kind],
		})
	}
	return specs
}

// Rand returns a deterministic source for one purpose of one run, so that
// adding a random choice in one place does not shift the choices elsewhere.
func Rand(seed int64, purpose string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(purpose))
	return rand.New(rand.NewPCG(uint64(seed), h.Sum64()))
}

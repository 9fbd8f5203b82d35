package scenarios

import "math/rand/v2"

// maxSeed keeps seeds below 2^53, so they survive any JSON reader (a
// JavaScript number holds integers exactly only up to 2^53) and what a
// report shows is what --seed takes.
const maxSeed = 1 << 53

// NewSeed returns a fresh random seed for a run whose scenario gives none.
// It is recorded in the run folder, so any run can be repeated exactly.
func NewSeed() int64 { return rand.Int64N(maxSeed) }

// EnsureSeed returns the scenario's seed, first storing a NewSeed if the
// file gave none. The runner calls it after applying --seed, so that
// scenario.yaml as run always holds the seed that drove the run.
func (s *Scenario) EnsureSeed() int64 {
	if s.Seed == nil {
		seed := NewSeed()
		s.Seed = &seed
	}
	return *s.Seed
}

// DeriveSeed gives the seed of the i-th run of --repeat from the base seed.
// Run 0 uses the base itself, so --repeat 1 is the same as no --repeat; run
// i > 0 uses splitmix64 of base + i·γ (γ the 64-bit golden ratio), which
// spreads neighbouring runs over unrelated seeds, masked below 2^53 like
// NewSeed. The result depends only on (base, i), so a repeated series can be
// rerun, and each run records its own seed.
func DeriveSeed(base int64, i int) int64 {
	if i == 0 {
		return base
	}
	z := uint64(base) + uint64(i)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return int64(z % maxSeed)
}

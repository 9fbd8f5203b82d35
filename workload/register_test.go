package workload

import (
	"math"
	"slices"
	"testing"

	"github.com/hadrill/hadrill/history"
)

// kindKey is what the seed must fix: the kind and key of each operation.
type kindKey struct {
	f   history.Func
	key string
}

// sequence draws n ops of one client. Processes change along the way (as
// after info results) and CAS sees values, to show neither moves the mix.
func sequence(seed uint64, client, n int, processStep int) []kindKey {
	g := newGenerator(seed, client, DefaultMix, registerKeys(16))
	out := make([]kindKey, n)
	process := client
	for i := range out {
		if processStep > 0 && i%7 == 0 {
			process += processStep
		}
		s := g.next(process)
		g.observe(s, history.OK, "x")
		k := s.key
		if s.k < 0 {
			k = "ledger" // the ledger key carries the process id
		}
		out[i] = kindKey{s.f, k}
	}
	return out
}

// TestGeneratorDeterministic checks that a seed fixes each client's sequence
// of kinds and keys, whatever happens to process ids.
func TestGeneratorDeterministic(t *testing.T) {
	a := sequence(42, 3, 2000, 0)
	if b := sequence(42, 3, 2000, 8); !slices.Equal(a, b) {
		t.Fatal("same seed and client, different sequence")
	}
	if c := sequence(43, 3, 2000, 0); slices.Equal(a, c) {
		t.Fatal("different seeds, same sequence")
	}
	if d := sequence(42, 4, 2000, 0); slices.Equal(a, d) {
		t.Fatal("different clients, same sequence")
	}
}

// TestGeneratorMix checks the shares of each kind against the mix, loosely.
func TestGeneratorMix(t *testing.T) {
	const n = 20000
	mix := Mix{Read: 2, Write: 1, CAS: 1, Ledger: 0.2}
	g := newGenerator(1, 0, mix, registerKeys(4))
	count := map[history.Func]int{}
	ledger := 0
	for range n {
		s := g.next(0)
		if s.k < 0 {
			ledger++
			continue
		}
		count[s.f]++
	}
	near := func(name string, got int, want float64) {
		if math.Abs(float64(got)/n-want) > 0.02 {
			t.Errorf("%s share = %.3f, want %.3f", name, float64(got)/n, want)
		}
	}
	near("ledger", ledger, 0.2)
	near("read", count[history.Read], 0.4)
	near("write", count[history.Write], 0.2)
	near("cas", count[history.CAS], 0.2)
}

// TestGeneratorCASFromSeen checks that a CAS expects the last value the
// client saw on the key, so that CAS can succeed, and never expects "".
func TestGeneratorCASFromSeen(t *testing.T) {
	g := newGenerator(7, 0, Mix{Write: 1, CAS: 1}, registerKeys(1))
	last := ""
	sawCAS := false
	for range 200 {
		s := g.next(0)
		if s.f == history.CAS {
			sawCAS = true
			if s.from == "" || last != "" && s.from != last {
				t.Fatalf("cas from %q, last seen %q", s.from, last)
			}
		}
		g.observe(s, history.OK, "")
		last = s.value
	}
	if !sawCAS {
		t.Fatal("no CAS drawn")
	}
}

// TestMixValidate rejects mixes that cannot generate anything sensible.
func TestMixValidate(t *testing.T) {
	for _, m := range []Mix{{Read: -1}, {Read: 1, Ledger: 1.5}, {Ledger: 0.5}} {
		if m.validate() == nil {
			t.Errorf("mix %+v accepted", m)
		}
	}
	if err := (Mix{Ledger: 1}).validate(); err != nil {
		t.Errorf("ledger-only mix rejected: %v", err)
	}
}

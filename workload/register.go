package workload

import (
	"fmt"
	"math/rand/v2"
	"strconv"

	"github.com/hadrill/hadrill/history"
)

// Mix is the register workload's operation mix. Read, Write and CAS are
// relative weights among register operations (they need not sum to 1);
// Ledger is the share of all operations that are ledger writes, the
// write-once keys the RPO check reads back at the end.
type Mix struct {
	Read, Write, CAS float64
	Ledger           float64
}

// DefaultMix is the one default operation mix, for the load generator and
// the scenario schema alike: reads and writes weighed equally, half as many
// compare-and-sets, and one operation in five a ledger write.
var DefaultMix = Mix{Read: 0.4, Write: 0.4, CAS: 0.2, Ledger: 0.2}

func (m Mix) validate() error {
	switch {
	case m.Read < 0 || m.Write < 0 || m.CAS < 0:
		return fmt.Errorf("mix: negative weight in %+v", m)
	case m.Ledger < 0 || m.Ledger > 1:
		return fmt.Errorf("mix: ledger ratio %v not in [0, 1]", m.Ledger)
	case m.Ledger < 1 && m.Read+m.Write+m.CAS == 0:
		return fmt.Errorf("mix: no register operations and ledger ratio %v < 1", m.Ledger)
	}
	return nil
}

// spec is one generated operation, before it is stamped and sent.
type spec struct {
	f     history.Func
	key   string
	value string // written value (write, cas), never empty
	from  string // expected value (cas)
	k     int    // register key index, -1 for a ledger key
}

// generator produces one logical client's operations. The kinds and keys come
// from a PCG stream seeded by (seed, client) and drawn a fixed number of times
// per operation, so the same seed gives every client the same sequence of
// kinds and keys whatever the cluster answers. Values are "<process>-<seq>":
// unique in the run because process ids are, and deterministic given the
// process switches.
type generator struct {
	rng  *rand.Rand
	mix  Mix
	keys []string // shared, read-only: k0..k{N-1}
	seq  int
	// seen is the last value this client saw on each register key, so a CAS
	// usually expects a value that was there recently and sometimes succeeds.
	seen []string
}

// registerKeys returns the register key names k0..k{n-1}, built once per run
// so the hot path does not format them.
func registerKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = "k" + strconv.Itoa(i)
	}
	return keys
}

func newGenerator(seed uint64, client int, mix Mix, keys []string) *generator {
	return &generator{
		rng:  rand.New(rand.NewPCG(seed, uint64(client))),
		mix:  mix,
		keys: keys,
		seen: make([]string, len(keys)),
	}
}

// next returns the next operation for the client currently acting as process.
func (g *generator) next(process int) spec {
	g.seq++
	kind, k := g.rng.Float64(), g.rng.IntN(len(g.keys))
	value := strconv.Itoa(process) + "-" + strconv.Itoa(g.seq)
	if kind < g.mix.Ledger {
		return spec{f: history.Write, key: history.LedgerPrefix + value, value: value, k: -1}
	}
	// Rescale the rest of [Ledger, 1) to the register weights.
	total := g.mix.Read + g.mix.Write + g.mix.CAS
	x := (kind - g.mix.Ledger) / (1 - g.mix.Ledger) * total
	switch {
	case x < g.mix.Read:
		return spec{f: history.Read, key: g.keys[k], k: k}
	case x < g.mix.Read+g.mix.Write:
		return spec{f: history.Write, key: g.keys[k], value: value, k: k}
	}
	from := g.seen[k]
	if from == "" {
		// Nothing seen yet: expect a value no one writes, a definite 412.
		// Empty is not used, as it would mean "absent" in the history.
		from = "none"
	}
	return spec{f: history.CAS, key: g.keys[k], value: value, from: from, k: k}
}

// observe remembers what a completed register operation showed about its key.
func (g *generator) observe(s spec, t history.Type, read string) {
	if t != history.OK || s.k < 0 {
		return
	}
	switch s.f {
	case history.Read:
		if read != "" {
			g.seen[s.k] = read
		}
	case history.Write, history.CAS:
		g.seen[s.k] = s.value
	}
}

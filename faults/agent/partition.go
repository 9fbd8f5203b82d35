package agent

import (
	"github.com/google/nftables/expr"

	"github.com/hadrill/hadrill/faults/kind"
)

// A partition drops every packet between the node and the named peers, in
// one direction or both. Dropping (rather than rejecting) is what a cut
// cable or a lost route looks like: connections hang until they time out.

// partitionFault is an applied partition.
type partitionFault struct {
	rules *nftFault
}

func init() { register(applyPartition, kind.Partition) }

// applyPartition installs drop rules for each peer on the chosen sides.
func applyPartition(a *Agent, f Fault) (fault, error) {
	p := f.Params
	if len(p.Peers) == 0 {
		return nil, badParams("partition needs at least one peer")
	}
	spec, err := peerChains(p, dropRules)
	if err != nil {
		return nil, err
	}
	rules, err := a.nft.install(kind.Partition, spec)
	if err != nil {
		return nil, err
	}
	return &partitionFault{rules: rules}, nil
}

// dropRules turns matches into counted drop rules.
func dropRules(matches [][]expr.Any) []nftRule {
	out := make([]nftRule, 0, len(matches))
	for _, m := range matches {
		out = append(out, nftRule{label: "drop", exprs: concat(m, []expr.Any{counter(), drop()})})
	}
	return out
}

func (f *partitionFault) mechanism() string { return "nftables" }

func (f *partitionFault) measure() (Measured, error) {
	c, err := f.rules.counters()
	if err != nil {
		return Measured{}, err
	}
	return Measured{PacketsDropped: first(c["drop"])}, nil
}

func (f *partitionFault) heal() (Measured, error) { return healRules(f.rules, f.measure) }

// first returns the first element of a counter list, or 0.
func first(v []uint64) uint64 {
	if len(v) == 0 {
		return 0
	}
	return v[0]
}

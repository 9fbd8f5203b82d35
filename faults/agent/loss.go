package agent

import (
	"github.com/google/nftables/expr"

	"github.com/hadrill/hadrill/faults/kind"
)

// Loss drops a random share of packets with nftables' numgen, in the kernel,
// so the rate holds at any packet rate. Each rule counts packets twice:
// before the dice (seen) and after (dropped), which gives the measured rate.

// lossFault is an applied loss.
type lossFault struct {
	rules *nftFault
}

func init() { register(applyLoss, kind.Loss) }

// applyLoss installs counted random-drop rules for each peer (or all
// non-control traffic) on the chosen sides.
func applyLoss(a *Agent, f Fault) (fault, error) {
	p := f.Params
	if p.Percent <= 0 || p.Percent > 100 {
		return nil, badParams("loss percent %v is not in (0, 100]", p.Percent)
	}
	spec, err := peerChains(p, func(m [][]expr.Any) []nftRule { return lossRules(m, p.Percent) })
	if err != nil {
		return nil, err
	}
	rules, err := a.nft.install(kind.Loss, spec)
	if err != nil {
		return nil, err
	}
	return &lossFault{rules: rules}, nil
}

// lossRules builds "match counter numgen<p counter drop" for each match.
func lossRules(matches [][]expr.Any, percent float64) []nftRule {
	out := make([]nftRule, 0, len(matches))
	for _, m := range matches {
		body := concat(m, []expr.Any{counter()}, randomBelow(percent), []expr.Any{counter(), drop()})
		out = append(out, nftRule{label: "loss", exprs: body})
	}
	return out
}

func (f *lossFault) mechanism() string { return "nftables" }

func (f *lossFault) measure() (Measured, error) {
	c, err := f.rules.counters()
	if err != nil {
		return Measured{}, err
	}
	m := Measured{}
	if v := c["loss"]; len(v) == 2 {
		m.PacketsSeen, m.PacketsDropped = v[0], v[1]
	}
	if m.PacketsSeen > 0 {
		m.LossPercent = 100 * float64(m.PacketsDropped) / float64(m.PacketsSeen)
	}
	return m, nil
}

func (f *lossFault) heal() (Measured, error) { return healRules(f.rules, f.measure) }

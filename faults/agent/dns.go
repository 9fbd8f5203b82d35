package agent

import (
	"net"

	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"

	"github.com/hadrill/hadrill/faults/kind"
)

// dockerResolver is Docker's embedded DNS server. Docker DNATs
// 127.0.0.11:53 to a random port inside the container's nat table, so its
// answers do not come from port 53 when the agent's input chain sees them
// (the reverse NAT happens later, at the source-NAT hook): they are matched
// by address instead.
var dockerResolver = net.IPv4(127, 0, 0, 11)

// dnsFault is an applied DNS failure.
type dnsFault struct {
	rules *nftFault
}

func init() { register(applyDNS, kind.DNS) }

// applyDNS drops DNS answers on the way in: UDP and TCP from port 53, and
// anything from Docker's resolver. Queries still leave, so lookups time out,
// which is how an unreachable resolver looks to an application (dropping
// the queries instead would fail sendto at once with EPERM).
func applyDNS(a *Agent, _ Fault) (fault, error) {
	spec := nftChains{keepLoopback: true}
	for _, proto := range []byte{unix.IPPROTO_UDP, unix.IPPROTO_TCP} {
		spec.in = append(spec.in, nftRule{label: "drop",
			exprs: concat(matchPort(proto, false, 53), []expr.Any{counter(), drop()})})
	}
	spec.in = append(spec.in, nftRule{label: "drop",
		exprs: concat(matchAddr(dockerResolver, true), []expr.Any{counter(), drop()})})
	rules, err := a.nft.install(kind.DNS, spec)
	if err != nil {
		return nil, err
	}
	return &dnsFault{rules: rules}, nil
}

func (f *dnsFault) mechanism() string { return "nftables" }

func (f *dnsFault) measure() (Measured, error) {
	c, err := f.rules.counters()
	if err != nil {
		return Measured{}, err
	}
	var m Measured
	for _, v := range c["drop"] {
		m.PacketsDropped += v
	}
	return m, nil
}

func (f *dnsFault) heal() (Measured, error) { return healRules(f.rules, f.measure) }

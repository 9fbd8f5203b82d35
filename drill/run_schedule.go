package drill

import (
	"time"

	"github.com/hadrill/hadrill/faults"
	"github.com/hadrill/hadrill/scenarios"
)

// schedule turns the scenario's fixed faults and its nemesis into one
// schedule. The nemesis part depends only on the seed, so equal seeds give
// equal schedules.
func (r *run) schedule() []faults.Planned {
	var specs []faults.Spec
	for _, f := range r.s.Faults {
		start, end := f.Window(time.Duration(r.s.Duration))
		d := end - start
		if f.Duration == 0 && f.RestartAfter == 0 {
			d = 0 // stays in force until the final heal
		}
		specs = append(specs, faults.Spec{
			Kind:     string(f.Kind),
			Target:   f.Target,
			At:       start,
			Duration: d,
			Params:   f.Params,
		})
	}
	if n := r.s.Nemesis; n != nil {
		rs := faults.RandomSpec{
			Start:    n.Start.Std(),
			Interval: n.Interval.Std(),
			Duration: n.Duration.Std(),
			Params:   map[string]faults.Params{},
		}
		for _, k := range n.Kinds {
			rs.Kinds = append(rs.Kinds, string(k))
			rs.Params[string(k)] = n.Params.For(k)
		}
		for _, t := range n.Targets {
			rs.Targets = append(rs.Targets, scenarios.Target{Selector: t})
		}
		specs = append(specs, faults.Random(rs, time.Duration(r.s.Duration), r.seed)...)
	}
	return faults.Fixed(specs)
}

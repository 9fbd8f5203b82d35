package checker

import (
	"slices"
	"strings"
	"testing"
)

// TestAvailability checks the whole-run and per-fault ratios.
//
// latency: 10 reads, 5 writes (one failed at 1.5), 2 CAS (one failed at 1.1)
// and 2 ledger writes: 17 ok of 19. The delay fault's window [1.0, 2.0)
// holds the reads invoked at 1.0..1.8, the failed write, the failed CAS and
// the ledger write at 1.3: 6 ok of 8. (The write invoked at 0.95 and
// acknowledged at 1.15 belongs to no window: operations count where they
// are invoked.)
//
// rto-clean: 15 operations, 10 ok. The kill's window [10.0, 13.0) holds 8
// operations, 3 of them ok.
func TestAvailability(t *testing.T) {
	for _, tc := range []struct {
		name, fixture string
		target        *float64
		want          Result
		value         float64 // -1 = null
		ok, total     int
		perFault      []float64 // -1 = null
		detail        string
	}{
		{name: "latency fixture", fixture: "latency", target: f64(0.85), want: Pass,
			value: 17.0 / 19, ok: 17, total: 19, perFault: []float64{0.75}},
		{name: "outage under target", fixture: "rto-clean", target: f64(0.9), want: Fail,
			value: 10.0 / 15, ok: 10, total: 15, perFault: []float64{0.375}, detail: "10 of 15 operations ok (0.6667 < target 0.9)"},
		{name: "outage without target", fixture: "rto-clean", want: Pass,
			value: 10.0 / 15, ok: 10, total: 15, perFault: []float64{0.375}},
		{name: "exactly on target", fixture: "rto-clean", target: f64(10.0 / 15), want: Pass,
			value: 10.0 / 15, ok: 10, total: 15, perFault: []float64{0.375}},
		{name: "final reads are not counted", fixture: "rpo-unread", target: f64(1), want: Pass,
			value: 1, ok: 4, total: 4, perFault: []float64{-1}},
		// 13 ok writes and 13 CAS that failed with 412: every one of them
		// was answered by a working primary, so availability is 1.
		{name: "412 CAS count as served", fixture: "rto-cas-contention", target: f64(0.99), want: Pass,
			value: 1, ok: 26, total: 26, perFault: []float64{1}},
		{name: "empty history", fixture: "empty", target: f64(0.9), want: Unknown, value: -1, perFault: []float64{},
			detail: "no operations were recorded"},
		// Whatever the targets: a run that recorded nothing is never a pass.
		{name: "empty history without target", fixture: "empty", want: Unknown, value: -1, perFault: []float64{},
			detail: "no operations were recorded"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Availability(load(t, tc.fixture), tc.target)
			c := r.Check
			if c.Result != tc.want || value(c.Value) != tc.value || r.OK != tc.ok || r.Total != tc.total {
				t.Errorf("got %q %v (%d/%d), want %q %v (%d/%d)", c.Result, value(c.Value), r.OK, r.Total, tc.want, tc.value, tc.ok, tc.total)
			}
			if got := values(c.PerFault); !slices.Equal(got, tc.perFault) {
				t.Errorf("per fault %v, want %v", got, tc.perFault)
			}
			if !strings.Contains(c.Detail, tc.detail) {
				t.Errorf("detail %q does not contain %q", c.Detail, tc.detail)
			}
		})
	}
}

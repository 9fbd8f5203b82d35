package drill

import (
	"context"
	"errors"
	"testing"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/history"
)

type fakeRoles struct {
	claims  []cluster.Claim
	claimEr error
	primary string
	err     error
}

func (f fakeRoles) Claims(context.Context) ([]cluster.Claim, error) { return f.claims, f.claimEr }
func (f fakeRoles) Primary(context.Context) (string, error)         { return f.primary, f.err }

type sampleSink struct{ got []history.RoleSample }

func (s *sampleSink) Append(v any) error {
	s.got = append(s.got, v.(history.RoleSample))
	return nil
}

// TestRoleSamplerRecordsTheSystemsAnswer: a sample holds the system's own
// primary and every node's claim, a split brain shows two claimants, and a
// system without a primary or claims records nothing.
func TestRoleSamplerRecordsTheSystemsAnswer(t *testing.T) {
	down := errors.New("timeout")
	cases := []struct {
		name      string
		src       fakeRoles
		samples   int
		primary   string
		claimants []string
	}{
		{"one primary", fakeRoles{claims: []cluster.Claim{{Node: "n1", Role: "primary", Epoch: 2}, {Node: "n2", Role: "standby"}}, primary: "n1"}, 1, "n1", []string{"n1"}},
		{"split brain", fakeRoles{claims: []cluster.Claim{{Node: "n1", Role: "primary"}, {Node: "n2", Role: "primary"}}, primary: "n1"}, 1, "n1", []string{"n1", "n2"}},
		{"election", fakeRoles{claims: []cluster.Claim{{Node: "n1", Err: down}}, err: cluster.ErrNoPrimary}, 1, "", nil},
		{"no primary at all", fakeRoles{claimEr: cluster.ErrUnsupported, err: cluster.ErrNoFixedPrimary}, 0, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sink := &sampleSink{}
			s := &roleSampler{c: tc.src, sink: sink, now: func() int64 { return 42 }}
			s.sample(context.Background())
			if len(sink.got) != tc.samples {
				t.Fatalf("%d samples, want %d", len(sink.got), tc.samples)
			}
			if s.primary() != tc.primary {
				t.Errorf("primary %q, want %q", s.primary(), tc.primary)
			}
			if tc.samples == 0 {
				return
			}
			got := sink.got[0]
			if got.Time != 42 || got.Primary != tc.primary || len(got.Claimants()) != len(tc.claimants) {
				t.Errorf("sample %+v, want primary %q claimants %v", got, tc.primary, tc.claimants)
			}
		})
	}
}

package drill

import (
	"context"
	"errors"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/history"
)

// roleSource is what the sampler asks: a *cluster.Cluster.
type roleSource interface {
	Claims(ctx context.Context) ([]cluster.Claim, error)
	Primary(ctx context.Context) (string, error)
}

// roleEvery is how often the system is asked who is primary during a run.
const roleEvery = time.Second

// roleSampler asks the system who is primary about once a second and
// records each answer in roles.jsonl: the one record of "who is primary"
// that the progress line, the metrics and the report read. It asks the
// system itself (its PrimaryFinder and ClaimReporter), never infers it from
// which node acknowledged writes, which is wrong for systems where every
// member takes writes.
type roleSampler struct {
	c      roleSource
	sink   interface{ Append(any) error }
	now    func() int64
	latest atomic.Pointer[string]
	// seen, when set, is told each answer of a system that has a fixed
	// primary: the sample's time and the primary ("" for none).
	seen func(t int64, primary string)
}

// run samples until ctx ends. A sample costs at most the system's own probe
// timeout, since nodes are asked at once.
func (s *roleSampler) run(ctx context.Context) {
	t := time.NewTicker(roleEvery)
	defer t.Stop()
	for {
		s.sample(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *roleSampler) sample(ctx context.Context) {
	rs := history.RoleSample{Time: s.now()}
	claims, err := s.c.Claims(ctx)
	if err == nil {
		for _, c := range claims {
			rc := history.RoleClaim{Node: c.Node, Role: c.Role, Epoch: c.Epoch}
			if c.Err != nil {
				rc.Error = c.Err.Error()
			}
			rs.Claims = append(rs.Claims, rc)
		}
	}
	primary, err := s.c.Primary(ctx)
	switch {
	case ctx.Err() != nil:
		return // the run is ending: a cut-short answer says nothing
	case err == nil:
		rs.Primary = primary
	case errors.Is(err, cluster.ErrNoFixedPrimary) && len(rs.Claims) == 0:
		return // nothing to record for a system without a primary
	}
	s.latest.Store(&rs.Primary)
	if s.seen != nil && !errors.Is(err, cluster.ErrNoFixedPrimary) {
		s.seen(rs.Time, rs.Primary)
	}
	if err := s.sink.Append(rs); err != nil {
		slog.Debug("record roles", "err", err)
	}
}

// primary is the latest answer, "" before the first or while none.
func (s *roleSampler) primary() string {
	if p := s.latest.Load(); p != nil {
		return *p
	}
	return ""
}

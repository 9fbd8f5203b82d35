package faults

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/faults/kind"
	"github.com/hadrill/hadrill/history"
)

// Recorder receives fault events; *history.Writer satisfies it.
type Recorder interface {
	Append(v any) error
}

// Env is the cluster as the nemesis sees it.
type Env struct {
	// Nodes are every node of the cluster.
	Nodes []Node
	// Primary returns the current primary's name, "" when there is none.
	Primary func(ctx context.Context) (string, error)
	// Clock returns ns since the run's start (the history's time base).
	Clock func() int64
	// Record receives each fault event as it happens.
	Record Recorder
	// Seed makes target choices ("one", "minority") reproducible.
	Seed int64
}

// Nemesis applies a schedule of faults to a cluster. It is safe to call
// Active and HealAll from other goroutines while Run is going.
type Nemesis struct {
	env      Env
	schedule []Planned

	mu     sync.Mutex
	active map[int]*activeFault
	// injectErrs are injection failures, returned by Run.
	injectErrs []error
}

type activeFault struct {
	p     Planned
	nodes []string
	heal  Heal
	// mu serialises heal attempts; healed is set once one succeeded. A
	// failed heal leaves the fault active, so the final HealAll retries it.
	mu     sync.Mutex
	healed bool
}

// New prepares a nemesis. Faults are looked up now, so an unknown kind is an
// error before anything starts.
func New(env Env, schedule []Planned) (*Nemesis, error) {
	for _, p := range schedule {
		if _, err := Lookup(p.Kind); err != nil {
			return nil, fmt.Errorf("fault %d: %w", p.ID, err)
		}
	}
	return &Nemesis{env: env, schedule: schedule, active: map[int]*activeFault{}}, nil
}

// Run writes the schedule as it is planned, then injects each fault at its
// time and heals it when its window ends. It returns when every fault with a
// window has been healed, or when ctx ends; ctx only decides whether the
// next fault starts, and an injection under way finishes under its own
// deadline, so that what it did is known and can be healed. Faults without a
// window stay in force until HealAll. Injection errors are recorded in
// faults.jsonl and returned joined; they do not stop the schedule. Each
// fault that ctx ended before it started is recorded as skipped, with
// ctx's cause (context.Cause) as the reason.
func (n *Nemesis) Run(ctx context.Context) error {
	for _, p := range n.schedule {
		n.append(history.FaultEvent{Fault: p.ID, Type: history.FaultScheduled, Kind: p.Kind, Target: p.Target.String(), At: int64(p.At)})
	}
	var wg sync.WaitGroup
	for i, p := range n.schedule {
		if !sleepUntil(ctx, n.env.Clock, int64(p.At)) {
			n.skip(n.schedule[i:], context.Cause(ctx))
			break
		}
		af := n.inject(p)
		if af == nil || p.Duration <= 0 {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if sleepUntil(ctx, n.env.Clock, n.env.Clock()+int64(p.Duration)) {
				_ = n.heal(af) // a failure stays active; HealAll retries it
			}
		}()
	}
	wg.Wait()
	n.mu.Lock()
	defer n.mu.Unlock()
	return errors.Join(n.injectErrs...)
}

// skip records that the given faults were never requested, and why.
func (n *Nemesis) skip(rest []Planned, cause error) {
	reason := "the schedule was stopped"
	if cause != nil {
		reason = cause.Error()
	}
	for _, p := range rest {
		n.append(history.FaultEvent{Fault: p.ID, Type: history.FaultSkipped, Kind: p.Kind, Target: p.Target.String(),
			At: int64(p.At), Time: n.env.Clock(), Reason: reason})
	}
	if len(rest) > 0 {
		slog.Info("faults skipped", "count", len(rest), "reason", reason)
	}
}

// injectTimeout bounds one injection, target resolution included.
const injectTimeout = primaryWait + 30*time.Second

// inject resolves the target, applies the fault and records it. It returns
// the fault in force, or nil when nothing was applied.
func (n *Nemesis) inject(p Planned) *activeFault {
	ctx, cancel := context.WithTimeout(context.Background(), injectTimeout)
	defer cancel()
	base := history.FaultEvent{Fault: p.ID, Kind: p.Kind, Target: p.Target.String(), At: int64(p.At)}
	n.record(base, history.FaultRequested, "", nil, nil)
	in, _ := Lookup(p.Kind)
	hit, names, err := n.hit(ctx, p)
	if err != nil {
		n.record(base, history.FaultError, "", nil, err)
		n.addErr(&n.injectErrs, base, err)
		return nil
	}
	var emu sync.Mutex
	reported := map[string]int64{}
	hit.Effective = func(node string, at time.Time) {
		// A node reports wall-clock time. Placed by its age now (a few
		// ms, read off the wall clock) rather than against a start time
		// minutes old, a wall-clock step during the run cannot skew it.
		age := max(0, time.Since(at))
		emu.Lock()
		defer emu.Unlock()
		reported[node] = n.env.Clock() - int64(age)
	}
	heal, err := in.Inject(ctx, hit)
	var af *activeFault
	if heal != nil {
		af = &activeFault{p: p, nodes: names, heal: heal}
		n.mu.Lock()
		n.active[p.ID] = af
		n.mu.Unlock()
	}
	if err != nil {
		n.record(base, history.FaultError, "", nil, err)
		n.addErr(&n.injectErrs, base, err)
		slog.Warn("inject fault", "fault", p.ID, "kind", p.Kind, "err", err)
		return af
	}
	now := n.env.Clock()
	emu.Lock()
	defer emu.Unlock()
	for _, name := range names {
		e := base
		e.Type, e.Node, e.Time = history.FaultEffective, name, now
		if t, ok := reported[name]; ok {
			e.Time = t
		}
		n.append(e)
	}
	slog.Info("fault in force", "fault", p.ID, "kind", p.Kind, "nodes", names)
	return af
}

// primaryWait bounds how long a fault whose target depends on the primary
// waits for one to be elected (after an earlier fault, say).
const primaryWait = 10 * time.Second

// hit resolves a planned fault's target against the cluster as it is now,
// waiting for a primary when the target needs one and none is known.
func (n *Nemesis) hit(ctx context.Context, p Planned) (Hit, []string, error) {
	deadline := time.Now().Add(primaryWait)
	for {
		h, names, err := n.resolve(ctx, p)
		if !errors.Is(err, cluster.ErrNoPrimary) || time.Now().After(deadline) {
			return h, names, err
		}
		select {
		case <-ctx.Done():
			return h, names, err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// resolve is one attempt of hit.
func (n *Nemesis) resolve(ctx context.Context, p Planned) (Hit, []string, error) {
	byName := map[string]Node{}
	var all, everyone []string // the nodes selectors pick from; every node
	for _, nd := range n.env.Nodes {
		byName[nd.Name()] = nd
		everyone = append(everyone, nd.Name())
		if roleOf(nd) == p.Target.Role || (p.Target.Role == "" && roleOf(nd) == cluster.DataRole) {
			all = append(all, nd.Name())
		}
	}
	sort.Strings(all)
	sort.Strings(everyone)
	primary := ""
	if n.env.Primary != nil {
		var err error
		if primary, err = n.env.Primary(ctx); err != nil {
			slog.Debug("find primary for fault target", "err", err)
		}
	}
	rng := Rand(n.env.Seed, "target-"+strconv.Itoa(p.ID))
	pick := func(names []string) []Node {
		out := make([]Node, len(names))
		for i, s := range names {
			out[i] = byName[s]
		}
		return out
	}
	h := Hit{ID: p.ID, All: n.env.Nodes, Params: p.Params, OneWay: p.Target.OneWay()}
	if kind.Name(p.Kind).Sides() {
		sides, err := Sides(p.Target, all, primary, rng)
		if err != nil {
			return h, nil, err
		}
		if len(p.Target.Groups) == 0 && !p.Target.OneWay() {
			// Isolation cuts the picked nodes off from every other node,
			// auxiliary ones included: a monitor or a Sentinel is on
			// the far side, as in a real network split.
			sides[1] = slices.DeleteFunc(slices.Clone(everyone), func(x string) bool { return slices.Contains(sides[0], x) })
		}
		var names []string
		for _, s := range sides {
			h.Sides = append(h.Sides, pick(s))
		}
		names = append(names, sides[0]...)
		h.Nodes = pick(sides[0])
		return h, names, nil
	}
	names, err := Resolve(p.Target, all, primary, rng)
	if err != nil {
		return h, nil, err
	}
	h.Nodes = pick(names)
	return h, names, nil
}

// roleOf is a node's role, cluster.DataRole for nodes that do not say.
func roleOf(nd Node) string {
	if r, ok := nd.(interface{ Role() string }); ok && r.Role() != "" {
		return r.Role()
	}
	return cluster.DataRole
}

// heal undoes one fault, with its own context so that it also works when
// the run is being interrupted. It is recorded as healed only when the heal
// succeeded; a failed heal leaves the fault active for HealAll to retry.
func (n *Nemesis) heal(af *activeFault) error {
	af.mu.Lock()
	defer af.mu.Unlock()
	if af.healed {
		return nil
	}
	base := history.FaultEvent{Fault: af.p.ID, Kind: af.p.Kind, Target: af.p.Target.String(), At: int64(af.p.At)}
	n.record(base, history.FaultHealRequested, "", nil, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	measured, err := af.heal(ctx)
	if err != nil {
		err = fmt.Errorf("heal: %w", err)
		n.record(base, history.FaultError, "", nil, err)
		slog.Warn("heal fault", "fault", af.p.ID, "kind", af.p.Kind, "err", err)
		return fmt.Errorf("fault %d (%s): %w", af.p.ID, af.p.Kind, err)
	}
	for i, name := range af.nodes {
		var m map[string]float64
		if i == 0 {
			m = measured
		}
		n.record(base, history.FaultHealed, name, m, nil)
	}
	af.healed = true
	n.mu.Lock()
	delete(n.active, af.p.ID)
	n.mu.Unlock()
	slog.Info("fault healed", "fault", af.p.ID, "kind", af.p.Kind)
	return nil
}

// HealAll heals every fault still in force, retrying any whose earlier heal
// failed, and returns the errors of this call's heals. Every schedule ends
// with it, on every path, including an interrupted run.
func (n *Nemesis) HealAll() error {
	n.mu.Lock()
	var list []*activeFault
	for _, af := range n.active {
		list = append(list, af)
	}
	n.mu.Unlock()
	sort.Slice(list, func(i, j int) bool { return list[i].p.ID < list[j].p.ID })
	var errs []error
	for _, af := range list {
		errs = append(errs, n.heal(af))
	}
	return errors.Join(errs...)
}

// ActiveFault is a fault in force, as the progress line and live metrics
// show it.
type ActiveFault struct {
	ID    int
	Kind  string
	Nodes []string
}

// String renders the fault as kind(nodes), e.g. "kill(n1)".
func (a ActiveFault) String() string {
	return fmt.Sprintf("%s(%s)", a.Kind, strings.Join(a.Nodes, ","))
}

// Active lists the faults in force now, in schedule order.
func (n *Nemesis) Active() []ActiveFault {
	n.mu.Lock()
	defer n.mu.Unlock()
	out := make([]ActiveFault, 0, len(n.active))
	for _, af := range n.active {
		out = append(out, ActiveFault{ID: af.p.ID, Kind: af.p.Kind, Nodes: af.nodes})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

func (n *Nemesis) record(base history.FaultEvent, typ history.FaultEventType, node string, m map[string]float64, err error) {
	e := base
	e.Type, e.Node, e.Measured, e.Time = typ, node, m, n.env.Clock()
	if err != nil {
		e.Error = err.Error()
	}
	n.append(e)
}

func (n *Nemesis) append(e history.FaultEvent) {
	if n.env.Record != nil {
		if werr := n.env.Record.Append(e); werr != nil {
			slog.Error("record fault event", "err", werr)
		}
	}
}

func (n *Nemesis) addErr(list *[]error, base history.FaultEvent, err error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	*list = append(*list, fmt.Errorf("fault %d (%s): %w", base.Fault, base.Kind, err))
}

// sleepUntil waits until the clock reads at least t; false if ctx ended.
func sleepUntil(ctx context.Context, clock func() int64, t int64) bool {
	d := time.Duration(t - clock())
	if d <= 0 {
		return ctx.Err() == nil
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

package drill

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/faults"
	"github.com/hadrill/hadrill/faults/agent"
	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/results"
	"github.com/hadrill/hadrill/systems"
	"github.com/hadrill/hadrill/workload"
)

// finalReadWait bounds the final read phase's search for a primary.
const finalReadWait = 30 * time.Second

// drill runs the load with the fault schedule, heals, settles and reads the
// ledger back. Faults are healed on every path out of it.
func (r *run) drill(ctx context.Context, c *cluster.Cluster) (err error) {
	hw, err := history.Create(r.dir.File(results.HistoryFile))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, hw.Close()) }()
	fw, err := history.Create(r.dir.File(results.FaultsFile))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, fw.Close()) }()
	rw, err := history.Create(r.dir.File(results.RolesFile))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, rw.Close()) }()

	kv, err := r.sys.NewClient(ctx, c, r.s.Workload.Clients)
	if err != nil {
		return envError("connect a client to "+r.sys.Name(), err)
	}
	defer kv.Close()
	r.meta.LoadStart = time.Now()
	// The abort watch sees each operation as it is recorded, and reads the
	// recorder's clock.
	var rec *workload.Recorder
	watch := newAbortWatch(r.s.Abort, func() int64 { return rec.Now() })
	rec = workload.NewRecorder(observe(watchOps(hw, watch), r.opt.Observer), r.meta.LoadStart)
	load := workload.NewRunner(kv, rec)
	roles := &roleSampler{c: c, sink: rw, now: rec.Now, seen: watch.sawRoles}

	var nodes []faults.Node
	for _, n := range c.AllNodes() {
		fn := faultNode{Node: n, onStart: kv.Refresh}
		if r.agent != nil {
			nodes = append(nodes, agentNode{faultNode: fn, agent: r.agent.client(n)})
			continue
		}
		nodes = append(nodes, fn)
	}
	nem, err := faults.New(faults.Env{Nodes: nodes, Primary: c.Primary, Clock: rec.Now, Record: fw, Seed: r.seed}, r.schedule())
	if err != nil {
		return fmt.Errorf("prepare faults: %w", err)
	}
	// Heal on every path: errors, a panic recovered by safely, or ctx gone.
	defer func() {
		if herr := nem.HealAll(); herr != nil {
			err = errors.Join(err, herr)
		}
	}()

	r.setPhase(PhaseLoad)
	loadErr, faultErr := r.loadWithFaults(ctx, load, nem, roles, watch)
	r.meta.LoadEnd = rec.Now()
	r.meta.Abort = watch.Tripped()
	r.loadEnded = ctx.Err() == nil
	r.setPhase(PhaseHeal)
	healErr := nem.HealAll()
	// A container that is gone was removed by something other than this
	// run (a kill restarts its container, it never removes it): the
	// engine lost it, and the run says nothing about the system. The
	// remaining nodes are still healed and verified, among themselves.
	present, lost := lostContainers(ctx, c)
	// A node whose process exited in reaction to a fault (hakv exits when
	// its log cannot be written, on a full disk) is started again, as a
	// killed one is: the final read needs the whole cluster back. Its
	// restart is logged and recorded, not hidden.
	restarted := restartExited(ctx, c)
	if len(restarted) > 0 {
		kv.Refresh()
		r.meta.Errors = append(r.meta.Errors, fmt.Sprintf("heal: started %v again: their process had exited during the run", restarted))
		// The fault still in force on a restarted node went with its old
		// namespaces; heal again so the nemesis records it healed.
		healErr = nem.HealAll()
	}
	healErr = errors.Join(healErr, lost, waitHealthy(ctx, present))
	if r.agent != nil {
		healErr = errors.Join(healErr, r.agent.healAndVerify(ctx, present))
	}
	if found := results.EnvFindings(healErr); len(found) > 0 {
		// The machine broke, not the system: the check makes the verdict
		// unknown (CheckRun), and the CLI exits 3.
		r.meta.Environment = append(r.meta.Environment, found...)
		healErr = envError("verify the environment after the heal", healErr)
	}
	if r.opt.Observer != nil {
		r.opt.Observer.SetActiveFaults(nil)
	}
	if faultErr != nil {
		r.meta.Errors = append(r.meta.Errors, faultErr.Error())
	}
	if ctx.Err() != nil {
		return fmt.Errorf("run interrupted: %w", ctx.Err())
	}
	if err := errors.Join(loadErr, healErr); err != nil {
		return err
	}
	return r.settleAndRead(ctx, c, kv, load, rec)
}

// loadWithFaults runs the workload and the nemesis side by side, reporting
// progress, until the load phase ends.
// When an abort condition trips (watch), the faults not yet started never
// are, and the load stops at once: the caller heals what is in force.
func (r *run) loadWithFaults(ctx context.Context, load *workload.Runner, nem *faults.Nemesis, roles *roleSampler, watch *abortWatch) (loadErr, faultErr error) {
	var wg sync.WaitGroup
	wg.Add(4)
	done := make(chan struct{})
	lctx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	go func() {
		defer wg.Done()
		defer close(done)
		loadErr = safely("workload", func() error {
			_, err := load.Run(lctx, r.workloadConfig())
			return err
		})
	}()
	nctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	go func() {
		defer wg.Done()
		faultErr = safely("nemesis", func() error { return nem.Run(nctx) })
	}()
	go func() {
		defer wg.Done()
		_ = safely("role sampler", func() error { roles.run(nctx); return nil })
	}()
	go func() {
		defer wg.Done()
		_ = safely("abort watch", func() error { watch.run(nctx); return nil })
	}()
	tripped := watch.Done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case <-done:
			// Faults scheduled past the load's end never start.
			cancel(errLoadEnded)
			wg.Wait()
			return loadErr, faultErr
		case <-tripped:
			tripped = nil
			a := watch.Tripped()
			cancel(fmt.Errorf("the drill aborted: %s", a))
			stopLoad()
			r.setPhaseDetail(PhaseLoad, "aborted: "+a.Condition)
		case <-tick.C:
			st, primary := load.Stats(), roles.primary()
			var kinds, active []string
			for _, a := range nem.Active() {
				kinds = append(kinds, a.Kind)
				active = append(active, a.String())
			}
			if r.opt.Observer != nil {
				r.opt.Observer.SetPrimary(primary)
				r.opt.Observer.SetActiveFaults(kinds)
			}
			r.progress(st, primary, active)
		}
	}
}

// errLoadEnded is why faults scheduled past the load's end are skipped.
var errLoadEnded = errors.New("the load phase ended first")

// safely runs fn and turns a panic into an error, so that a bug in the load
// or the nemesis still ends in healed faults, removed containers and a
// written history rather than a crashed process.
func safely(what string, fn func() error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s panicked: %v\n%s", what, p, debug.Stack())
		}
	}()
	return fn()
}

// settleAndRead waits for the healed cluster to settle, then reads back
// every acknowledged ledger write for RPO.
func (r *run) settleAndRead(ctx context.Context, c *cluster.Cluster, kv systems.Client, load *workload.Runner, rec *workload.Recorder) error {
	r.setPhase(PhaseSettle)
	select {
	case <-ctx.Done():
		return fmt.Errorf("run interrupted: %w", ctx.Err())
	case <-time.After(time.Duration(r.s.Settle)):
	}
	kv.Refresh()
	r.setPhase(PhaseFinalRead)
	if _, err := load.FinalRead(ctx, finalReadWait); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("run interrupted: %w", ctx.Err())
		}
		// The final reads are recorded as failed: RPO will say unknown.
		r.meta.Errors = append(r.meta.Errors, fmt.Sprintf("final read: %v", err))
	}
	r.meta.End = rec.Now()
	return rec.Err()
}

// workloadConfig maps the scenario's workload onto the load generator.
func (r *run) workloadConfig() workload.Config {
	w := r.s.Workload
	return workload.Config{
		Clients:   w.Clients,
		Rate:      float64(w.Rate),
		Duration:  time.Duration(r.s.Duration),
		Keys:      w.Keys,
		Mix:       w.Mix(),
		Seed:      uint64(r.seed),
		OpTimeout: time.Duration(w.Timeout),
	}
}

// restartExited starts every node whose container has exited, and names
// them.
func restartExited(ctx context.Context, c *cluster.Cluster) []string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 90*time.Second)
	defer cancel()
	var names []string
	for _, n := range c.AllNodes() {
		if st, err := n.State(ctx); err != nil || st != cluster.StateExited {
			continue
		}
		slog.Warn("node exited during the run: starting it again", "node", n.Name())
		if err := n.Start(ctx); err != nil {
			slog.Warn("start exited node", "node", n.Name(), "err", err)
		}
		names = append(names, n.Name())
	}
	return names
}

// lostContainers asks the engine for every node's container after the
// heal. It returns the nodes whose container still exists, and an
// environment finding for each one that is gone. hadrill never removes a
// container during a run, so a missing one was removed by another process
// (a neighbour's clean-up, a person) or lost by the engine. A node whose
// state cannot be read counts as present: the checks that follow say why.
func lostContainers(ctx context.Context, c *cluster.Cluster) ([]*cluster.Node, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var present []*cluster.Node
	var lost []error
	for _, n := range c.AllNodes() {
		if st, err := n.State(ctx); err == nil && st == cluster.StateMissing {
			lost = append(lost, &results.EnvFinding{Kind: results.EnvContainer, Node: n.Name(),
				Detail: fmt.Sprintf("its container %.12s is gone from engine %q: removed during the run by something other than this run",
					n.ContainerID(), n.Engine())})
			continue
		}
		present = append(present, n)
	}
	return present, errors.Join(lost...)
}

// waitHealthy waits until every given node answers its health check again
// after the final heal: the heal is verified, not assumed.
func waitHealthy(ctx context.Context, nodes []*cluster.Node) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 60*time.Second)
	defer cancel()
	var errs []error
	for _, n := range nodes {
		for {
			err := n.Healthy(ctx)
			if err == nil {
				break
			}
			if ctx.Err() != nil {
				errs = append(errs, fmt.Errorf("verify heal of %s: %w", n.Name(), err))
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	return errors.Join(errs...)
}

// faultNode adapts a cluster node to the faults package's Node, and refreshes
// the clients' endpoints when a node comes back (its port may change).
type faultNode struct {
	*cluster.Node
	onStart func()
}

func (n faultNode) Start(ctx context.Context) error {
	err := n.Node.Start(ctx)
	n.onStart()
	return err
}

// agentNode is a node with a node agent: it offers the faults package's
// AgentNode capability.
type agentNode struct {
	faultNode
	agent *agent.Client
}

func (n agentNode) Agent() *agent.Client { return n.agent }

// observe wraps the history sink so that an Observer sees each completed
// operation with its latency.
func observe(sink workload.Sink, o Observer) workload.Sink {
	if o == nil {
		return sink
	}
	return &observedSink{sink: sink, o: o, invoked: map[int]int64{}}
}

type observedSink struct {
	sink    workload.Sink
	o       Observer
	mu      sync.Mutex
	invoked map[int]int64
}

func (s *observedSink) Append(v any) error {
	if op, ok := v.(history.Op); ok {
		s.mu.Lock()
		if op.Type == history.Invoke {
			s.invoked[op.Process] = op.Time
			s.mu.Unlock()
		} else {
			t := s.invoked[op.Process]
			delete(s.invoked, op.Process)
			s.mu.Unlock()
			s.o.ObserveOp(op, time.Duration(op.Time-t))
		}
	}
	return s.sink.Append(v)
}

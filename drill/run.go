package drill

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/cluster/engine"
	"github.com/hadrill/hadrill/cluster/image"
	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/results"
	"github.com/hadrill/hadrill/scenarios"
	"github.com/hadrill/hadrill/systems"
	"github.com/hadrill/hadrill/systems/registry"
	"github.com/hadrill/hadrill/workload"
)

// envError wraps err as a failure of the machine (engine.ErrEnvironment):
// the CLI gives it exit 3.
func envError(what string, err error) error { return engine.EnvironmentError(what, err) }

// RunOptions configure one run of a scenario.
type RunOptions struct {
	// Results is the results root (default "results").
	Results string
	// AgentBinary is the static binary that runs the node agent
	// (`hadrill agent`): the hadrill binary itself. When empty, nodes run
	// without an agent and only container-level faults are available.
	AgentBinary string
	// Progress, when set, is called about once a second during the run and
	// at each phase change.
	Progress func(Progress)
	// Observer, when set, sees every completed operation and fault change
	// (live metrics).
	Observer Observer
}

// Observer watches a run as it happens; metrics.Exporter (results/metrics) implements it.
type Observer interface {
	ObserveOp(op history.Op, latency time.Duration)
	SetPrimary(node string)
	SetActiveFaults(active []string)
}

// Progress is a snapshot for the progress line.
type Progress struct {
	Phase Phase
	// Detail says more about the phase, "" when there is nothing more.
	Detail  string
	Elapsed time.Duration
	Total   time.Duration
	Load    workload.Stats
	// Primary is the system's own latest answer to "who is primary"
	// (roles.jsonl), "" while none.
	Primary string
	Faults  []string
}

// Outcome is what a run produced. Dir is set as soon as the run folder
// exists, so a failed run still says where its partial results are.
type Outcome struct {
	Dir     results.RunDir
	Verdict *results.Verdict
	// LoadEnded is set when the load phase ran to its end without being
	// interrupted. A Ctrl-C after that (settle, final read, teardown)
	// still gives a checked verdict, and the CLI exits with its code
	// rather than 130.
	LoadEnded bool
}

// Run runs one scenario end to end: build images, start the cluster, wait
// for a primary, drive the workload with the fault schedule, heal, settle,
// read back the ledger, tear down, check and write results. Every phase
// cleans up on failure: faults are healed and containers removed on every
// path, and the history written so far is kept. When ctx is cancelled (Ctrl-C)
// the partial run is still checked and written, and the error wraps
// context.Canceled.
func Run(ctx context.Context, s *scenarios.Scenario, opt RunOptions) (*Outcome, error) {
	sys, ok := registry.Lookup(s.Cluster.System)
	if !ok {
		return nil, fmt.Errorf("system %q: %w: unknown (known: %s)", s.Cluster.System, scenarios.ErrInvalid, strings.Join(registry.Names(), ", "))
	}
	r := &run{s: s, sys: sys, opt: opt, seed: s.EnsureSeed(), started: time.Now()}
	if r.opt.Results == "" {
		r.opt.Results = "results"
	}
	dir, err := results.NewRunDir(r.opt.Results, s.Name, r.started)
	if err != nil {
		return nil, envError("prepare results", err)
	}
	r.dir = dir
	out := &Outcome{Dir: dir}
	runErr := r.execute(ctx)
	out.LoadEnded = r.loadEnded
	if r.meta.LoadStart.IsZero() {
		// Nothing ran: there is no history to check.
		return out, runErr
	}
	// The check has a progress line of its own: on a long history the
	// linearizability search can take a while, and a user should see what
	// the run is doing.
	r.setPhase(PhaseCheck)
	v, err := CheckRun(context.WithoutCancel(ctx), dir.Path, CheckOptions{Write: true})
	out.Verdict = v
	if err != nil {
		return out, errors.Join(runErr, err)
	}
	if err := dir.MarkLatest(); err != nil {
		return out, errors.Join(runErr, err)
	}
	return out, runErr
}

// run is the state of one run across its phases.
type run struct {
	s       *scenarios.Scenario
	sys     systems.System
	opt     RunOptions
	seed    int64
	started time.Time
	dir     results.RunDir
	meta    results.Meta
	agent   *agentSetup
	// loadEnded: the load phase ended before any interrupt (Outcome).
	loadEnded bool

	mu     sync.Mutex
	phase  Phase
	detail string
}

func (r *run) setPhase(p Phase) { r.setPhaseDetail(p, "") }

// setPhaseDetail enters phase p, or says more about it (detail, such as
// how long an image build has taken so far).
func (r *run) setPhaseDetail(p Phase, detail string) {
	r.mu.Lock()
	r.phase, r.detail = p, detail
	r.mu.Unlock()
	slog.Info("phase", "phase", string(p), "detail", detail)
	r.progress(workload.Stats{}, "", nil)
}

func (r *run) progress(st workload.Stats, primary string, active []string) {
	if r.opt.Progress == nil {
		return
	}
	r.mu.Lock()
	p := Progress{Phase: r.phase, Detail: r.detail, Total: time.Duration(r.s.Duration), Load: st, Primary: primary, Faults: active}
	r.mu.Unlock()
	if !r.meta.LoadStart.IsZero() {
		p.Elapsed = time.Since(r.meta.LoadStart)
	}
	r.opt.Progress(p)
}

// execute runs the phases up to and including teardown. The meta file is
// written on every path, so a re-check knows how the run ended.
func (r *run) execute(ctx context.Context) (err error) {
	r.meta = results.Meta{RunID: cluster.NewRunID(), Seed: r.seed, Started: r.started.UTC()}
	defer func() {
		r.meta.Interrupted = errors.Is(err, context.Canceled) || ctx.Err() != nil
		if err != nil {
			r.meta.Errors = append(r.meta.Errors, err.Error())
		}
		r.meta.Finished = time.Now().UTC()
		if werr := results.WriteMeta(r.dir, r.meta); werr != nil {
			err = errors.Join(err, werr)
		}
	}()
	dump, err := r.s.Dump()
	if err != nil {
		return fmt.Errorf("dump scenario: %w", err)
	}
	if err := os.WriteFile(r.dir.File(results.ScenarioFile), dump, 0o644); err != nil {
		return fmt.Errorf("write scenario as run: %w", err)
	}
	if err := r.setupAgent(); err != nil {
		return err
	}
	r.setPhase(PhaseBuild)
	// A multi-engine run checks its own engines when it starts.
	if len(r.s.Cluster.Engines) == 0 {
		if err := engine.Available(ctx); err != nil {
			return envError("check docker", err)
		}
	}
	spec, err := r.clusterSpec()
	if err != nil {
		return err
	}
	if spec.Image == "" && len(spec.Engines) == 0 {
		// On several engines the cluster builds once and ships the image
		// to each engine itself.
		img, err := r.buildImage(ctx)
		if err != nil {
			return err
		}
		spec.Image = img.Ref
	}
	r.setPhase(PhaseStart)
	c, err := cluster.Start(ctx, spec)
	defer func() {
		r.setPhase(PhaseStop)
		stopNodes(ctx, c)
		r.setPhase(PhaseTeardown)
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
		defer cancel()
		if terr := c.Teardown(tctx); terr != nil {
			err = errors.Join(err, fmt.Errorf("tear down cluster: %w", terr))
		}
	}()
	if c != nil {
		r.meta.Image = c.Image.Ref
		if len(spec.Engines) > 0 {
			r.meta.Engines = c.Engines()
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("start cluster: %w", ctx.Err())
		}
		return envError("start cluster", err)
	}
	r.setPhase(PhaseWaitPrimary)
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	if _, err := c.WaitPrimary(wctx); err != nil && !errors.Is(err, cluster.ErrNoFixedPrimary) {
		if ctx.Err() != nil {
			return fmt.Errorf("wait for primary: %w", ctx.Err())
		}
		return envError("wait for a primary", err)
	}
	if r.agent != nil {
		for _, n := range c.AllNodes() {
			if err := r.agent.client(n).WaitReady(wctx); err != nil {
				return envError("wait for the node agent of "+n.Name(), err)
			}
		}
	}
	// A primary may take writes before the replication the scenario set is
	// in force (see cluster.Steadier); the load starts once it is. A
	// standby's catch-up can take longer than the election on a busy
	// machine, so this wait has its own bound, and it stays in the "wait for
	// primary" phase: the cluster is not yet the one the scenario describes.
	sctx, cancelSteady := context.WithTimeout(ctx, 2*time.Minute)
	defer cancelSteady()
	if err := c.WaitSteady(sctx); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("wait for replication: %w", ctx.Err())
		}
		return envError("wait for replication", err)
	}
	return r.drill(ctx, c)
}

// buildImage finds or builds the system's image, updating the progress
// line every few seconds while a build runs: a Debian base and a package
// layer can take a minute or more.
func (r *run) buildImage(ctx context.Context) (image.Image, error) {
	began := time.Now()
	done := make(chan struct{})
	defer close(done)
	go func() {
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				r.setPhaseDetail(PhaseBuild, fmt.Sprintf("%s image (%s)", r.sys.Name(), time.Since(began).Round(time.Second)))
			}
		}
	}()
	spec, err := r.sys.Image(ctx)
	if err == nil {
		var img image.Image
		img, err = image.Ensure(ctx, spec)
		if err == nil {
			if img.Built {
				slog.Info("built image", "image", img.Ref, "took", img.Took.Round(time.Millisecond))
			}
			return img, nil
		}
	}
	if ctx.Err() != nil {
		return image.Image{}, fmt.Errorf("build %s image: %w", r.sys.Name(), ctx.Err())
	}
	return image.Image{}, envError("build "+r.sys.Name()+" image", err)
}

// stopGrace is how long a node gets to stop after SIGTERM at the end of a
// run before it is killed.
const stopGrace = 5 * time.Second

// stopNodes stops every node with SIGTERM, all at once, before teardown
// removes them. The node agent then stops its child and unmounts its FUSE
// layer itself; a forced removal would kill the FUSE server under a process
// still using the mount, which the kernel takes seconds to untangle.
func stopNodes(ctx context.Context, c *cluster.Cluster) {
	if c == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*stopGrace)
	defer cancel()
	var wg sync.WaitGroup
	for _, n := range c.AllNodes() {
		wg.Go(func() {
			if err := n.Stop(ctx, stopGrace); err != nil {
				slog.Debug("stop node", "node", n.Name(), "err", err)
			}
		})
	}
	wg.Wait()
}

// clusterSpec maps the scenario onto the Docker backend.
func (r *run) clusterSpec() (cluster.Spec, error) {
	spec := cluster.Spec{
		RunID:     r.meta.RunID,
		System:    r.sys,
		Nodes:     r.s.Cluster.Nodes,
		Options:   r.s.Cluster.Options,
		Image:     r.s.Cluster.Image,
		LogDir:    r.dir.Nodes(),
		Engines:   r.s.Cluster.Engines,
		Placement: r.s.Cluster.Placement.Map,
	}
	if r.agent != nil {
		spec.Customize = r.agent.customize
	}
	return spec, nil
}

// setupAgent decides whether the nodes run the node agent: always when
// the scenario has agent faults (and it is an error if it cannot), and
// otherwise whenever an agent binary is at hand, so that every run exercises
// the same node set-up.
func (r *run) setupAgent() error {
	kinds := r.s.AgentKinds()
	if r.opt.AgentBinary == "" && len(kinds) == 0 {
		return nil
	}
	a, err := newAgentSetup(r.opt.AgentBinary, hasDiskFaults(r.s), hasPreloads(r.s))
	switch {
	case err == nil:
		r.agent = a
	case len(kinds) > 0:
		return fmt.Errorf("prepare the node agent for %v faults: %w", kinds, err)
	default:
		slog.Warn("nodes run without the node agent", "err", err)
	}
	return nil
}

// hasPreloads reports whether the scenario injects faults that preload a
// library into the node's process (clock's libfaketime), which the node's
// agent must then prepare.
func hasPreloads(s *scenarios.Scenario) bool {
	for _, k := range s.AgentKinds() {
		if d, _ := k.Info(); d.Preloads != "" {
			return true
		}
	}
	return false
}

// hasDiskFaults reports whether the scenario injects disk faults, which need
// the FUSE layer (and the privileges it takes) in every node.
func hasDiskFaults(s *scenarios.Scenario) bool {
	for _, k := range s.AgentKinds() {
		if k.NeedsDisk() {
			return true
		}
	}
	return false
}

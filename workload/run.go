package workload

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hadrill/hadrill/history"
)

// Config is the load phase of a run. Zero fields take the defaults noted.
type Config struct {
	// Clients is the number of concurrent logical clients (default 8).
	Clients int
	// Rate is the target total rate in operations per second across all
	// clients; 0 means as fast as the clients go.
	Rate float64
	// Duration bounds the load phase; 0 means until ctx is done.
	Duration time.Duration
	// Keys is the number of register keys k0..k{Keys-1} (default 16).
	Keys int
	// Mix is the operation mix (default DefaultMix).
	Mix Mix
	// Seed fixes each client's sequence of operation kinds and keys.
	Seed uint64
	// OpTimeout bounds one operation, all its attempts included (default
	// 1s). A write that runs out of it is indeterminate (info).
	OpTimeout time.Duration
}

// The load's defaults, declared once: the scenario schema fills a scenario's
// workload from them.
const (
	DefaultClients   = 8
	DefaultKeys      = 16
	DefaultRate      = 200 // operations per second, over all clients
	DefaultOpTimeout = time.Second
)

func (c Config) withDefaults() (Config, error) {
	if c.Clients == 0 {
		c.Clients = DefaultClients
	}
	if c.Keys == 0 {
		c.Keys = DefaultKeys
	}
	if c.Mix == (Mix{}) {
		c.Mix = DefaultMix
	}
	if c.OpTimeout == 0 {
		c.OpTimeout = DefaultOpTimeout
	}
	switch {
	case c.Clients < 0 || c.Keys < 0:
		return c, fmt.Errorf("config: negative clients %d or keys %d", c.Clients, c.Keys)
	case c.Rate < 0 || c.Duration < 0 || c.OpTimeout < 0:
		return c, fmt.Errorf("config: negative rate, duration or op timeout")
	}
	return c, c.Mix.validate()
}

// Runner drives the register workload against a KV and records it. Its
// Stats can be read while Run is going, for the progress line. After Run it
// knows the acknowledged ledger keys, which FinalRead reads back.
type Runner struct {
	kv    KV
	rec   *Recorder
	stats counters
	ran   atomic.Bool

	// Set by Run once its clients have stopped, read by FinalRead after.
	acked        []string // acknowledged ledger keys
	finalProcess int      // a process id no client used
}

// NewRunner returns a runner that sends operations through kv and records
// them with rec.
func NewRunner(kv KV, rec *Recorder) *Runner {
	r := &Runner{kv: kv, rec: rec}
	r.stats.start = rec.start
	return r
}

// Stats is a snapshot of the live counters. It is safe to call at any time.
func (r *Runner) Stats() Stats { return r.stats.snapshot() }

// AckedLedger returns the acknowledged ledger keys, sorted. Call it after Run.
func (r *Runner) AckedLedger() []string { return slices.Clone(r.acked) }

// Run is the load phase: cfg.Clients goroutines, each one logical client
// doing one operation at a time, paced to share cfg.Rate, until cfg.Duration
// passes or ctx is done. Operations in flight when the duration ends run to
// completion (or their own timeout); cancelling ctx cuts them short, and such
// writes are indeterminate. The error is a config error or the recorder's
// first error (the run stops then: a history with holes cannot be checked).
// A Runner runs once.
func (r *Runner) Run(ctx context.Context, cfg Config) (Stats, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return Stats{}, fmt.Errorf("run workload: %w", err)
	}
	if !r.ran.CompareAndSwap(false, true) {
		return Stats{}, errors.New("run workload: runner already ran")
	}
	loopCtx, stop := context.WithCancel(ctx)
	defer stop()
	if cfg.Duration > 0 {
		loopCtx, stop = context.WithTimeout(loopCtx, cfg.Duration)
		defer stop()
	}
	clients := r.newClients(cfg)
	r.stats.processes.Add(int64(len(clients)))
	began := time.Now()
	errs := make([]error, len(clients))
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Go(func() {
			if errs[i] = r.runClient(ctx, loopCtx, c, cfg.OpTimeout); errs[i] != nil {
				stop()
			}
		})
	}
	wg.Wait()
	for _, c := range clients {
		r.acked = append(r.acked, c.acked...)
		r.finalProcess = max(r.finalProcess, c.process+1)
	}
	slices.Sort(r.acked)
	s := r.stats.snapshot()
	s.Rate = float64(s.Total) / time.Since(began).Seconds()
	return s, errors.Join(errs...)
}

// client is one logical client: a sequential process that changes process id
// after every indeterminate result, so each process stays sequential.
type client struct {
	process int // current process id: index + clients*k
	stride  int // number of clients, the step between this client's ids
	gen     *generator
	route   router
	pace    pacer
	acked   []string
}

func (r *Runner) newClients(cfg Config) []*client {
	keys := registerKeys(cfg.Keys)
	var interval time.Duration
	if cfg.Rate > 0 {
		interval = time.Duration(float64(cfg.Clients) / cfg.Rate * float64(time.Second))
	}
	now := time.Now()
	nodes := r.kv.Nodes()
	cs := make([]*client, cfg.Clients)
	for i := range cs {
		rt := router{kv: r.kv}
		if len(nodes) > 0 {
			rt.home = nodes[i%len(nodes)]
		}
		cs[i] = &client{
			process: i,
			stride:  cfg.Clients,
			gen:     newGenerator(cfg.Seed, i, cfg.Mix, keys),
			route:   rt,
			// Spread the clients' slots over one interval.
			pace: pacer{interval: interval, next: now.Add(interval * time.Duration(i) / time.Duration(cfg.Clients))},
		}
	}
	return cs
}

// runClient is one client's loop. loopCtx ends the loop; ctx bounds the
// operations themselves.
func (r *Runner) runClient(ctx, loopCtx context.Context, c *client, timeout time.Duration) error {
	defer c.pace.stop()
	for c.pace.wait(loopCtx) == nil {
		s := c.gen.next(c.process)
		op := history.Op{Process: c.process, F: s.f, Key: s.key, Value: s.value, From: s.from}
		if err := r.rec.Invoke(&op); err != nil {
			return err
		}
		node, read, err := r.exec(ctx, &c.route, s, timeout)
		op.Type, op.Node = Classify(err, s.f != history.Read), node
		switch {
		case errors.Is(err, ErrPrecondition):
			op.Error = history.Precondition
		case err != nil:
			op.Error = err.Error()
		case s.f == history.Read:
			op.Value = read
		}
		if err := r.rec.Complete(&op); err != nil {
			return err
		}
		r.account(c, s, op.Type, node, read)
	}
	return nil
}

// account updates the client's state and the live counters after a
// completed operation.
func (r *Runner) account(c *client, s spec, t history.Type, node, read string) {
	write := s.f != history.Read
	var answered *string
	if t == history.OK && write {
		nodes := r.kv.Nodes()
		if i := indexOf(nodes, node); i >= 0 {
			answered = &nodes[i]
		}
	}
	r.stats.count(t, write, answered)
	c.gen.observe(s, t, read)
	switch {
	case t == history.OK && s.k < 0:
		c.acked = append(c.acked, s.key)
		r.stats.acked.Add(1)
	case t == history.Info:
		c.process += c.stride
		r.stats.processes.Add(1)
	}
}

// exec performs one operation, with its attempts routed by rt, within the op
// timeout. read is the observed value of a read ("" when absent).
func (r *Runner) exec(ctx context.Context, rt *router, s spec, timeout time.Duration) (node, read string, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	node, err = rt.do(ctx, s.f == history.Read, func(n string) error {
		switch s.f {
		case history.Read:
			v, _, err := r.kv.Get(ctx, n, s.key)
			read = v
			return err
		case history.CAS:
			return r.kv.CAS(ctx, n, s.key, s.from, s.value)
		default:
			return r.kv.Put(ctx, n, s.key, s.value)
		}
	})
	return node, read, err
}

// pacer spaces one client's operations interval apart. It never bursts to
// catch up after a slow operation, so a recovering cluster sees the target
// rate, and op k of a client starts no earlier than k intervals after its
// first: over any run of length D a client does at most D/interval+1 ops.
type pacer struct {
	interval time.Duration // 0: unpaced
	next     time.Time
	timer    *time.Timer
}

// wait blocks until the next slot, or returns ctx's error.
func (p *pacer) wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil || p.interval == 0 {
		return err
	}
	now := time.Now()
	if p.next.Before(now) {
		p.next = now
	}
	if d := p.next.Sub(now); d > 0 {
		if p.timer == nil {
			p.timer = time.NewTimer(d)
		} else {
			p.timer.Reset(d)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.timer.C:
		}
	}
	p.next = p.next.Add(p.interval)
	return nil
}

func (p *pacer) stop() {
	if p.timer != nil {
		p.timer.Stop()
	}
}

// Package agent is the node agent (`hadrill agent`): a static binary that
// runs as the entrypoint of every node container, supervises the node's
// original process, and applies and heals faults from inside the node's
// namespaces when the harness asks over a small authenticated HTTP API.
//
// Working from inside the node means faults need nothing from the host: the
// same agent works with a local engine, a remote Docker daemon, or Docker
// Desktop, and with any image, because it uses no tools of the image: packet
// faults go through netlink (nftables, tc, NFQUEUE), disk faults through an
// in-process FUSE file system, process faults through signals.
//
// Client is the harness side of the same API.
package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hadrill/hadrill/faults/kind"
)

// tokenEnv is the environment variable the token is read from, so that it
// does not show in the container's command line.
const tokenEnv = "HADRILL_AGENT_TOKEN"

// DefaultPort is the control API port inside the node.
const DefaultPort = 7070

// Errors the agent's operations wrap; the API maps them to HTTP statuses and
// Client maps the statuses back, so callers can use errors.Is on both sides.
var (
	// ErrInvalid: the request or its parameters are wrong (400).
	ErrInvalid = errors.New("invalid fault")
	// ErrNotFound: no active fault has that id (404).
	ErrNotFound = errors.New("no such fault")
	// ErrConflict: the fault clashes with one already active (409).
	ErrConflict = errors.New("conflict")
	// ErrUnavailable: this node cannot apply the fault kind (501).
	ErrUnavailable = errors.New("unavailable on this node")
	// ErrUnauthorized: the bearer token is missing or wrong (401).
	ErrUnauthorized = errors.New("unauthorized")
)

func badParams(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// ExitError is returned by Run when the supervised process ended on its
// own, by an error code or a signal; Code is what the agent should exit with.
type ExitError struct {
	Code int
}

// Error says which code the process exited with.
func (e *ExitError) Error() string { return "process exited with code " + strconv.Itoa(e.Code) }

// Config configures an agent. Zero values get defaults in New.
type Config struct {
	// Bind is the address the API listens on; default 0.0.0.0.
	Bind string
	// Port is the API port. It is exempt from every network fault.
	Port int
	// Token authenticates the harness; required.
	Token string
	// Command is the process to supervise (argv); empty runs no process.
	Command []string
	// Sidecars are more commands supervised beside Command, in its process
	// group (see sidecar.go). They need a Command.
	Sidecars [][]string
	// FuseData is the data folder to mount through FUSE for disk faults.
	FuseData string
	// FuseBacking, if set, is served at FuseData instead of FuseData's own
	// contents.
	FuseBacking string
	// User, if set, is the user the process runs as (PostgreSQL refuses
	// root); UserData is a folder handed to that user first (the data folder).
	User     string
	UserData string
	// JournalMiB bounds the memory of the power-loss journal; 0 means 64.
	JournalMiB int
	// Faketime is the libfaketime library the clock fault preloads into
	// the process; empty looks in the usual Debian places.
	Faketime string
	// StopTimeout bounds how long a stop waits for the process after
	// forwarding the signal, when the stop comes from a cancelled context.
	StopTimeout time.Duration
	// Logger receives the agent's logs; default slog.Default().
	Logger *slog.Logger
}

// fault is one applied effect. heal removes it and returns the final
// measurements; measure reads them live.
type fault interface {
	mechanism() string
	measure() (Measured, error)
	heal() (Measured, error)
}

// interfaceLister is implemented by faults installed on network interfaces.
type interfaceLister interface {
	interfaces() []string
}

// applier applies one fault and returns once the effect is in place.
type applier func(*Agent, Fault) (fault, error)

// appliers maps each agent-level kind to its applier. Each implementation
// file registers its kinds (register); TestAppliersMatchDeclarations fails
// when a declared agent kind has no applier or an applier no declaration.
var appliers = map[Kind]applier{}

// register makes apply the applier of the declared kinds ks.
func register(apply applier, ks ...Kind) {
	for _, k := range ks {
		if _, dup := appliers[k]; dup {
			panic("agent: two appliers for " + string(k))
		}
		appliers[k] = apply
	}
}

// Agent holds the node's active faults and the machinery behind them.
type Agent struct {
	cfg     Config
	log     *slog.Logger
	started time.Time

	nft     *nft
	sup     *supervisor
	disk    *diskFS
	diskErr error

	faketime *faketimeSetup

	queueSeq atomic.Uint32
	burners  atomic.Int64
	mapped   atomic.Int64

	probeOnce sync.Once
	qdiscs    map[string]bool
	nfq, nfOK bool

	mu     sync.Mutex
	active map[string]*activeFault
	order  []string
}

type activeFault struct {
	spec    Fault
	applied Applied
	impl    fault
}

// New validates the configuration and builds an agent; nothing is changed
// on the node until Run.
func New(cfg Config) (*Agent, error) {
	if cfg.Token == "" {
		return nil, fmt.Errorf("%w: a token is required (--token or %s)", ErrInvalid, tokenEnv)
	}
	if cfg.Port == 0 {
		cfg.Port = DefaultPort
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("%w: port %d", ErrInvalid, cfg.Port)
	}
	if cfg.Bind == "" {
		cfg.Bind = "0.0.0.0"
	}
	if cfg.StopTimeout == 0 {
		cfg.StopTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	a := &Agent{cfg: cfg, log: cfg.Logger, nft: &nft{controlPort: uint16(cfg.Port)},
		active: map[string]*activeFault{}}
	if len(cfg.Command) > 0 {
		a.sup = newSupervisor(cfg.Command, a.log)
		a.sup.setSidecars(cfg.Sidecars)
	} else if len(cfg.Sidecars) > 0 {
		return nil, fmt.Errorf("%w: sidecars need a main command to run beside", ErrInvalid)
	}
	if cfg.Faketime != "" {
		var env []string
		a.faketime, env = setupFaketime(cfg.Faketime, cfg.Command)
		if a.faketime.err != nil {
			a.log.Warn("clock faults unavailable", "err", a.faketime.err)
		}
		if a.sup != nil {
			a.sup.env = append(a.sup.env, env...)
		}
	}
	return a, nil
}

// Run builds an agent from cfg and runs it; see (*Agent).Run.
func Run(ctx context.Context, cfg Config) error {
	a, err := New(cfg)
	if err != nil {
		return err
	}
	return a.Run(ctx)
}

// Run prepares the node (clears leftovers of an earlier agent, mounts the
// data folder), serves the API, starts the process and waits. It returns
// when the process exits (an *ExitError unless it exited 0), or on SIGTERM,
// SIGINT or ctx cancellation, which are forwarded to the process first.
// Before returning it heals every fault and unmounts the data folder.
func (a *Agent) Run(ctx context.Context) error {
	a.started = time.Now()
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	defer signal.Stop(sigs)
	a.resetLeftovers()
	if err := a.prepareUser(); err != nil {
		return err
	}
	if a.cfg.FuseData != "" {
		if a.disk, a.diskErr = mountDisk(a.cfg.FuseData, a.cfg.FuseBacking, int64(a.cfg.JournalMiB)<<20); a.diskErr != nil {
			a.log.Error("disk faults unavailable", "err", a.diskErr)
		}
	}
	defer a.unmount()
	addr := net.JoinHostPort(a.cfg.Bind, strconv.Itoa(a.cfg.Port))
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	srv := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			a.log.Error("serve control api", "err", err)
		}
	}()
	a.log.Info("agent listening", "addr", ln.Addr().String())
	go a.qdiscKinds() // probe now, so the first delay does not pay for it
	err = a.supervise(ctx, sigs)
	a.shutdown(srv)
	return err
}

// supervise starts the process and waits for its end or for a stop.
func (a *Agent) supervise(ctx context.Context, sigs <-chan os.Signal) error {
	if a.sup == nil {
		select {
		case <-sigs:
		case <-ctx.Done():
		}
		return nil
	}
	stopReaper := make(chan struct{})
	defer close(stopReaper)
	go a.sup.reapLoop(stopReaper)
	if _, err := a.sup.start(); err != nil {
		return err
	}
	var stop <-chan time.Time
	cancelled := ctx.Done()
	for {
		select {
		case code := <-a.sup.exit:
			a.sup.endSidecars(a.cfg.StopTimeout)
			return exitResult(code)
		case sig := <-sigs:
			if code, done := a.stopProcess(sig.(syscall.Signal)); done {
				return exitResult(code)
			}
		case <-cancelled:
			cancelled = nil // handled once; now wait for the exit
			if code, done := a.stopProcess(syscall.SIGTERM); done {
				return exitResult(code)
			}
			stop = time.After(a.cfg.StopTimeout)
		case <-stop:
			a.log.Warn("process ignored SIGTERM; killing it", "timeout", a.cfg.StopTimeout)
			_ = signalGroup(a.sup.current(), syscall.SIGKILL)
		}
	}
}

// stopProcess prepares a stop: no more restarts, a stopped process is
// continued so it can handle the signal, then the signal is forwarded. With
// no process running (a crash waiting for its restart) the agent is done.
func (a *Agent) stopProcess(sig syscall.Signal) (int, bool) {
	a.log.Info("stopping", "signal", sig.String())
	a.sup.stopping()
	a.healKinds(kind.Sigstop, kind.DiskStall)
	if !a.sup.forward(sig) {
		return 128 + int(sig), true
	}
	return 0, false
}

func exitResult(code int) error {
	if code == 0 {
		return nil
	}
	return &ExitError{Code: code}
}

// shutdown heals everything, then stops the API. The process has ended
// (or is not restarted any more), so heal-all does not expect it running.
func (a *Agent) shutdown(srv *http.Server) {
	if a.sup != nil {
		a.sup.stopping()
	}
	res := a.HealAll()
	if !res.Verified.OK || len(res.Errors) > 0 {
		a.log.Error("heal at exit incomplete", "errors", res.Errors, "problems", res.Verified.Problems)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = srv.Shutdown(ctx)
}

func (a *Agent) unmount() {
	if a.disk == nil {
		return
	}
	if err := a.disk.unmount(); err != nil {
		a.log.Error("unmount data folder", "err", err)
	}
}

// resetLeftovers removes what an earlier agent in the same namespace may
// have left (it was SIGKILLed, say), so a restarted node starts clean.
func (a *Agent) resetLeftovers() {
	if err := a.nft.deleteTable(); err != nil {
		a.log.Warn("clear nftables leftovers", "err", err)
	}
	if err := removeAllShaping(); err != nil {
		a.log.Warn("clear qdisc leftovers", "err", err)
	}
}

// Apply applies a fault and returns once it is in effect.
func (a *Agent) Apply(f Fault) (Applied, error) {
	received := time.Now()
	apply, ok := appliers[f.Kind]
	if !ok {
		return Applied{}, badParams("unknown kind %q", f.Kind)
	}
	if f.ID == "" {
		return Applied{}, badParams("id is required")
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, dup := a.active[f.ID]; dup {
		return Applied{}, fmt.Errorf("%w: fault %q is already active", ErrConflict, f.ID)
	}
	impl, err := apply(a, f)
	if err != nil {
		if errors.Is(err, os.ErrPermission) && !errors.Is(err, ErrUnavailable) {
			err = fmt.Errorf("%w: %w (run the node with --cap-add NET_ADMIN)", ErrUnavailable, err)
		}
		return Applied{}, fmt.Errorf("apply %s: %w", f.Kind, err)
	}
	res := Applied{ID: f.ID, Kind: f.Kind, ReceivedNS: received.UnixNano(),
		EffectiveNS: time.Now().UnixNano(), Mechanism: impl.mechanism()}
	if il, ok := impl.(interfaceLister); ok {
		res.Interfaces = il.interfaces()
	}
	a.active[f.ID] = &activeFault{spec: f, applied: res, impl: impl}
	a.order = append(a.order, f.ID)
	a.log.Info("fault applied", "id", f.ID, "kind", f.Kind, "mechanism", res.Mechanism,
		"latency", time.Duration(res.EffectiveNS-res.ReceivedNS))
	return res, nil
}

// Heal removes one fault. The fault is forgotten even when healing reports
// an error; heal-all's sweep and verification catch what is left.
func (a *Agent) Heal(id string) (Healed, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.healLocked(id)
}

func (a *Agent) healLocked(id string) (Healed, error) {
	af, ok := a.active[id]
	if !ok {
		return Healed{}, fmt.Errorf("%w: %q", ErrNotFound, id)
	}
	delete(a.active, id)
	a.order = slices.DeleteFunc(a.order, func(s string) bool { return s == id })
	m, err := af.impl.heal()
	res := Healed{ID: id, Kind: af.spec.Kind, HealedNS: time.Now().UnixNano(), Measured: m}
	if err != nil {
		return res, fmt.Errorf("heal %s %q: %w", af.spec.Kind, id, err)
	}
	a.log.Info("fault healed", "id", id, "kind", af.spec.Kind)
	return res, nil
}

// healKinds heals the active faults of the given kinds, newest first.
func (a *Agent) healKinds(kinds ...Kind) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, id := range slices.Backward(slices.Clone(a.order)) {
		if slices.Contains(kinds, a.active[id].spec.Kind) {
			if _, err := a.healLocked(id); err != nil {
				a.log.Error("heal", "err", err)
			}
		}
	}
}

// HealAll heals every fault (newest first), then sweeps the node clean (the
// agent's table and qdiscs, disk hooks) and verifies the result.
func (a *Agent) HealAll() HealAllResult {
	a.mu.Lock()
	defer a.mu.Unlock()
	res := HealAllResult{Healed: []Healed{}}
	for _, id := range slices.Backward(slices.Clone(a.order)) {
		h, err := a.healLocked(id)
		res.Healed = append(res.Healed, h)
		if err != nil {
			res.Errors = append(res.Errors, err.Error())
		}
	}
	if err := a.nft.deleteTable(); err != nil {
		res.Errors = append(res.Errors, err.Error())
	}
	if err := removeAllShaping(); err != nil {
		res.Errors = append(res.Errors, err.Error())
	}
	if a.disk != nil {
		a.disk.releaseAll()
	}
	res.HealedNS = time.Now().UnixNano()
	res.Verified = a.verify()
	return res
}

// Status lists the active faults with live measurements.
func (a *Agent) Status() Status {
	a.mu.Lock()
	defer a.mu.Unlock()
	st := Status{NowNS: time.Now().UnixNano(), Faults: []ActiveFault{}}
	for _, id := range a.order {
		af := a.active[id]
		m, err := af.impl.measure()
		if err != nil {
			a.log.Warn("measure fault", "id", id, "err", err)
		}
		st.Faults = append(st.Faults, ActiveFault{Fault: af.spec, Applied: af.applied, Measured: m})
	}
	return st
}

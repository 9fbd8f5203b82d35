package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/swarm"
	"github.com/moby/moby/client"

	"github.com/hadrill/hadrill/cluster/label"
)

// gwBridge is the network an engine creates when it enters a Swarm, and
// keeps after it leaves: hadrill removes it when the engine did not have it
// before.
const gwBridge = "docker_gwbridge"

// swarmPort is the Swarm's management port.
const swarmPort = "2377"

// Swarm is the Swarm that the clusters of one process share on one set of
// engines. The first cluster to need it creates it (or finds it);
// the last to release it leaves everything as it was found: a Swarm hadrill
// created is dissolved, engines hadrill joined leave, one it found is kept.
// Two hadrill processes that create a Swarm on the same engines at the same
// time are not coordinated: run parallel drills in one process
// (hadrill run --parallel).
type Swarm struct {
	key  string
	refs int

	manager string   // host of the manager engine
	created bool     // hadrill ran swarm init on the manager
	joined  []string // hosts of the engines hadrill joined, in order
	nodeIDs map[string]string
	hadGW   map[string]bool // host -> docker_gwbridge existed before
}

var swarms = struct {
	sync.Mutex
	m map[string]*Swarm
}{m: map[string]*Swarm{}}

// swarmKey names a set of engines regardless of order.
func swarmKey(engines []*Engine) string {
	hosts := make([]string, len(engines))
	for i, e := range engines {
		hosts[i] = e.Host
	}
	slices.Sort(hosts)
	return strings.Join(hosts, ",")
}

// AcquireSwarm makes sure every engine is in one Swarm, with the first
// engine as a manager, and counts the caller as a user of it. The caller
// gives it back with Release.
func AcquireSwarm(ctx context.Context, engines []*Engine) (*Swarm, error) {
	swarms.Lock()
	defer swarms.Unlock()
	key := swarmKey(engines)
	if s, ok := swarms.m[key]; ok {
		s.refs++
		return s, nil
	}
	s := &Swarm{key: key, manager: engines[0].Host, nodeIDs: map[string]string{}, hadGW: map[string]bool{}}
	if err := s.join(ctx, engines); err != nil {
		// Undo the part that was done, so a failed start leaves nothing.
		if lerr := s.leave(context.WithoutCancel(ctx), engines); lerr != nil {
			err = errors.Join(err, lerr)
		}
		return nil, err
	}
	s.refs = 1
	swarms.m[key] = s
	return s, nil
}

// Release drops the caller's use; the last user restores the engines'
// Swarm state. It is safe on nil (no Swarm was needed).
func (s *Swarm) Release(ctx context.Context, engines []*Engine) error {
	if s == nil {
		return nil
	}
	swarms.Lock()
	defer swarms.Unlock()
	s.refs--
	if s.refs > 0 {
		return nil
	}
	delete(swarms.m, s.key)
	return s.leave(ctx, engines)
}

// Manager is the endpoint of the engine that manages the Swarm, where Swarm
// networks are created and removed: the first engine of the user that
// created (or found) it, which may differ from another user's first engine.
func (s *Swarm) Manager() string { return s.manager }

// join initialises the Swarm on the first engine if it has none and joins
// the others as workers.
func (s *Swarm) join(ctx context.Context, engines []*Engine) error {
	mgr := engines[0]
	info, err := mgr.cli.Info(ctx, client.InfoOptions{})
	if err != nil {
		return fmt.Errorf("inspect engine %s: %w", mgr.Name, err)
	}
	sw := info.Info.Swarm
	switch sw.LocalNodeState {
	case swarm.LocalNodeStateActive:
		if !sw.ControlAvailable {
			return fmt.Errorf("join engines: %s is a Swarm worker; list a manager first in cluster.engines", mgr.Name)
		}
		slog.Info("swarm found", "manager", mgr.Name)
	case swarm.LocalNodeStateInactive:
		if err := s.initSwarm(ctx, mgr, engines); err != nil {
			return err
		}
	default:
		return fmt.Errorf("join engines: %s is in Swarm state %q", mgr.Name, sw.LocalNodeState)
	}
	insp, err := mgr.cli.SwarmInspect(ctx, client.SwarmInspectOptions{})
	if err != nil {
		return fmt.Errorf("inspect swarm on %s: %w", mgr.Name, err)
	}
	mgrAddr, err := swarmAddr(mgr, engines)
	if err != nil {
		return err
	}
	for _, e := range engines[1:] {
		if err := s.joinWorker(ctx, mgr, e, engines, mgrAddr.String(), insp.Swarm.JoinTokens.Worker); err != nil {
			return err
		}
	}
	return nil
}

// initSwarm creates a Swarm with mgr as its only manager, listening only on
// the address the other engines reach it at.
func (s *Swarm) initSwarm(ctx context.Context, mgr *Engine, engines []*Engine) error {
	addr, err := swarmAddr(mgr, engines)
	if err != nil {
		return err
	}
	if s.hadGW[mgr.Host], err = hasNetwork(ctx, mgr.cli, gwBridge); err != nil {
		return err
	}
	spec := swarm.Spec{}
	spec.Annotations.Labels = map[string]string{label.Swarm: "created"}
	_, err = mgr.cli.SwarmInit(ctx, client.SwarmInitOptions{
		Spec:          spec,
		ListenAddr:    net.JoinHostPort(addr.String(), swarmPort),
		AdvertiseAddr: net.JoinHostPort(addr.String(), swarmPort),
		DataPathAddr:  addr.String(),
	})
	if err != nil {
		return fmt.Errorf("init swarm on %s: %w", mgr.Name, err)
	}
	s.created = true
	slog.Info("swarm created", "manager", mgr.Name, "addr", addr)
	return nil
}

// joinWorker joins e to the manager's Swarm, unless it is a member already.
func (s *Swarm) joinWorker(ctx context.Context, mgr, e *Engine, engines []*Engine, mgrAddr, token string) error {
	info, err := e.cli.Info(ctx, client.InfoOptions{})
	if err != nil {
		return fmt.Errorf("inspect engine %s: %w", e.Name, err)
	}
	sw := info.Info.Swarm
	if sw.LocalNodeState == swarm.LocalNodeStateActive {
		if _, err := mgr.cli.NodeInspect(ctx, sw.NodeID, client.NodeInspectOptions{}); err != nil {
			return fmt.Errorf("join engines: %s is in another Swarm than %s: %w", e.Name, mgr.Name, err)
		}
		return nil
	}
	if sw.LocalNodeState != swarm.LocalNodeStateInactive {
		return fmt.Errorf("join engines: %s is in Swarm state %q", e.Name, sw.LocalNodeState)
	}
	addr, err := swarmAddr(e, engines)
	if err != nil {
		return err
	}
	if s.hadGW[e.Host], err = hasNetwork(ctx, e.cli, gwBridge); err != nil {
		return err
	}
	s.joined = append(s.joined, e.Host)
	_, err = e.cli.SwarmJoin(ctx, client.SwarmJoinOptions{
		ListenAddr:    net.JoinHostPort(addr.String(), swarmPort),
		AdvertiseAddr: net.JoinHostPort(addr.String(), swarmPort),
		DataPathAddr:  addr.String(),
		RemoteAddrs:   []string{net.JoinHostPort(mgrAddr, swarmPort)},
		JoinToken:     token,
	})
	if err != nil {
		return fmt.Errorf("join %s to the swarm of %s: %w", e.Name, mgr.Name, err)
	}
	if info, err = e.cli.Info(ctx, client.InfoOptions{}); err == nil {
		s.nodeIDs[e.Host] = info.Info.Swarm.NodeID
	}
	slog.Info("engine joined swarm", "engine", e.Name, "manager", mgr.Name)
	return nil
}

// leave undoes join: the engines hadrill joined leave (and are removed from
// a Swarm it found), a Swarm it created is dissolved, and every
// docker_gwbridge that was not there before is removed.
func (s *Swarm) leave(ctx context.Context, engines []*Engine) error {
	byHost := map[string]*Engine{}
	for _, e := range engines {
		byHost[e.Host] = e
	}
	mgr := byHost[s.manager]
	var errs []error
	for _, h := range slices.Backward(s.joined) {
		e := byHost[h]
		if _, err := e.cli.SwarmLeave(ctx, client.SwarmLeaveOptions{Force: true}); err != nil && !isNotInSwarm(err) {
			errs = append(errs, fmt.Errorf("leave swarm on %s: %w", e.Name, err))
			continue
		}
		if id := s.nodeIDs[h]; id != "" && !s.created {
			if _, err := mgr.cli.NodeRemove(ctx, id, client.NodeRemoveOptions{Force: true}); err != nil && !errdefs.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("remove node %s from swarm: %w", e.Name, err))
			}
		}
		errs = append(errs, s.dropGW(ctx, e))
	}
	if s.created {
		if _, err := mgr.cli.SwarmLeave(ctx, client.SwarmLeaveOptions{Force: true}); err != nil && !isNotInSwarm(err) {
			errs = append(errs, fmt.Errorf("dissolve swarm on %s: %w", mgr.Name, err))
		} else {
			errs = append(errs, s.dropGW(ctx, mgr))
		}
	}
	return errors.Join(errs...)
}

// dropGW removes docker_gwbridge from an engine that did not have it.
func (s *Swarm) dropGW(ctx context.Context, e *Engine) error {
	if s.hadGW[e.Host] {
		return nil
	}
	return RemoveNetwork(ctx, e.cli, gwBridge)
}

// isNotInSwarm tells whether a leave failed only because the engine had
// already left.
func isNotInSwarm(err error) bool {
	return strings.Contains(err.Error(), "not part of a swarm")
}

// hasNetwork tells whether an engine has a network of that name.
func hasNetwork(ctx context.Context, cli client.APIClient, name string) (bool, error) {
	_, err := cli.NetworkInspect(ctx, name, client.NetworkInspectOptions{})
	switch {
	case err == nil:
		return true, nil
	case errdefs.IsNotFound(err):
		return false, nil
	default:
		return false, fmt.Errorf("inspect network %s: %w", name, err)
	}
}

// DissolveCreatedSwarms dissolves the Swarms labelled hadrill.swarm whose
// manager is among the engines, for the clean-up after a crashed run: the
// listed engines that are its workers leave, then its manager. It returns
// how many it dissolved.
func DissolveCreatedSwarms(ctx context.Context, engines []*Engine) (int, error) {
	n := 0
	var errs []error
	for _, mgr := range engines {
		insp, err := mgr.cli.SwarmInspect(ctx, client.SwarmInspectOptions{})
		if err != nil || insp.Swarm.Spec.Annotations.Labels[label.Swarm] == "" {
			continue // not a manager, or not a Swarm hadrill created
		}
		for _, e := range engines {
			if e == mgr {
				continue
			}
			info, err := e.cli.Info(ctx, client.InfoOptions{})
			if err != nil || info.Info.Swarm.NodeID == "" {
				continue
			}
			if _, err := mgr.cli.NodeInspect(ctx, info.Info.Swarm.NodeID, client.NodeInspectOptions{}); err != nil {
				continue // in another Swarm
			}
			if _, err := e.cli.SwarmLeave(ctx, client.SwarmLeaveOptions{Force: true}); err != nil {
				errs = append(errs, fmt.Errorf("leave swarm on %s: %w", e.Name, err))
			}
			RemoveNetwork(ctx, e.cli, gwBridge) // kept if containers still use it
		}
		if _, err := mgr.cli.SwarmLeave(ctx, client.SwarmLeaveOptions{Force: true}); err != nil {
			errs = append(errs, fmt.Errorf("dissolve swarm on %s: %w", mgr.Name, err))
			continue
		}
		RemoveNetwork(ctx, mgr.cli, gwBridge)
		n++
	}
	return n, errors.Join(errs...)
}

// Package etcd drills etcd 3.4, from Debian's etcd-server package: three (or
// any number of) members in one Raft group. The leader is the system's
// primary for fault targets and the report; every member takes reads and
// writes (followers forward proposals to the leader), so the client needs no
// routing.
//
// What to expect (Jepsen's analysis of etcd 3.4.3, 2020): key-value
// operations stay linearizable under kill, pause and partition, and no
// acknowledged write is lost. A new leader comes a little after the election
// timeout.
package etcd

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/cluster/image"
	"github.com/hadrill/hadrill/systems"
)

// System is etcd as a system under test.
type System struct{}

// clientPort and peerPort are etcd's own defaults.
const (
	clientPort = 2379
	peerPort   = 2380
)

// debEtcdServer pins Debian bookworm's etcd-server (3.4.23).
const debEtcdServer = "etcd-server=3.4.23-4+b4"

// Name returns "etcd".
func (System) Name() string { return "etcd" }

// Doc describes etcd for `hadrill list`.
func (System) Doc() string {
	return "etcd 3.4.23 from Debian's etcd-server: a Raft group; the leader is the primary"
}

// ClientDoc describes the client.
func (System) ClientDoc() string {
	return "go.etcd.io/etcd/client/v3, one connection per member: linearizable Get, Put, CAS as a Txn on the value, prefix Get for the final read"
}

// StaticBinary says why clock faults cannot reach etcd.
func (System) StaticBinary() string {
	return "etcd is a Go program: it reads the clock through the vDSO, not libc, so libfaketime cannot shift it"
}

// Options are etcd's timing flags under etcd's own names, in milliseconds,
// with etcd's defaults.
func (System) Options() []systems.Option {
	return []systems.Option{
		{Name: "election_timeout", Kind: systems.OptionInt, Default: "1000", Min: 10, Flag: "--election-timeout",
			Doc: "milliseconds a follower waits without a heartbeat before it starts an election (etcd's --election-timeout)"},
		{Name: "heartbeat_interval", Kind: systems.OptionInt, Default: "100", Min: 1, Flag: "--heartbeat-interval",
			Doc: "milliseconds between the leader's heartbeats (etcd's --heartbeat-interval)"},
	}
}

// CheckOptions applies etcd's own rule, so that a member refusing to start
// is a bad scenario rather than a broken environment: the election timeout
// must be at least five heartbeats, and at most 50 s.
func (s System) CheckOptions(opts map[string]string) (string, string) {
	var et, hb int
	fmt.Sscan(systems.Value(s.Options(), opts, "election_timeout"), &et)
	fmt.Sscan(systems.Value(s.Options(), opts, "heartbeat_interval"), &hb)
	switch {
	case et < 5*hb:
		return "election_timeout", fmt.Sprintf("must be at least 5 times heartbeat_interval (%d ms), as etcd requires", hb)
	case et > 50000:
		return "election_timeout", "must be at most 50000 ms, as etcd requires"
	}
	return "", ""
}

// Nodes: etcd's own guidance is at most 7 members (more slows every
// commit and adds nothing to fault tolerance that a drill could show).
func (System) Nodes(map[string]string) systems.NodeBounds {
	return systems.NodeBounds{Min: 1, Max: 7, Why: "etcd recommends at most 7 members"}
}

// ClientPort is etcd's client port.
func (System) ClientPort() int { return clientPort }

// Health is etcd's own /health, which says true only when the member sees a
// leader: a member is ready when it serves in a working cluster.
func (System) Health() cluster.HealthCheck {
	return cluster.HealthCheck{Probe: probeHealth, Timeout: time.Second}
}

// Image is Debian's etcd-server on the shared Debian base, with the data
// folder made in the image: the node agent mounts its disk-fault layer over
// the folder before etcd starts, so the folder must exist by then. etcd runs
// as root, so root owns it.
func (System) Image(ctx context.Context) (image.Spec, error) {
	return image.DebianRecipe{Repo: "hadrill/etcd", Packages: []string{debEtcdServer},
		Run: []string{"mkdir -p " + cluster.DataDir}}.Spec(ctx)
}

// Container runs one member. Members find each other by their names on the
// run's network; the data lives in a subfolder of the data folder, which
// etcd creates with the 0700 mode it insists on.
func (s System) Container(cfg cluster.NodeConfig) (cluster.ContainerSpec, error) {
	initial := make([]string, len(cfg.Peers))
	for i, p := range cfg.Peers {
		initial[i] = fmt.Sprintf("%s=http://%s:%d", p.Name, p.Host, peerPort)
	}
	args := []string{
		"--name", cfg.Name,
		"--data-dir", cfg.DataDir + "/etcd",
		"--listen-client-urls", fmt.Sprintf("http://0.0.0.0:%d", clientPort),
		"--advertise-client-urls", fmt.Sprintf("http://%s:%d", cfg.Name, clientPort),
		"--listen-peer-urls", fmt.Sprintf("http://0.0.0.0:%d", peerPort),
		"--initial-advertise-peer-urls", fmt.Sprintf("http://%s:%d", cfg.Name, peerPort),
		"--initial-cluster", strings.Join(initial, ","),
		"--initial-cluster-state", "new",
		"--initial-cluster-token", "hadrill",
	}
	flags, err := systems.Flags(s.Options(), cfg.Options)
	if err != nil {
		return cluster.ContainerSpec{}, fmt.Errorf("describe etcd member: %w", err)
	}
	return cluster.ContainerSpec{Entrypoint: []string{"/usr/bin/etcd"}, Cmd: append(args, flags...)}, nil
}

// Package postgresautofailover drills PostgreSQL 15 with pg_auto_failover 2.0, from
// Debian's packages: a monitor node (m1) and two data nodes (three as an
// option), each run by pg_autoctl. The monitor health-checks the data nodes
// and drives their state machines; the data node that is primary takes
// writes, the others stream its WAL, synchronously (replication quorum) or
// not.
//
// What to expect, from pg_auto_failover's documentation: with synchronous
// replication no acknowledged write is lost on failover; with asynchronous
// replication the writes the standby had not received are lost. The
// failover starts when the monitor has found the primary unhealthy: its
// health checks failed (health_check_period, health_check_timeout,
// health_check_max_retries, health_check_retry_delay) and the keeper has not
// reported for node_considered_unhealthy_timeout; with the defaults that is
// about 20 s, and the promotion then waits for the old primary to demote or
// for primary_demote_timeout (30 s).
//
// What hadrill found beyond the documentation: a primary cut off from the
// monitor and its standby by dropped packets does not demote itself within
// network_partition_timeout, because its replication connection stays in
// pg_stat_replication until wal_sender_timeout; it serves stale reads
// meanwhile (pg-partition-primary).
package postgresautofailover

import (
	"context"
	_ "embed"
	"fmt"
	"strings"
	"time"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/cluster/image"
	"github.com/hadrill/hadrill/systems"
)

// System is PostgreSQL with pg_auto_failover as a system under test.
type System struct{}

// Debian bookworm pins. pg-auto-failover-cli holds pg_autoctl; the server
// package holds the monitor's and keeper's extension.
const (
	debPostgreSQL15   = "postgresql-15=15.20-0+deb12u1"
	debAutoFailover   = "postgresql-15-auto-failover=2.0-2+b1"
	debAutoFailoverCL = "pg-auto-failover-cli=2.0-2+b1"
)

// pgPort is PostgreSQL's port on every node, the monitor's included.
const pgPort = 5432

// monitorRole is the role of the pg_auto_failover monitor node.
const monitorRole = "monitor"

// runAs is the user PostgreSQL runs as: Debian's postgres, since the
// postmaster refuses root.
const runAs = "postgres"

// runNode is the node's entrypoint: it creates the node once, then runs
// pg_autoctl (see the script for the details).
//
//go:embed run-node.sh
var runNode []byte

// runNodePath is where the script lives in the image.
const runNodePath = "usr/local/bin/hadrill-pgaf"

// Name returns "postgres-autofailover".
func (System) Name() string { return "postgres-autofailover" }

// Doc describes the system for `hadrill list`.
func (System) Doc() string {
	return "PostgreSQL 15.20 with pg_auto_failover 2.0 from Debian: a monitor (m1) and 2-3 data nodes; the monitor's primary takes writes"
}

// ClientDoc describes the client.
func (System) ClientDoc() string {
	return "pgx v5, one pool per data node; a kv table; reads, writes and CAS (UPDATE ... WHERE value = $old) on the node the router picks, refused by standbys (25006); prefix select for the final read"
}

// monitorGUCs maps options to the monitor's settings; their defaults are
// pg_auto_failover 2.0's own (pg_autoctl(5)).
var monitorGUCs = []systems.Option{
	{Name: "health_check_period", Kind: systems.OptionInt, Default: "5000", Min: 1, Flag: "pgautofailover.health_check_period",
		Doc: "milliseconds between the monitor's health checks of each node"},
	{Name: "health_check_timeout", Kind: systems.OptionInt, Default: "5000", Min: 1, Flag: "pgautofailover.health_check_timeout",
		Doc: "milliseconds the monitor waits to connect to a node before the check fails"},
	{Name: "health_check_max_retries", Kind: systems.OptionInt, Default: "2", Min: 0, Flag: "pgautofailover.health_check_max_retries",
		Doc: "retries of a failed health check before the node is marked bad"},
	{Name: "health_check_retry_delay", Kind: systems.OptionInt, Default: "2000", Min: 1, Flag: "pgautofailover.health_check_retry_delay",
		Doc: "milliseconds between health-check retries"},
	{Name: "node_considered_unhealthy_timeout", Kind: systems.OptionInt, Default: "20000", Min: 1, Flag: "pgautofailover.node_considered_unhealthy_timeout",
		Doc: "milliseconds without a keeper report, on top of failed health checks, before the monitor fails a node over"},
	{Name: "primary_demote_timeout", Kind: systems.OptionInt, Default: "30000", Min: 1, Flag: "pgautofailover.primary_demote_timeout",
		Doc: "milliseconds the monitor gives a failing primary to demote itself before the standby is promoted regardless"},
}

// Options are the replication mode and the monitor's timings, under
// pg_auto_failover's names.
func (System) Options() []systems.Option {
	return append([]systems.Option{
		{Name: "replication", Kind: systems.OptionEnum, Values: []string{"sync", "async"}, Default: "sync",
			Doc: "sync: the standbys take part in the replication quorum (synchronous_standby_names); async: they do not (pg_autoctl --replication-quorum)"},
		{Name: "number_sync_standbys", Kind: systems.OptionInt, Default: "0", Min: 0,
			Doc: "the formation's number_sync_standbys (pg_autoctl set formation number-sync-standbys): how many standbys must confirm each commit; 0 is pg_auto_failover's default"},
		{Name: "network_partition_timeout", Kind: systems.OptionInt, Default: "20", Min: 1,
			Doc: "seconds a primary's keeper waits, reaching neither the monitor nor a standby, before it demotes its primary (pg_autoctl's timeout.network_partition_timeout)"},
	}, monitorGUCs...)
}

// Nodes: pg_auto_failover runs a primary and any number of standbys (the
// monitor is a node of its own role, not counted here).
func (System) Nodes(map[string]string) systems.NodeBounds {
	return systems.NodeBounds{Min: 1, Why: "one node is a primary with no standby"}
}

// ClientPort is PostgreSQL's port.
func (System) ClientPort() int { return pgPort }

// Health says a data node is up when it answers SQL, and, when it is a
// standby, streams WAL from the primary: a cluster is ready when its
// standby can take over.
func (System) Health() cluster.HealthCheck {
	return cluster.HealthCheck{Probe: probeData, Timeout: 2 * time.Second}
}

// Roles adds the monitor.
func (System) Roles(map[string]string) []cluster.Role {
	return []cluster.Role{{Name: monitorRole, Prefix: "m", Count: 1, Port: pgPort,
		Health: cluster.HealthCheck{Probe: probeMonitor, Timeout: 2 * time.Second}}}
}

// Image is Debian's PostgreSQL 15 and pg_auto_failover on the shared base,
// with the node script and a data folder owned by postgres (for a container
// started without the agent, which would hand it over itself). Debian's
// default cluster is removed: pg_autoctl makes its own in /data.
func (System) Image(ctx context.Context) (image.Spec, error) {
	return image.DebianRecipe{
		Repo:     "hadrill/postgres-autofailover",
		Packages: []string{debPostgreSQL15, debAutoFailover, debAutoFailoverCL},
		Files:    []image.File{{Path: runNodePath, Content: runNode, Mode: 0o755}},
		Run: []string{"rm -rf /var/lib/postgresql/15/main /etc/postgresql/15/main" +
			" && mkdir -p " + cluster.DataDir + " && chown " + runAs + ":" + runAs + " " + cluster.DataDir},
	}.Spec(ctx)
}

// Container runs the monitor or a data node through the node script, as the
// postgres user. Data nodes reach the monitor by its name on the run
// network; authentication is trust on that network (--auth trust), which is
// acceptable for a drill and nowhere else.
func (s System) Container(cfg cluster.NodeConfig) (cluster.ContainerSpec, error) {
	for k := range cfg.Options {
		if _, ok := systems.Find(s.Options(), k); !ok {
			return cluster.ContainerSpec{}, fmt.Errorf("describe pg_auto_failover node: unknown option %q (known: %s)", k, strings.Join(systems.Names(s.Options()), ", "))
		}
	}
	cs := cluster.ContainerSpec{Entrypoint: []string{"/" + runNodePath}, User: runAs, Env: map[string]string{}}
	if cfg.Role == monitorRole {
		cs.Cmd = []string{"monitor"}
		cs.Env["PGAF_CONF"] = monitorConf(cfg.Options)
		return cs, nil
	}
	monitor := ""
	for _, m := range cfg.Members {
		if m.Role == monitorRole {
			monitor = m.Host
		}
	}
	if monitor == "" {
		return cluster.ContainerSpec{}, fmt.Errorf("describe pg_auto_failover node %s: no monitor among the members", cfg.Name)
	}
	cs.Cmd = []string{"postgres"}
	cs.Env["PGAF_MONITOR"] = monitorURI(monitor)
	cs.Env["PGAF_QUORUM"] = fmt.Sprint(systems.Value(s.Options(), cfg.Options, "replication") == "sync")
	cs.Env["PGAF_PRIORITY"] = "50"
	cs.Env["PGAF_SYNC_STANDBYS"] = systems.Value(s.Options(), cfg.Options, "number_sync_standbys")
	cs.Env["PGAF_PARTITION_TIMEOUT"] = systems.Value(s.Options(), cfg.Options, "network_partition_timeout")
	return cs, nil
}

// monitorURI is how keepers reach the monitor (pg_autoctl's autoctl_node
// user on the pg_auto_failover database).
func monitorURI(host string) string {
	return fmt.Sprintf("postgres://autoctl_node@%s:%d/pg_auto_failover?sslmode=disable", host, pgPort)
}

// monitorConf renders the monitor's timing options as postgresql.conf
// lines; an option left out keeps pg_auto_failover's default.
func monitorConf(opts map[string]string) string {
	var b strings.Builder
	for _, o := range monitorGUCs {
		if v, ok := opts[o.Name]; ok {
			fmt.Fprintf(&b, "%s = %s\n", o.Flag, v)
		}
	}
	return b.String()
}

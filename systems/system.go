// Package systems is the contract between hadrill and a system under test,
// and the home of everything a system declares about itself. Each system
// lives in its own folder below (systems/hakv, systems/etcd, ...), like a
// testcontainers-go module: its options, image recipe, node roles and
// commands, readiness probe, client, and how to find its primary. The
// registry (systems/registry) lists them; nothing else in hadrill names a
// particular system.
package systems

import (
	"context"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/workload"
)

// System is a system under test as a plug-in. The Docker backend's part
// (image, containers, ports, readiness, and the optional PrimaryFinder,
// ClaimReporter and Roler capabilities) is cluster.System; the rest is what
// the schema, the workload and `hadrill list` need.
type System interface {
	cluster.System
	// Doc is a one-line description for `hadrill list`.
	Doc() string
	// ClientDoc says, in one line, how the workload's client talks to the
	// system (its library, where writes and reads go), for `hadrill list`.
	ClientDoc() string
	// Options declares the system's settings, by the names the system itself
	// uses (etcd's election_timeout, Redis's down_after_milliseconds). The
	// scenario schema checks cluster.options against them.
	Options() []Option
	// Nodes declares how many data nodes the system runs with the given
	// options, so that validation refuses a count the system cannot run
	// (naming the file, line and field) instead of a start that fails later.
	Nodes(opts map[string]string) NodeBounds
	// NewClient returns the workload's client for a started cluster.
	// clients is the number of concurrent logical clients, to size pools.
	NewClient(ctx context.Context, c *cluster.Cluster, clients int) (Client, error)
}

// NodeBounds are the data-node counts a system supports. Max 0 means no
// limit of the system's own (hadrill's overall maximum still holds). Why
// says where the bounds come from, for the error that quotes them.
type NodeBounds struct {
	Min, Max int
	Why      string
}

// Client is the workload's KV for one running cluster. Every error it
// returns is classified as definite (matches workload.ErrNotApplied) or
// indeterminate, as workload.Classify documents.
type Client interface {
	workload.KV
	// Refresh re-reads the nodes' addresses from the cluster, after a node
	// was restarted (its published port may have changed).
	Refresh()
	// Close releases connections.
	Close() error
}

// OptionChecker is the optional capability of a System whose options have
// rules across options (hakv: failover_timeout above twice heartbeat). It
// returns the offending option's name and a message, or "" when all is well,
// so that the schema can point at the file, line and field.
type OptionChecker interface {
	CheckOptions(opts map[string]string) (option, msg string)
}

// Static is the optional capability of a System whose server processes
// libfaketime cannot be preloaded into: statically linked (or reading the
// clock through the vDSO), or not starting under the preload. Faults
// relying on LD_PRELOAD (clock) cannot reach them, and validation refuses
// those faults with this reason.
type Static interface {
	StaticBinary() string
}

// Package label names the Docker labels hadrill puts on what it creates
// (containers, networks, images, a Swarm) and reads on engines. They, not
// testcontainers' Ryuk reaper (which needs a registry), are how a crashed
// run's leftovers are found and whose they are.
//
// The lifecycle (cluster), the image builder (cluster/image) and the Swarm
// code (cluster/engine) write them; the clean-up (cluster/cleanup) reads
// them, and itself imports cluster/engine and is imported by cluster. The
// names therefore live in this leaf, which imports nothing, so that every
// writer and the reader share one declaration without an import cycle.
package label

const (
	// Run carries the run ID on containers and networks.
	Run = "hadrill.run"
	// Node carries the node name (n1) on containers.
	Node = "hadrill.node"
	// System carries the system name (hakv) on containers.
	System = "hadrill.system"
	// Build marks images hadrill built, so dangling ones can be pruned.
	Build = "hadrill.build"
	// Swarm marks a Swarm that hadrill created, so that the clean-up can
	// dissolve one a crashed run left behind and never touch one it found.
	Swarm = "hadrill.swarm"
	// PublishIP is the engine label (dockerd --label) that says at which
	// address this machine reaches the ports the engine publishes. An engine
	// in a network namespace (scripts/engines.sh) publishes on its
	// namespace's address, not on this machine's 127.0.0.1.
	PublishIP = "hadrill.publish-ip"
)

// Owner labels say which hadrill process created a container or network, so
// that `hadrill cleanup` on an engine shared by several drills removes only
// what belongs to processes that are gone, never a neighbour's live drill.
// The lifecycle writes them (cleanup.Self().Labels()); the clean-up judges
// them.
const (
	// OwnerHost is the host name of the owning process.
	OwnerHost = "hadrill.owner.host"
	// OwnerPID is the owning process's pid.
	OwnerPID = "hadrill.owner.pid"
	// OwnerStart tells a pid's one process from any later process given
	// the same pid: the kernel's boot ID and the process's start time in
	// clock ticks since boot (/proc/<pid>/stat field 22). A reboot changes
	// the first, pid reuse the second.
	OwnerStart = "hadrill.owner.start"
)

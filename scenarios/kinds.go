package scenarios

import (
	"slices"

	"github.com/hadrill/hadrill/faults/kind"
)

// FaultKind names what a fault does, as written in scenario files. The kinds
// and their parameters are declared once, in package kind; the schema reads
// them from there.
type FaultKind = kind.Name

// The kinds the schema names in code.
var (
	Kill      = kind.Kill
	Stop      = kind.Stop
	Pause     = kind.Pause
	Partition = kind.Partition
)

// Level says which machinery applies a fault kind (kind.Level).
type Level = kind.Level

// Fault levels.
const (
	// Container faults use the Docker API from the host.
	Container = kind.LevelContainer
	// Agent faults need the node agent (hadrill agent) inside the node.
	Agent = kind.LevelAgent
)

// FaultKindInfo describes a fault kind for validation and for hadrill list.
type FaultKindInfo = kind.Decl

// Fault parameter names, as written in files.
const (
	ParamDuration     = kind.ParamDuration
	ParamRestartAfter = kind.ParamRestartAfter
)

// FaultKinds lists every fault kind the schema accepts, container kinds
// first, for hadrill list and for documentation.
func FaultKinds() []FaultKindInfo { return kind.Decls() }

// Selector picks the nodes a fault hits: a selector word, resolved when the
// fault starts (so "primary" follows failovers), or a node name n1..nN
// (kind.Selector declares them).
type Selector = kind.Selector

// Selectors by role. Random choices use the scenario's seed.
const (
	Primary  = kind.Primary
	Standby  = kind.Standby
	Standbys = kind.Standbys
	One      = kind.One
	Minority = kind.Minority
	Majority = kind.Majority
	All      = kind.All
)

// NodeName is the name of the k-th node (from 1), as selectors write it.
func NodeName(k int) string { return kind.NodeName(k) }

// SelectorInfo describes a selector word for hadrill list.
type SelectorInfo = kind.SelectorDecl

// Selectors lists the selector words; node names n1..nN are accepted too.
func Selectors() []SelectorInfo { return kind.Selectors() }

// WorkloadInfo describes a workload kind for hadrill list.
type WorkloadInfo struct {
	Kind string
	Doc  string
}

// Register is the one workload kind so far.
const Register = "register"

var workloads = []WorkloadInfo{
	{Register, "read, write and compare-and-set on a few keys, mixed with write-once ledger writes that measure RPO"},
}

// Workloads lists the workload kinds the schema accepts.
func Workloads() []WorkloadInfo { return slices.Clone(workloads) }

package scenarios

import (
	"slices"
	"strings"

	"github.com/hadrill/hadrill/faults"
)

// FaultKind names what a fault does, as written in scenario files. The kinds
// and their parameters are declared once, in the faults package's kind
// table; the schema reads them from there.
type FaultKind = faults.Kind

// The kinds the schema names in code.
const (
	Kill      = faults.Kill
	Stop      = faults.Stop
	Pause     = faults.Pause
	Partition = faults.Partition
)

// Level says which machinery applies a fault kind (faults.Level).
type Level = faults.Level

// Fault levels.
const (
	// Container faults use the Docker API from the host.
	Container = faults.LevelContainer
	// Agent faults need the node agent (hadrill agent) inside the node.
	Agent = faults.LevelAgent
)

// FaultKindInfo describes a fault kind for validation and for hadrill list.
type FaultKindInfo = faults.KindInfo

// Fault parameter names, as written in files.
const (
	ParamDuration     = faults.ParamDuration
	ParamRestartAfter = faults.ParamRestartAfter
)

// FaultKinds lists every fault kind the schema accepts, container kinds
// first, for hadrill list and for documentation.
func FaultKinds() []FaultKindInfo { return faults.KindTable() }

func faultKindNames() string {
	var names []string
	for _, k := range faults.KindTable() {
		names = append(names, string(k.Kind))
	}
	return strings.Join(names, ", ")
}

// Selector picks the nodes a fault hits. It is one of the role-based names
// below, resolved when the fault starts (so "primary" follows failovers), or a
// node name n1..nN (nodes are numbered from 1 in the order they are created).
type Selector string

// Selectors by role. Random choices use the scenario's seed.
const (
	Primary  Selector = "primary"
	Standby  Selector = "standby"
	Standbys Selector = "standbys"
	One      Selector = "one"
	Minority Selector = "minority"
	Majority Selector = "majority"
	All      Selector = "all"
)

// SelectorInfo describes a role selector for hadrill list.
type SelectorInfo struct {
	Selector Selector
	Doc      string
}

// selectors are faults.SelectorDocs in the schema's type: the faults
// package resolves them, and declares them.
var selectors = func() []SelectorInfo {
	out := make([]SelectorInfo, len(faults.SelectorDocs))
	for i, d := range faults.SelectorDocs {
		out[i] = SelectorInfo{Selector(d.Name), d.Doc}
	}
	return out
}()

// Selectors lists the role selectors; node names n1..nN are accepted too.
func Selectors() []SelectorInfo { return slices.Clone(selectors) }

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

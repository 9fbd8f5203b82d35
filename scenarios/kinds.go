package scenarios

import (
	"slices"
	"strings"
)

// FaultKind names what a fault does. The names are the ones written in
// scenario files.
type FaultKind string

// Fault kinds. Kill, Stop and Pause act on the container through the Docker
// API; the others are applied inside the node by the node agent (DESIGN.md,
// Faults).
const (
	Kill      FaultKind = "kill"
	Stop      FaultKind = "stop"
	Pause     FaultKind = "pause"
	Partition FaultKind = "partition"
	Loss      FaultKind = "loss"
	Delay     FaultKind = "delay"
	Bandwidth FaultKind = "bandwidth"
	DiskStall FaultKind = "disk-stall"
	DiskSlow  FaultKind = "disk-slow"
	DiskError FaultKind = "disk-error"
	CPU       FaultKind = "cpu"
	Memory    FaultKind = "memory"
	DNS       FaultKind = "dns"
	Crash     FaultKind = "crash"
	SIGSTOP   FaultKind = "sigstop"
)

// Level says which machinery applies a fault kind, so a runner can refuse a
// scenario whose faults it cannot apply yet, before building anything.
type Level string

// Fault levels.
const (
	// Container faults use the Docker API from the host.
	Container Level = "container"
	// Agent faults need the node agent (hadrill agent) inside the node.
	Agent Level = "agent"
)

// Fault parameter names, as written in files.
const (
	ParamDuration     = "duration"
	ParamRestartAfter = "restart_after"
	ParamPercent      = "percent"
	ParamDelay        = "delay"
	ParamJitter       = "jitter"
	ParamRate         = "rate"
	ParamGrace        = "grace"
	ParamMiB          = "mib"
)

// paramOrder is the order in which parameters are checked and listed.
var paramOrder = []string{ParamDuration, ParamRestartAfter, ParamPercent, ParamDelay, ParamJitter, ParamRate, ParamGrace, ParamMiB}

// FaultKindInfo describes a fault kind for validation and for hadrill list.
type FaultKindInfo struct {
	Kind     FaultKind
	Level    Level
	Required []string // parameters the fault cannot do without
	Optional []string // parameters it may take
	Doc      string
}

// Takes reports whether the kind accepts the named parameter.
func (i FaultKindInfo) Takes(param string) bool {
	return slices.Contains(i.Required, param) || slices.Contains(i.Optional, param)
}

var faultKinds = []FaultKindInfo{
	{Kill, Container, nil, []string{ParamRestartAfter},
		"SIGKILL the node's container; start it again after restart_after, or when the run ends"},
	{Stop, Container, nil, []string{ParamRestartAfter, ParamGrace},
		"stop the container with SIGTERM and SIGKILL after grace (default 10s); start it again after restart_after, or when the run ends"},
	{Pause, Container, []string{ParamDuration}, nil,
		"freeze the container (Docker pause) for duration"},
	{Partition, Agent, []string{ParamDuration}, nil,
		"drop traffic between nodes for duration (target: a selector to isolate, {isolate}, {groups} or {from, to})"},
	{Loss, Agent, []string{ParamDuration, ParamPercent}, nil,
		"drop percent of the node's packets at random for duration"},
	{Delay, Agent, []string{ParamDuration, ParamDelay}, []string{ParamJitter},
		"delay the node's packets by delay ± jitter for duration"},
	{Bandwidth, Agent, []string{ParamDuration, ParamRate}, nil,
		"limit the node's bandwidth to rate (like 1mbit) for duration"},
	{DiskStall, Agent, []string{ParamDuration}, nil,
		"block all I/O on the node's data folder for duration"},
	{DiskSlow, Agent, []string{ParamDuration, ParamDelay}, nil,
		"add delay to every I/O operation on the node's data folder for duration"},
	{DiskError, Agent, []string{ParamDuration}, nil,
		"fail every write and fsync on the node's data folder with EIO for duration"},
	{CPU, Agent, []string{ParamDuration, ParamPercent}, nil,
		"burn percent of the node's CPU for duration"},
	{Memory, Agent, []string{ParamDuration, ParamMiB}, nil,
		"allocate and touch mib MiB inside the node's container for duration"},
	{DNS, Agent, []string{ParamDuration}, nil,
		"make name resolution fail inside the node for duration"},
	{Crash, Agent, nil, []string{ParamRestartAfter},
		"SIGKILL the node's process from inside the node; start it again after restart_after, or when the run ends"},
	{SIGSTOP, Agent, []string{ParamDuration}, nil,
		"SIGSTOP the node's process and SIGCONT it after duration"},
}

// FaultKinds lists every fault kind the schema accepts, container kinds
// first, for hadrill list and for documentation.
func FaultKinds() []FaultKindInfo { return slices.Clone(faultKinds) }

// Info returns the description of a kind; ok is false for an unknown kind.
func (k FaultKind) Info() (FaultKindInfo, bool) {
	for _, i := range faultKinds {
		if i.Kind == k {
			return i, true
		}
	}
	return FaultKindInfo{}, false
}

// Level returns the machinery the kind needs ("" for an unknown kind).
func (k FaultKind) Level() Level {
	i, _ := k.Info()
	return i.Level
}

func faultKindNames() string {
	names := make([]string, len(faultKinds))
	for i, k := range faultKinds {
		names[i] = string(k.Kind)
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

var selectors = []SelectorInfo{
	{Primary, "the node that is primary when the fault starts"},
	{Standby, "one standby, chosen with the seed"},
	{Standbys, "every standby"},
	{One, "one node, chosen with the seed"},
	{Minority, "(n-1)/2 nodes, chosen with the seed"},
	{Majority, "n/2+1 nodes, chosen with the seed"},
	{All, "every node"},
}

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

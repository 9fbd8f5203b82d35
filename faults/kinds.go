package faults

import (
	"slices"
	"time"

	"github.com/hadrill/hadrill/faults/agent"
)

// This file is the one table of fault kinds: their names, the machinery
// that applies them, their parameters and what they do. The scenario schema
// (validation, hadrill list) and the injectors read it; the agent-level
// names are the agent's own wire names (agent.Kind), and parameters travel
// typed from the scenario to the agent, converted to the agent's wire form
// in one place (Params.wire). A kind added here and not in the agent, or
// the other way round, fails TestKindTableMatchesAgent.

// Kind names what a fault does, as written in scenario files.
type Kind string

// The kinds the harness names in code. Every kind is in kindTable.
const (
	Kill      Kind = "kill"
	Stop      Kind = "stop"
	Pause     Kind = "pause"
	Partition      = Kind(agent.KindPartition)
)

// Level says which machinery applies a kind, so a runner can refuse a
// scenario whose faults it cannot apply before building anything.
type Level string

// Fault levels.
const (
	// LevelContainer kinds use the Docker API from the host.
	LevelContainer Level = "container"
	// LevelAgent kinds need the node agent inside the node.
	LevelAgent Level = "agent"
)

// Param names a fault parameter, as written in files.
type Param string

// Fault parameters.
const (
	ParamDuration     Param = "duration"
	ParamRestartAfter Param = "restart_after"
	ParamPercent      Param = "percent"
	ParamDelay        Param = "delay"
	ParamJitter       Param = "jitter"
	ParamRate         Param = "rate"
	ParamGrace        Param = "grace"
	ParamMiB          Param = "mib"
	ParamOffset       Param = "offset"
	ParamClockRate    Param = "clock_rate"
)

// ParamOrder is the order in which parameters are checked and listed.
var ParamOrder = []Param{ParamDuration, ParamRestartAfter, ParamPercent, ParamDelay, ParamJitter,
	ParamRate, ParamGrace, ParamMiB, ParamOffset, ParamClockRate}

// Params are the kind-specific parameters of one fault, typed. A zero value
// means "not given"; injectors apply their defaults.
type Params struct {
	Percent float64
	Delay   time.Duration
	Jitter  time.Duration
	// Rate is a bandwidth in bits per second.
	Rate  int64
	Grace time.Duration
	MiB   int
	// Offset shifts a clock; ClockRate makes it run fast (> 1) or slow.
	Offset    time.Duration
	ClockRate float64
}

// KindInfo describes a kind for validation, injection and hadrill list.
type KindInfo struct {
	Kind     Kind
	Level    Level
	Required []Param // parameters the fault cannot do without
	Optional []Param // parameters it may take
	// NeedsDynamic: the node's process must be dynamically linked (the
	// agent preloads a library into it).
	NeedsDynamic bool
	Doc          string
}

// Takes reports whether the kind accepts the parameter.
func (i KindInfo) Takes(p Param) bool {
	return slices.Contains(i.Required, p) || slices.Contains(i.Optional, p)
}

type ps = []Param

func agentKind(k agent.Kind, req, opt ps, doc string) KindInfo {
	return KindInfo{Kind: Kind(k), Level: LevelAgent, Required: req, Optional: opt, Doc: doc}
}

var (
	dur         = ps{ParamDuration}
	durPct      = ps{ParamDuration, ParamPercent}
	restartOnly = ps{ParamRestartAfter}
)

var kindTable = []KindInfo{
	{Kill, LevelContainer, nil, restartOnly, false,
		"SIGKILL the node's process and container; start it again after restart_after, or when the run ends"},
	{Stop, LevelContainer, nil, ps{ParamRestartAfter, ParamGrace}, false,
		"stop the container with SIGTERM and SIGKILL after grace (default 10s); start it again after restart_after, or when the run ends"},
	{Pause, LevelContainer, dur, nil, false, "freeze the container (Docker pause) for duration"},
	agentKind(agent.KindPartition, dur, nil,
		"drop traffic between nodes for duration (target: a selector to isolate, {isolate}, {groups} or {from, to})"),
	agentKind(agent.KindLoss, durPct, nil, "drop percent of the node's packets at random for duration"),
	agentKind(agent.KindDelay, ps{ParamDuration, ParamDelay}, ps{ParamJitter},
		"delay the node's packets by delay ± jitter for duration"),
	agentKind(agent.KindBandwidth, ps{ParamDuration, ParamRate}, nil,
		"limit the node's bandwidth to rate (like 1mbit) for duration"),
	agentKind(agent.KindDiskStall, dur, nil, "block all I/O on the node's data folder for duration"),
	agentKind(agent.KindDiskSlow, ps{ParamDuration, ParamDelay}, nil,
		"add delay to every I/O operation on the node's data folder for duration"),
	agentKind(agent.KindDiskError, dur, nil,
		"fail every write and fsync on the node's data folder with EIO for duration"),
	agentKind(agent.KindCPU, durPct, nil, "burn percent of the node's CPU for duration"),
	agentKind(agent.KindMemory, ps{ParamDuration, ParamMiB}, nil,
		"allocate and touch mib MiB inside the node's container for duration"),
	agentKind(agent.KindDNS, dur, nil, "make name resolution fail inside the node for duration"),
	agentKind(agent.KindCrash, nil, restartOnly,
		"SIGKILL the node's process from inside the node; start it again after restart_after, or when the run ends"),
	agentKind(agent.KindSigstop, dur, nil, "SIGSTOP the node's process and SIGCONT it after duration"),
	agentKind(agent.KindPowerLoss, nil, restartOnly,
		"SIGKILL the node's process and roll its data folder back to the last fsync (un-fsynced writes, creates and renames are lost); start it again after restart_after, or when the run ends"),
	agentKind(agent.KindDiskFull, dur, ps{ParamPercent, ParamMiB},
		"answer writes that need new space with ENOSPC for duration: at once, after mib more MiB, or once the disk is percent full"),
	agentKind(agent.KindCorrupt, durPct, nil, "flip a bit in percent of the node's packets for duration (receivers drop them on the checksum)"),
	agentKind(agent.KindDuplicate, durPct, nil, "send percent of the node's packets twice for duration"),
	agentKind(agent.KindReorder, durPct, ps{ParamDelay},
		"hold back percent of the node's packets by delay (default 10ms), so later ones overtake them, for duration"),
	{Kind(agent.KindClock), LevelAgent, dur, ps{ParamOffset, ParamClockRate}, true,
		"shift the node's wall clock by offset and/or make it run at clock_rate for duration (libfaketime; dynamically linked servers only)"},
}

// KindTable lists every fault kind, container kinds first.
func KindTable() []KindInfo { return slices.Clone(kindTable) }

// Info returns the description of a kind; ok is false for an unknown kind.
func (k Kind) Info() (KindInfo, bool) {
	for _, i := range kindTable {
		if i.Kind == k {
			return i, true
		}
	}
	return KindInfo{}, false
}

// Level returns the machinery the kind needs ("" for an unknown kind).
func (k Kind) Level() Level {
	i, _ := k.Info()
	return i.Level
}

// NeedsDisk reports whether the kind acts through the FUSE layer over the
// node's data folder, which the node must then mount (and have the
// privileges for).
func (k Kind) NeedsDisk() bool {
	switch agent.Kind(k) {
	case agent.KindDiskStall, agent.KindDiskSlow, agent.KindDiskError, agent.KindPowerLoss, agent.KindDiskFull:
		return true
	}
	return false
}

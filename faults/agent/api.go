package agent

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/hadrill/hadrill/faults/kind"
)

// This file is the agent's wire contract: the JSON bodies of the control API.
// The harness (through Client) and the agent (through its HTTP handlers) share
// these types, so a field renamed here is renamed on both sides at once.
// Times are unix wall-clock nanoseconds of the agent's machine, because the
// harness converts them into its own run-relative time base.

// Kind names a fault the agent knows how to apply. The kinds, their
// parameters and what they do are declared in package kind; the agent
// registers an applier for each agent-level kind there.
type Kind = kind.Name

// Kinds lists every kind the agent implements, in declaration order, so
// that capability reports and `hadrill list` can enumerate them.
func Kinds() []Kind { return kind.Names(kind.LevelAgent) }

// Direction says which way a network fault acts, seen from the node: "in"
// affects packets arriving from peers, "out" packets sent to them. One-way
// partitions are the classic way to expose asymmetric failure detectors.
type Direction string

// Directions of a network fault. The empty value means DirBoth.
const (
	DirIn   Direction = "in"
	DirOut  Direction = "out"
	DirBoth Direction = "both"
)

// Duration is a time.Duration that travels as a Go duration string ("50ms"),
// so that API bodies are readable and match the scenario files. A JSON number
// is accepted too and read as nanoseconds.
type Duration time.Duration

// MarshalJSON writes the duration as a string such as "1.5s".
func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

// UnmarshalJSON reads a duration string or a number of nanoseconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var ns int64
		if err := json.Unmarshal(b, &ns); err != nil {
			return fmt.Errorf("parse duration %s: want a string like \"50ms\" or nanoseconds", b)
		}
		*d = Duration(ns)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("parse duration: %w", err)
	}
	*d = Duration(v)
	return nil
}

// Params carries the parameters of every kind in one flat struct: a fault
// uses the fields its kind documents and must leave the others empty. Flat is
// simpler for clients than a union, and unknown fields are still rejected.
// The parameters a scenario can give are kind.Params, embedded (their JSON
// names are the scenario's); the fields here are the ones the harness works
// out per node.
type Params struct {
	kind.Params
	// Peers are IPv4 (or IPv6) addresses of other nodes. Required for
	// partition; optional for loss, delay and bandwidth, where empty means
	// all traffic except the agent's control port and loopback.
	Peers []string `json:"peers,omitempty"`
	// Direction applies to partition and loss; empty means both.
	Direction Direction `json:"direction,omitempty"`
	// Seed seeds the jitter generator so runs repeat; 0 derives one from the
	// fault id.
	Seed int64 `json:"seed,omitempty"`
	// RateKbit is the bandwidth limit in kilobits per second, for callers
	// that prefer a number; give Rate or RateKbit, not both.
	RateKbit uint64 `json:"rate_kbit,omitempty"`
	// BurstBytes is the token bucket size; 0 picks max(rate/100, 16 KiB).
	BurstBytes uint32 `json:"burst_bytes,omitempty"`
	// Cores is how many threads cpu spins: full threads when Percent is
	// not given (0 means 1), else the threads Percent is spread over (0
	// means as few as can carry it).
	Cores int `json:"cores,omitempty"`
	// RestartAfter is when crash restarts the process; 0 means on heal.
	RestartAfter Duration `json:"restart_after,omitempty"`
}

// Fault is the body of POST /faults. The ID is chosen by the harness and
// names the fault in DELETE /faults/{id}; it must be unique among active
// faults.
type Fault struct {
	ID     string `json:"id"`
	Kind   Kind   `json:"kind"`
	Params Params `json:"params"`
}

// Applied answers POST /faults. EffectiveNS is the agent's wall clock when
// the effect was in place (the netlink batch acknowledged, the signal
// delivered, the memory touched), which is what RTO is measured from.
type Applied struct {
	ID   string `json:"id"`
	Kind Kind   `json:"kind"`
	// ReceivedNS is when the agent started handling the request.
	ReceivedNS int64 `json:"received_ns"`
	// EffectiveNS is when the fault took effect.
	EffectiveNS int64 `json:"effective_ns"`
	// Mechanism names how the fault was realised ("nftables", "nfqueue",
	// "netem", "htb+tbf", "fuse", "signal", "threads", "mmap"), so reports
	// can say what was really done on a kernel without netem.
	Mechanism string `json:"mechanism"`
	// Interfaces lists the network interfaces a qdisc was installed on.
	Interfaces []string `json:"interfaces,omitempty"`
}

// Measured is what the agent observed of a fault's effect. Counters are
// cumulative since apply. A field a kind does not measure stays zero and is
// omitted from JSON.
type Measured struct {
	// PacketsSeen counts packets that matched a loss rule (before the dice).
	PacketsSeen uint64 `json:"packets_seen,omitempty"`
	// PacketsDropped counts packets dropped by partition, loss and dns rules.
	PacketsDropped uint64 `json:"packets_dropped,omitempty"`
	// LossPercent is 100 × PacketsDropped / PacketsSeen for loss.
	LossPercent float64 `json:"loss_percent,omitempty"`
	// PacketsDelayed counts packets released after a delay.
	PacketsDelayed uint64 `json:"packets_delayed,omitempty"`
	// MeanDelayMS is the mean time packets were actually held.
	MeanDelayMS float64 `json:"mean_delay_ms,omitempty"`
	// PacketsShaped counts packets classified into a bandwidth or netem class.
	PacketsShaped uint64 `json:"packets_shaped,omitempty"`
	// OpsStalled counts file system operations a stall blocked.
	OpsStalled uint64 `json:"ops_stalled,omitempty"`
	// MaxStallMS is the longest time one operation was blocked.
	MaxStallMS float64 `json:"max_stall_ms,omitempty"`
	// OpsSlowed counts operations disk-slow delayed.
	OpsSlowed uint64 `json:"ops_slowed,omitempty"`
	// OpsFailed counts operations disk-error failed with EIO.
	OpsFailed uint64 `json:"ops_failed,omitempty"`
	// CPUSeconds is the CPU time the burner threads consumed.
	CPUSeconds float64 `json:"cpu_seconds,omitempty"`
	// MemoryBytes is how much memory was allocated and touched.
	MemoryBytes uint64 `json:"memory_bytes,omitempty"`
	// RSSBytes is the agent's resident set size once the memory was touched.
	RSSBytes uint64 `json:"rss_bytes,omitempty"`
	// OldPID is the supervised process before a crash or sigstop.
	OldPID int `json:"old_pid,omitempty"`
	// NewPID is the supervised process after a crash's restart.
	NewPID int `json:"new_pid,omitempty"`
	// FilesRolledBack counts files power-loss restored to their last
	// fsynced content; EntriesUndone the creates, renames and unlinks it
	// undid; BytesLost the un-fsynced bytes it threw away.
	FilesRolledBack uint64 `json:"files_rolled_back,omitempty"`
	EntriesUndone   uint64 `json:"entries_undone,omitempty"`
	BytesLost       uint64 `json:"bytes_lost,omitempty"`
	// WrittenBackBytes counts un-fsynced bytes past the tracking limit,
	// which power-loss keeps (as a kernel's writeback would have).
	WrittenBackBytes uint64 `json:"written_back_bytes,omitempty"`
	// OpsNoSpace counts operations disk-full failed with ENOSPC.
	OpsNoSpace uint64 `json:"ops_no_space,omitempty"`
	// PacketsCorrupted, PacketsDuplicated and PacketsReordered count what
	// corrupt, duplicate and reorder did, out of PacketsSeen.
	PacketsCorrupted  uint64 `json:"packets_corrupted,omitempty"`
	PacketsDuplicated uint64 `json:"packets_duplicated,omitempty"`
	PacketsReordered  uint64 `json:"packets_reordered,omitempty"`
	// ClockOffsetMS is the offset of the process's clock from the agent's,
	// as a process started under the same preload observed it.
	ClockOffsetMS float64 `json:"clock_offset_ms,omitempty"`
}

// Healed answers DELETE /faults/{id}: when the effect was removed and the
// final measurements taken just before removal.
type Healed struct {
	ID       string   `json:"id"`
	Kind     Kind     `json:"kind"`
	HealedNS int64    `json:"healed_ns"`
	Measured Measured `json:"measured"`
}

// ActiveFault is one entry of GET /faults: a fault still in effect with its
// live counters.
type ActiveFault struct {
	Fault    Fault    `json:"fault"`
	Applied  Applied  `json:"applied"`
	Measured Measured `json:"measured"`
}

// Status answers GET /faults.
type Status struct {
	NowNS  int64         `json:"now_ns"`
	Faults []ActiveFault `json:"faults"`
}

// Verification is what heal-all checked after healing, so the harness can
// refuse to start the next run on a node that is not back to normal.
type Verification struct {
	// NftTableGone: the agent's nftables table no longer exists.
	NftTableGone bool `json:"nft_table_gone"`
	// QdiscsRestored: no interface carries a qdisc the agent installed.
	QdiscsRestored bool `json:"qdiscs_restored"`
	// DiskUnblocked: no disk hook is active and the data folder answers.
	DiskUnblocked bool `json:"disk_unblocked"`
	// ResourcesReleased: no burner thread or allocation is left.
	ResourcesReleased bool `json:"resources_released"`
	// ProcessRunning: the supervised process (if any) runs and is not stopped.
	ProcessRunning bool `json:"process_running"`
	// OK is the conjunction of the checks above.
	OK bool `json:"ok"`
	// Problems explains every failed check.
	Problems []string `json:"problems,omitempty"`
}

// HealAllResult answers POST /heal-all. The HTTP status is 200 when every
// heal succeeded and Verified.OK, 500 otherwise, with this body either way.
type HealAllResult struct {
	HealedNS int64        `json:"healed_ns"`
	Healed   []Healed     `json:"healed"`
	Errors   []string     `json:"errors,omitempty"`
	Verified Verification `json:"verified"`
}

// Capabilities answers GET /capabilities: what this node's kernel and
// container allow, detected rather than assumed, so the harness can reject a
// scenario up front instead of failing mid-run.
type Capabilities struct {
	Nftables bool `json:"nftables"`
	NFQueue  bool `json:"nfqueue"`
	Netem    bool `json:"netem"`
	HTB      bool `json:"htb"`
	TBF      bool `json:"tbf"`
	// Fuse is true when the data folder is mounted through the agent.
	Fuse    bool   `json:"fuse"`
	FuseDir string `json:"fuse_dir,omitempty"`
	// FuseError says why the mount failed when Fuse is false but a folder
	// was asked for.
	FuseError string `json:"fuse_error,omitempty"`
	// CgroupCPU is true when the node's cgroup exposes a CPU controller,
	// so a cpu fault competes with the workload for the same quota.
	CgroupCPU bool `json:"cgroup_cpu"`
	CPUs      int  `json:"cpus"`
	// CPULimit is the CPU the node may use (cgroup quota, else CPUs): what
	// a cpu fault's percent is a share of.
	CPULimit float64 `json:"cpu_limit"`
	// Process is true when the agent supervises a process (crash, sigstop).
	Process bool   `json:"process"`
	PID     int    `json:"pid,omitempty"`
	Kinds   []Kind `json:"kinds"`
	// DelayMechanism is "netem" or "nfqueue": what a delay fault will use.
	DelayMechanism string `json:"delay_mechanism"`
	// Faketime is the libfaketime library the clock fault preloads, ""
	// when the node has none (clock is then unavailable).
	Faketime string `json:"faketime,omitempty"`
}

// Health answers GET /healthz.
type Health struct {
	OK      bool    `json:"ok"`
	PID     int     `json:"pid,omitempty"`
	UptimeS float64 `json:"uptime_s"`
}

// ErrorBody is the body of every non-2xx answer except heal-all's.
type ErrorBody struct {
	Error string `json:"error"`
}

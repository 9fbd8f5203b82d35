package results

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/hadrill/hadrill/checker"
	"github.com/hadrill/hadrill/history"
)

// Verdict is verdict.json: the machine-readable outcome of one run. The
// field names are fixed by docs/DESIGN.md; other tools rely on them. Fields past
// those are additions, never renames.
type Verdict struct {
	Scenario        string                   `json:"scenario"`
	Seed            int64                    `json:"seed"`
	Verdict         checker.Result           `json:"verdict"`
	Started         time.Time                `json:"started"`
	DurationSeconds float64                  `json:"duration_seconds"`
	Ops             checker.OpCounts         `json:"ops"`
	Checks          map[string]checker.Check `json:"checks"`
	Faults          []FaultRecord            `json:"faults"`
	// LoadStart is the wall-clock time of the history's time zero: every
	// time in seconds here (faults, latency windows) counts from it.
	LoadStart time.Time `json:"load_start"`

	// System and Image identify what was drilled, so that comparisons
	// across versions can say what they compared.
	System string `json:"system,omitempty"`
	Image  string `json:"image,omitempty"`
	Nodes  int    `json:"nodes,omitempty"`
	// Engines maps each node to the Docker engine it ran on, when the
	// cluster was spread over several (cluster.engines).
	Engines map[string]string `json:"engines,omitempty"`
	Option  map[string]string `json:"options,omitempty"`
	// Latency is per operation kind, in seconds.
	Latency checker.LatencyReport `json:"latency"`
	// Interrupted is set when the run was cut short (Ctrl-C); its checks
	// cover the partial history only.
	Interrupted bool `json:"interrupted,omitempty"`
	// Abort is the abort condition that stopped the drill early (verdict
	// "aborted"), nil when none tripped.
	Abort *Abort `json:"abort,omitempty"`
	// Errors are problems of the run itself (a fault that could not be
	// injected), as opposed to findings about the system.
	Errors []string `json:"errors,omitempty"`
}

// FaultRecord is one fault as it happened, in seconds since the run's start.
type FaultRecord struct {
	ID     int      `json:"id"`
	Kind   string   `json:"kind"`
	Target string   `json:"target"`
	Nodes  []string `json:"nodes,omitempty"`
	// Scheduled is when the schedule asked for the fault.
	Scheduled float64 `json:"scheduled"`
	Requested float64 `json:"requested"`
	// Effective and Healed are null when the stage never happened.
	// Effective is when the fault was in force on every node it targets,
	// FirstEffective when it took effect on its first node: RTO and the
	// RPO window count from there. EffectLatency is FirstEffective minus
	// Requested, the delay of the injection itself.
	Effective      *float64           `json:"effective"`
	FirstEffective *float64           `json:"first_effective,omitempty"`
	EffectLatency  *float64           `json:"effect_latency,omitempty"`
	Healed         *float64           `json:"healed"`
	Measured       map[string]float64 `json:"measured,omitempty"`
	// RTO is this fault's recovery time, its longest outage; null when
	// unbounded.
	RTO *float64 `json:"rto"`
	// Outages are every outage the fault caused before its window closed,
	// in order, with their causes (checker.OutageRecord).
	Outages      []checker.OutageRecord `json:"outages,omitempty"`
	Availability *float64               `json:"availability,omitempty"`
	Errors       []string               `json:"errors,omitempty"`
}

// OutagesText says in one line what each outage of a fault was, for the
// summary and the report: "0.76 s at the effect from 10.00 s; 2.36 s after
// the heal from 20.20 s". A fault with fewer than two outages says nothing
// its RTO does not already say, so it gets "".
func (f FaultRecord) OutagesText() string {
	if len(f.Outages) < 2 {
		return ""
	}
	parts := make([]string, len(f.Outages))
	for i, o := range f.Outages {
		length := "unrecovered"
		if o.Length != nil {
			length = strconv.FormatFloat(*o.Length, 'f', 2, 64) + " s"
		}
		when := "at the effect"
		if o.Cause == checker.CauseHeal {
			when = "after the heal"
		}
		parts[i] = fmt.Sprintf("%s %s from %.2f s", length, when, o.Start)
	}
	return strings.Join(parts, "; ")
}

// Seconds converts a history time (ns since the run's start) to seconds.
func Seconds(ns int64) float64 { return float64(ns) / 1e9 }

// FaultRecords turns folded faults into verdict records.
func FaultRecords(fs []history.Fault) []FaultRecord {
	out := make([]FaultRecord, 0, len(fs))
	opt := func(ns int64) *float64 {
		if ns == 0 {
			return nil
		}
		s := Seconds(ns)
		return &s
	}
	for _, f := range fs {
		var latency *float64
		if f.FirstEffective > 0 {
			l := Seconds(f.EffectLatency())
			latency = &l
		}
		out = append(out, FaultRecord{EffectLatency: latency,
			ID: f.ID, Kind: f.Kind, Target: f.Target, Nodes: f.Nodes,
			Scheduled: Seconds(f.At), Requested: Seconds(f.Requested),
			Effective: opt(f.Effective), Healed: opt(f.Healed), FirstEffective: opt(f.FirstEffective),
			Measured: f.Measured, Errors: f.Errors,
		})
	}
	return out
}

// WriteVerdict writes verdict.json atomically (a reader never sees half).
func WriteVerdict(dir RunDir, v *Verdict) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encode verdict: %w", err)
	}
	return WriteFileAtomic(dir.File(VerdictFile), append(b, '\n'))
}

// ReadVerdict reads a run's verdict.json.
func ReadVerdict(runDir string) (*Verdict, error) {
	b, err := os.ReadFile(filepath.Join(runDir, VerdictFile))
	if err != nil {
		return nil, fmt.Errorf("read verdict: %w", err)
	}
	var v Verdict
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("decode %s: %w", filepath.Join(runDir, VerdictFile), err)
	}
	return &v, nil
}

// WriteFileAtomic writes a file of a run folder, or a report, through a
// temporary file and a rename, so that a reader (CI, a dashboard, a
// concurrent report) never sees half of it.
func WriteFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", filepath.Base(path), err)
	}
	return nil
}

package results

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// MetaFile records how a run went, as opposed to what it measured: its
// identity, its phases' times and how it ended. `hadrill check` reads it so
// that an offline re-check bounds the history exactly as the run did.
const MetaFile = "run.json"

// Meta is run.json.
type Meta struct {
	RunID   string    `json:"run_id"`
	Seed    int64     `json:"seed"`
	Started time.Time `json:"started"`
	// LoadStart is the wall-clock time of the history's time zero.
	LoadStart time.Time `json:"load_start"`
	// LoadEnd is when the load phase ended, in ns of the history's time
	// base; 0 when it never ran to an end.
	LoadEnd int64 `json:"load_end_ns"`
	// End is when the final read phase ended, in ns.
	End int64 `json:"end_ns"`
	// Image is the image the nodes ran.
	Image string `json:"image,omitempty"`
	// Engines maps each node to its Docker engine, on multi-engine runs.
	Engines     map[string]string `json:"engines,omitempty"`
	Interrupted bool              `json:"interrupted,omitempty"`
	Errors      []string          `json:"errors,omitempty"`
	// Environment lists signs that the machine, not the system, broke
	// during the run; they make the verdict unknown (EnvFinding).
	Environment []EnvFinding `json:"environment,omitempty"`
	// Abort is the abort condition that stopped the drill, nil when none
	// tripped; it makes the verdict "aborted".
	Abort *Abort `json:"abort,omitempty"`
	// Finished is when the run (teardown included) ended.
	Finished time.Time `json:"finished"`
}

// WriteMeta writes run.json.
func WriteMeta(dir RunDir, m Meta) error {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return fmt.Errorf("encode run meta: %w", err)
	}
	return WriteFileAtomic(dir.File(MetaFile), append(b, '\n'))
}

// ReadMeta reads run.json. A run folder without one (a crash before the run
// ended) gives the zero Meta and no error.
func ReadMeta(runDir string) (Meta, error) {
	var m Meta
	b, err := os.ReadFile(filepath.Join(runDir, MetaFile))
	if errors.Is(err, os.ErrNotExist) {
		return m, nil
	}
	if err != nil {
		return m, fmt.Errorf("read run meta: %w", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return m, fmt.Errorf("decode %s: %w", filepath.Join(runDir, MetaFile), err)
	}
	return m, nil
}

package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// hardState is what a node must remember across restarts besides its log:
// the highest epoch it has seen and whom it voted for in it. Without it a
// restarted node could vote twice in one epoch and elect two primaries.
type hardState struct {
	Epoch    uint64 `json:"epoch"`
	VotedFor string `json:"voted_for"`
}

const stateFile = "state.json"

// loadState reads the hard state; a missing file is the zero state.
func loadState(dir string) (hardState, error) {
	var st hardState
	b, err := os.ReadFile(filepath.Join(dir, stateFile))
	if errors.Is(err, os.ErrNotExist) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("read state: %w", err)
	}
	if err := json.Unmarshal(b, &st); err != nil {
		return st, fmt.Errorf("decode state %s: %w", filepath.Join(dir, stateFile), err)
	}
	return st, nil
}

// saveState replaces the hard state atomically: write a temporary file, sync
// it, rename it over the old one and sync the folder. The state is always
// synced, even with fsync=never: it changes once per election, and a double
// vote would be the store's own bug rather than the setting's.
func saveState(dir string, st hardState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	tmp := filepath.Join(dir, stateFile+".tmp")
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	_, err = f.Write(b)
	err = errors.Join(err, f.Sync(), f.Close())
	if err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, stateFile)); err != nil {
		return fmt.Errorf("replace state: %w", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync state folder: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync state folder: %w", err)
	}
	return nil
}

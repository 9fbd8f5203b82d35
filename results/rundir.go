// Package results owns the run folder and what a run records in it: the
// folder's layout, the verdict, run.json, the environment findings that make
// a verdict unknown, JUnit and the Markdown summary, and finding saved runs
// again (each counted once) with the readings that statistics over runs
// take from their verdicts. Everything here reads and writes files of run
// folders; nothing talks to a cluster. Reports over one run or many, the
// comparison and the Prometheus metrics are in the packages below it.
package results

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// File names inside a run folder (docs/DESIGN.md, "Result folder").
const (
	ScenarioFile  = "scenario.yaml"
	HistoryFile   = "history.jsonl"
	FaultsFile    = "faults.jsonl"
	NodesDir      = "nodes"
	VerdictFile   = "verdict.json"
	JUnitFile     = "junit.xml"
	ReportFile    = "report.html"
	SummaryFile   = "summary.md"
	LinearizeFile = "linearizability.html"
	RolesFile     = "roles.jsonl"
	LatestLink    = "latest"
)

// timeLayout names run folders. It sorts in time order and has no colons,
// which some file systems and tools reject.
const timeLayout = "20060102T150405Z"

// RunDir is one run's folder: results/<scenario>/<UTC timestamp>/.
type RunDir struct {
	Path string
}

// NewRunDir creates the folder for a run of scenario started at t, under
// root. Two runs in the same second get distinct folders.
func NewRunDir(root, scenario string, t time.Time) (RunDir, error) {
	base := filepath.Join(root, scenario, t.UTC().Format(timeLayout))
	path := base
	for i := 2; ; i++ {
		err := os.MkdirAll(filepath.Dir(path), 0o755)
		if err == nil {
			err = os.Mkdir(path, 0o755)
		}
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrExist) {
			return RunDir{}, fmt.Errorf("create run folder: %w", err)
		}
		path = base + "-" + strconv.Itoa(i)
	}
	if err := os.Mkdir(filepath.Join(path, NodesDir), 0o755); err != nil {
		return RunDir{}, fmt.Errorf("create run folder: %w", err)
	}
	return RunDir{Path: path}, nil
}

// File returns the path of a file in the run folder.
func (d RunDir) File(name string) string { return filepath.Join(d.Path, name) }

// Nodes returns the folder for node logs.
func (d RunDir) Nodes() string { return filepath.Join(d.Path, NodesDir) }

// MarkLatest points results/<scenario>/latest at this run. The link is
// relative, so a results folder can be moved or archived whole.
func (d RunDir) MarkLatest() error {
	link := filepath.Join(filepath.Dir(d.Path), LatestLink)
	tmp := link + ".tmp"
	_ = os.Remove(tmp)
	if err := os.Symlink(filepath.Base(d.Path), tmp); err != nil {
		return fmt.Errorf("link latest run: %w", err)
	}
	if err := os.Rename(tmp, link); err != nil {
		return fmt.Errorf("link latest run: %w", err)
	}
	return nil
}

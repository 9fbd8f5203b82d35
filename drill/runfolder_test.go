package drill

import (
	"os"
	"testing"

	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/results"
	"github.com/hadrill/hadrill/scenarios"
)

// storedRun writes a run folder as a run of the built-in kill-primary
// scenario leaves it: scenario.yaml, the given history and fault events
// (none is an empty faults.jsonl), and run.json from meta.
func storedRun(t *testing.T, ops []history.Op, events []history.FaultEvent, meta results.Meta) string {
	t.Helper()
	dir := t.TempDir()
	rd := results.RunDir{Path: dir}
	s, err := scenarios.Builtin("kill-primary")
	if err != nil {
		t.Fatal(err)
	}
	s.EnsureSeed()
	dump, err := s.Dump()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(rd.File(results.ScenarioFile), dump, 0o644); err != nil {
		t.Fatal(err)
	}
	writeJSONL(t, rd.File(results.HistoryFile), ops)
	writeJSONL(t, rd.File(results.FaultsFile), events)
	if err := results.WriteMeta(rd, meta); err != nil {
		t.Fatal(err)
	}
	return dir
}

// writeJSONL writes records one per line, as the run's writers do.
func writeJSONL[T any](t *testing.T, path string, records []T) {
	t.Helper()
	w, err := history.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range records {
		w.Append(r)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hadrill/hadrill/internal/testsupport"
)

// keepLogLines is how many of a node log's last lines a failed test prints:
// enough to see the system's last state transitions, bounded whatever the
// log's size.
const keepLogLines = 40

// keepResultsOnFailure makes the results folder named by args' --results
// outlive a failed test. A drill that fails on a busy CI runner is only
// worth something if the nodes' logs say why, and the test's temporary
// folder is removed when the test ends. So a failed test prints the tail of
// every node log of the runs under that folder, and copies the folder to
// $HADRILL_KEEP_FAILED (default: hadrill-failed under the temporary
// folder), naming the copy in the test log.
func keepResultsOnFailure(t testing.TB, args []string) {
	i := slices.Index(args, "--results")
	if i < 0 || i+1 >= len(args) {
		return
	}
	src := args[i+1]
	// Cleanups run last-registered first: this one runs before the removal
	// of the t.TempDir the folder usually is.
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		logs, _ := filepath.Glob(filepath.Join(src, "*", "*", "nodes", "*.log"))
		for _, l := range logs {
			if strings.Contains(l, string(filepath.Separator)+"latest"+string(filepath.Separator)) {
				continue
			}
			t.Logf("last lines of %s:\n%s", l, testsupport.Tail(l, keepLogLines))
		}
		root := os.Getenv("HADRILL_KEEP_FAILED")
		if root == "" {
			root = filepath.Join(os.TempDir(), "hadrill-failed")
		}
		dst := filepath.Join(root, strings.ReplaceAll(t.Name(), "/", "_")+"-"+time.Now().UTC().Format("20060102T150405"))
		if err := copyRegular(src, dst); err != nil {
			t.Logf("keep the failed run's results: %v", err)
			return
		}
		t.Logf("the failed run's results are kept in %s", dst)
	})
}

// copyRegular copies the folders and regular files under src to dst. The
// "latest" links are left out: os.CopyFS refuses symbolic links, and they
// only point at a run folder that is copied anyway.
func copyRegular(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		to := filepath.Join(dst, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(to, 0o755)
		case !d.Type().IsRegular():
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(to, b, 0o644)
	})
}

// failedTB is a test that has failed, recording its cleanups and logs.
type failedTB struct {
	testing.TB
	cleanups []func()
	logs     []string
}

func (f *failedTB) Failed() bool                 { return true }
func (f *failedTB) Cleanup(fn func())            { f.cleanups = append(f.cleanups, fn) }
func (f *failedTB) Logf(format string, a ...any) { f.logs = append(f.logs, fmt.Sprintf(format, a...)) }

// TestKeepResultsOnFailure: a failed test prints the last lines of every
// node log, leaves out the "latest" link, and keeps a copy of the folder.
func TestKeepResultsOnFailure(t *testing.T) {
	src := t.TempDir()
	run := filepath.Join(src, "pg-kill-primary", "20261130T000000Z")
	if err := os.MkdirAll(filepath.Join(run, "nodes"), 0o755); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	for i := range 100 {
		fmt.Fprintf(&log, "line %d\n", i)
	}
	if err := os.WriteFile(filepath.Join(run, "nodes", "n1.log"), []byte(log.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(run, filepath.Join(src, "pg-kill-primary", "latest")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HADRILL_KEEP_FAILED", t.TempDir())
	f := &failedTB{TB: t}
	keepResultsOnFailure(f, []string{"run", "pg-kill-primary", "--results", src})
	for _, fn := range f.cleanups {
		fn()
	}
	all := strings.Join(f.logs, "\n")
	if len(f.logs) != 2 || !strings.Contains(all, "line 60\n") || strings.Contains(all, "line 59\n") || !strings.Contains(all, "line 99") {
		t.Errorf("want the last %d lines of n1.log once and where the copy is; logged:\n%s", keepLogLines, all)
	}
	kept, _ := filepath.Glob(filepath.Join(os.Getenv("HADRILL_KEEP_FAILED"), "*", "pg-kill-primary", "*", "nodes", "n1.log"))
	if len(kept) != 1 {
		t.Fatalf("kept copies of n1.log: %v, want one (the run, not the latest link)", kept)
	}
	if b, err := os.ReadFile(kept[0]); err != nil || string(b) != log.String() {
		t.Errorf("kept n1.log differs: %v", err)
	}
}

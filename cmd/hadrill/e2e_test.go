package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hadrill/hadrill/internal/testsupport"
	"github.com/hadrill/hadrill/results"
)

// These tests drive the real binaries, as a user and CI do: exit codes,
// result folders and clean-up are the contract under test.

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hadrill-e2e-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	for _, pkg := range []string{"hadrill", "hakv"} {
		cmd := exec.Command("go", "build", "-trimpath", "-o", filepath.Join(dir, pkg), "github.com/hadrill/hadrill/cmd/"+pkg)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			panic("build " + pkg + ": " + err.Error() + "\n" + string(out))
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// hadrill runs the CLI and returns its exit code, stdout and stderr.
func hadrill(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	keepResultsOnFailure(t, args)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "hadrill"), args...)
	cmd.Env = append(os.Environ(), "TESTCONTAINERS_RYUK_DISABLED=true")
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("run hadrill %v: %v", args, err)
	}
	return cmd.ProcessState.ExitCode(), out.String(), errb.String()
}

// assertNothingLeft checks that no container or network of the runs under
// the results root is left. It looks only at this test's own runs (their
// IDs from run.json): other drills may share the engine.
func assertNothingLeft(t *testing.T, root string) {
	t.Helper()
	metas, _ := filepath.Glob(filepath.Join(root, "*", "2*", results.MetaFile))
	if len(metas) == 0 {
		t.Errorf("no %s under %s: cannot tell which runs are this test's", results.MetaFile, root)
	}
	for _, m := range metas {
		assertRunLeftNothing(t, filepath.Dir(m))
	}
}

// assertRunLeftNothing checks that no container or network of the run in
// the folder run is left, by the run ID its run.json names.
func assertRunLeftNothing(t *testing.T, run string) {
	t.Helper()
	meta, err := results.ReadMeta(run)
	if err != nil || meta.RunID == "" {
		t.Errorf("read run ID of %s: %v", filepath.Join(run, results.MetaFile), err)
		return
	}
	testsupport.AssertRunGone(t, meta.RunID)
}

func TestBadScenarioIsRejectedWithLineAndField(t *testing.T) {
	cases := []struct{ file, want string }{
		{"testdata/unknown-field.yaml", "testdata/unknown-field.yaml:8: workload.colour: unknown field"},
		{"testdata/bad-duration.yaml", "testdata/bad-duration.yaml:7: faults[0].at:"},
	}
	for _, c := range cases {
		for _, cmd := range []string{"validate", "run"} {
			t.Run(cmd+" "+c.file, func(t *testing.T) {
				args := []string{cmd, c.file}
				if cmd == "run" {
					args = append(args, "--results", t.TempDir())
				}
				code, _, stderr := hadrill(t, args...)
				if code != exitBadInput {
					t.Fatalf("exit %d, want %d; stderr: %s", code, exitBadInput, stderr)
				}
				if !strings.Contains(stderr, c.want) {
					t.Fatalf("stderr %q does not name the line and field %q", stderr, c.want)
				}
			})
		}
	}
}

func TestCheckNamesTheBrokenHistoryLine(t *testing.T) {
	dir := t.TempDir()
	scenario, err := os.ReadFile("testdata/short-kill.yaml")
	if err != nil {
		t.Fatal(err)
	}
	hist := `{"index":0,"process":0,"type":"invoke","f":"write","key":"k1","value":"0-1","time":1}
{"index":1,"process":0,"type":"ok","f":"write","key":"k1","value":"0-1","time":2}
{"index":2,"process":0,"type":"invoke","f":"write",BROKEN
{"index":3,"process":0,"type":"ok","f":"write","key":"k1","value":"0-2","time":4}
`
	files := map[string]string{results.ScenarioFile: string(scenario), results.MetaFile: "{}", results.HistoryFile: hist, results.FaultsFile: ""}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	code, _, stderr := hadrill(t, "check", dir)
	if code != exitBadInput {
		t.Fatalf("exit %d, want %d; stderr: %s", code, exitBadInput, stderr)
	}
	if want := "history.jsonl:3:"; !strings.Contains(stderr, want) {
		t.Fatalf("stderr %q does not name %q", stderr, want)
	}
}

func readVerdict(t *testing.T, dir string) *results.Verdict {
	t.Helper()
	v, err := results.ReadVerdict(dir)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestInterruptHealsCleansUpAndKeepsHistory sends SIGINT in the middle of
// the load, while a primary is down, as Ctrl-C would.
func TestInterruptHealsCleansUpAndKeepsHistory(t *testing.T) {
	testsupport.NeedDockerCLI(t)
	root := t.TempDir()
	cmd := exec.Command(filepath.Join(binDir, "hadrill"), "run", "testdata/short-kill.yaml", "--results", root)
	cmd.Env = append(os.Environ(), "TESTCONTAINERS_RYUK_DISABLED=true")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		// Progress lines come every 5 s in the load phase; interrupt once
		// one shows the kill (at 3 s, for 10 s) in force.
		if strings.Contains(sc.Text(), "kill(") {
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	go func() {
		for sc.Scan() {
		}
	}()
	err = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Fatalf("exit %d (%v), want %d", code, err, exitInterrupted)
	}
	assertNothingLeft(t, root)
	runs, _ := filepath.Glob(filepath.Join(root, "short-kill", "2*"))
	if len(runs) != 1 {
		t.Fatalf("want one run folder, got %v", runs)
	}
	b, err := os.ReadFile(filepath.Join(runs[0], results.HistoryFile))
	if err != nil || bytes.Count(b, []byte("\n")) < 100 {
		t.Fatalf("partial history: %d lines, err %v", bytes.Count(b, []byte("\n")), err)
	}
	var v results.Verdict
	vb, err := os.ReadFile(filepath.Join(runs[0], results.VerdictFile))
	if err != nil || json.Unmarshal(vb, &v) != nil || !v.Interrupted {
		t.Fatalf("verdict of the interrupted run: %s (%v)", vb, err)
	}
	if f := v.Faults[0]; f.Effective == nil || f.Healed == nil || len(f.Errors) > 0 {
		t.Fatalf("the kill was not in force and then healed without error: %+v", f)
	}
}

// TestClosedOutputDoesNotKillTheRun closes the reading end of hadrill's
// stdout and stderr as soon as the load begins, as `hadrill run ... | head`
// or a parent that died would. The run must still end on its own, write
// its verdict and remove its containers: a closed pipe is not a reason to
// leave a cluster behind.
func TestClosedOutputDoesNotKillTheRun(t *testing.T) {
	testsupport.NeedDockerCLI(t)
	root := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, "hadrill"), "run", "testdata/short-kill.yaml", "--results", root)
	cmd.Env = append(os.Environ(), "TESTCONTAINERS_RYUK_DISABLED=true")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	sc := bufio.NewScanner(r)
	for sc.Scan() && !strings.Contains(sc.Text(), "ops/s") {
	}
	r.Close() // every later progress line and the summary hit a closed pipe
	_ = cmd.Wait()
	if st := cmd.ProcessState; !st.Exited() || ctx.Err() != nil {
		t.Fatalf("hadrill did not exit on its own: %v (%v)", st, ctx.Err())
	}
	runs, _ := filepath.Glob(filepath.Join(root, "short-kill", "2*", results.VerdictFile))
	if len(runs) != 1 {
		t.Errorf("want the run's verdict.json, got %v (exit %d)", runs, cmd.ProcessState.ExitCode())
	}
	assertNothingLeft(t, root)
}

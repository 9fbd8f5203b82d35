package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hadrill/hadrill/results"
)

// These tests drive the built binary on a stored run folder
// (testdata/runs/tiny: a passing 20-operation run, verdict.json as the run
// recorded it), tampered as a user or a broken disk would. No Docker.

// storedRun copies testdata/runs/tiny into a fresh folder and returns it.
func storedRun(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "tiny")
	if err := os.CopyFS(dir, os.DirFS(filepath.Join("testdata", "runs", "tiny"))); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestCheckRefusesAnUncheckableRunFolder: a folder missing run.json,
// scenario.yaml or history.jsonl, or with one that cannot be read, is exit 2
// with an error line starting with that file's path; it is never passed,
// and the recorded verdict is left alone. (Before: a folder without
// run.json passed, exit 0, and verdict.json was rewritten dated year 1.)
func TestCheckRefusesAnUncheckableRunFolder(t *testing.T) {
	cases := []struct {
		name   string
		file   string
		damage func(path string) error
		want   string
	}{
		{"run.json missing", results.MetaFile, os.Remove, "missing"},
		{"scenario.yaml missing", results.ScenarioFile, os.Remove, "missing"},
		{"history.jsonl missing", results.HistoryFile, os.Remove, "missing"},
		{"run.json a folder", results.MetaFile, func(p string) error {
			if err := os.Remove(p); err != nil {
				return err
			}
			return os.Mkdir(p, 0o755)
		}, "unreadable"},
		{"run.json broken", results.MetaFile, func(p string) error { return os.WriteFile(p, []byte("{"), 0o644) }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := storedRun(t)
			path := filepath.Join(dir, tc.file)
			before, _ := os.ReadFile(filepath.Join(dir, results.VerdictFile))
			if err := tc.damage(path); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := hadrill(t, "check", dir)
			t.Logf("exit %d\n%s%s", code, stdout, stderr)
			if code != exitBadInput {
				t.Errorf("exit %d, want %d (bad input)", code, exitBadInput)
			}
			if !strings.HasPrefix(stderr, path+":") || !strings.Contains(stderr, tc.want) {
				t.Errorf("stderr does not start with %s: (%s):\n%s", path, tc.want, stderr)
			}
			if strings.Contains(stdout, "PASS") {
				t.Errorf("an uncheckable run was passed:\n%s", stdout)
			}
			after, _ := os.ReadFile(filepath.Join(dir, results.VerdictFile))
			if string(before) != string(after) {
				t.Errorf("verdict.json was rewritten")
			}
		})
	}
}

// TestCheckExitCodes: check follows run's contract. Environment failure
// recorded in run.json and an empty history are unknown, exit 3 (before:
// exit 1, the same as a failed target).
func TestCheckExitCodes(t *testing.T) {
	cases := []struct {
		name    string
		damage  func(dir string) error
		code    int
		verdict string
	}{
		{"as recorded", func(string) error { return nil }, exitOK, "PASS"},
		{"environment failed", func(dir string) error {
			return editMeta(dir, func(m map[string]any) {
				m["environment"] = []map[string]string{{"kind": "dns", "node": "n2", "detail": "n2 could not resolve n1"}}
			})
		}, exitUnknown, "UNKNOWN"},
		{"empty history", func(dir string) error {
			return os.WriteFile(filepath.Join(dir, results.HistoryFile), nil, 0o644)
		}, exitUnknown, "UNKNOWN"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := storedRun(t)
			if err := tc.damage(dir); err != nil {
				t.Fatal(err)
			}
			code, stdout, stderr := hadrill(t, "check", dir)
			t.Logf("exit %d\n%s%s", code, stdout, stderr)
			if code != tc.code || !strings.Contains(stdout, tc.verdict) {
				t.Errorf("exit %d, want %d with %s", code, tc.code, tc.verdict)
			}
		})
	}
}

func editMeta(dir string, edit func(map[string]any)) error {
	p := filepath.Join(dir, results.MetaFile)
	b, err := os.ReadFile(p)
	if err != nil {
		return err
	}
	m := map[string]any{}
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	edit(m)
	b, err = json.Marshal(m)
	if err != nil {
		return err
	}
	return os.WriteFile(p, b, 0o644)
}

// TestCheckKeepsTheRecordedVerdict: by default check prints its verdict,
// compares it with verdict.json and says where they differ, leaving the file
// as the run wrote it; --write rewrites it. (Before: every check rewrote
// verdict.json, silently.)
func TestCheckKeepsTheRecordedVerdict(t *testing.T) {
	dir := storedRun(t)
	vpath := filepath.Join(dir, results.VerdictFile)
	b, err := os.ReadFile(vpath)
	if err != nil {
		t.Fatal(err)
	}
	tampered := strings.Replace(string(b), `"verdict": "pass"`, `"verdict": "fail"`, 1)
	if err := os.WriteFile(vpath, []byte(tampered), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := hadrill(t, "check", dir)
	t.Logf("exit %d\n%s%s", code, stdout, stderr)
	if code != exitOK || !strings.Contains(stdout, "DIFFERS") || !strings.Contains(stdout, "verdict: recorded fail, now pass") {
		t.Errorf("exit %d; want 0 and the difference named", code)
	}
	if now, _ := os.ReadFile(vpath); string(now) != tampered {
		t.Errorf("verdict.json was rewritten without --write")
	}
	code, stdout, _ = hadrill(t, "check", "--write", dir)
	if now, _ := os.ReadFile(vpath); code != exitOK || !strings.Contains(string(now), `"verdict": "pass"`) {
		t.Errorf("--write: exit %d, verdict.json not rewritten:\n%s", code, stdout)
	}
	code, stdout, _ = hadrill(t, "check", dir)
	if code != exitOK || !strings.Contains(stdout, "recorded verdict: pass, the same") {
		t.Errorf("after --write: exit %d, want the same verdict:\n%s", code, stdout)
	}
}

// TestHelpStatesTheExitCodes: the contract is in --help, at the root and in
// each command that has one.
func TestHelpStatesTheExitCodes(t *testing.T) {
	cases := []struct {
		args []string
		want []string
	}{
		{[]string{"--help"}, []string{"3    unknown", "130  interrupted", "compare exits 0"}},
		{[]string{"run", "--help"}, []string{"2    bad input", "3    unknown", "exits with its verdict's code"}},
		{[]string{"check", "--help"}, []string{"2    bad input", "3    unknown", "--write"}},
		{[]string{"compare", "--help"}, []string{"0 no regression, 1 a regression, 2 bad input"}},
		{[]string{"report", "--help"}, []string{"Exit codes: 0"}},
		{[]string{"validate", "--help"}, []string{"Exit codes: 0"}},
	}
	for _, tc := range cases {
		code, stdout, _ := hadrill(t, tc.args...)
		for _, w := range tc.want {
			if code != exitOK || !strings.Contains(stdout, w) {
				t.Errorf("hadrill %s: exit %d, no %q in:\n%s", strings.Join(tc.args, " "), code, w, stdout)
			}
		}
	}
}

// TestValidateRefusesAbsurdInput: the limits give exit 2 and one error line
// per problem, each starting with file:line: and the field. (Before: all
// three files were ok.)
func TestValidateRefusesAbsurdInput(t *testing.T) {
	dir := t.TempDir()
	cases := []struct{ name, yaml, want string }{
		{"nodes.yaml", "duration: 10s\ncluster:\n  system: hakv\n  nodes: 100000\n", ":4: cluster.nodes: must be at most 32, got 100000"},
		{"rate.yaml", "duration: 10s\nworkload:\n  rate: 10000000/s\n", ":3: workload.rate: must be at most 100000/s"},
		{"duration.yaml", "duration: 87600h\n", ":1: duration: must be at most 24h0m0s"},
	}
	for _, tc := range cases {
		p := filepath.Join(dir, tc.name)
		if err := os.WriteFile(p, []byte(tc.yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		code, stdout, stderr := hadrill(t, "validate", p)
		if code != exitBadInput || !strings.HasPrefix(stderr, p+tc.want) {
			t.Errorf("%s: exit %d, want 2 and %s%s:\n%s%s", tc.name, code, p, tc.want, stdout, stderr)
		}
	}
}

// TestEveryErrorLineIsPrefixed: with two bad files and a missing one, every
// line of stderr starts with its file or with "hadrill:". (Before: the
// first line started "hadrill: file:line:", the next ones with the file.)
func TestEveryErrorLineIsPrefixed(t *testing.T) {
	dir := t.TempDir()
	a := filepath.Join(dir, "a.yaml")
	b := filepath.Join(dir, "b.yaml")
	os.WriteFile(a, []byte("duration: 10s\ncluster:\n  nodes: 0\nworkload:\n  clients: 0\n"), 0o644)
	os.WriteFile(b, []byte("duration: -1s\n"), 0o644)
	code, _, stderr := hadrill(t, "validate", a, b, filepath.Join(dir, "missing.yaml"))
	t.Logf("exit %d\n%s", code, stderr)
	lines := strings.Split(strings.TrimSpace(stderr), "\n")
	if code != exitBadInput || len(lines) < 4 {
		t.Fatalf("exit %d, %d lines; want 2 and one line per problem", code, len(lines))
	}
	for _, l := range lines {
		if !strings.HasPrefix(l, a+":") && !strings.HasPrefix(l, b+":") && !strings.HasPrefix(l, "hadrill: ") {
			t.Errorf("line not prefixed with its file or hadrill: %q", l)
		}
	}
}

// TestCheckTornLastLine: a last line cut off before its end (a crash while
// writing), with or without its newline, is the one tolerated damage: a
// warning naming file and line, then the verdict. (Before: with a newline
// it was exit 2.) A broken line anywhere else is exit 2.
func TestCheckTornLastLine(t *testing.T) {
	cases := []struct {
		name, tail string
		code       int
		stderr     string
	}{
		{"torn, newline", `{"index":40,"process":0,"type":"invoke","f":"wri` + "\n", exitOK, "history.jsonl:41: warning: dropped the last line"},
		{"torn, no newline", `{"index":40,"process":0,"type":"invoke","f":"wri`, exitOK, "history.jsonl:41: warning: dropped the last line"},
		{"broken, then a line", "{\"index\":40,\"process\":0,\"type\":\"invoke\",\"f\":\"wri\n" +
			`{"index":41,"process":1,"type":"invoke","f":"read","key":"k1","time":9000000000}` + "\n", exitBadInput, "history.jsonl:41:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := storedRun(t)
			f, err := os.OpenFile(filepath.Join(dir, results.HistoryFile), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteString(tc.tail); err != nil {
				t.Fatal(err)
			}
			f.Close()
			code, stdout, stderr := hadrill(t, "check", dir)
			t.Logf("exit %d\n%s%s", code, stdout, stderr)
			first, _, _ := strings.Cut(stderr, "\n")
			if code != tc.code || !strings.Contains(first, tc.stderr) || !strings.HasPrefix(first, dir) {
				t.Errorf("exit %d, first stderr line %q; want exit %d and a line starting with the file, containing %q", code, first, tc.code, tc.stderr)
			}
		})
	}
}

// TestCheckNamesADuplicatedLineByFileLine: a history line written twice
// breaks the recorder's contract; the verdict is unknown (exit 3) and the
// reason names the file's line, not the history index (before: "index 2:
// process 0 invoked again ...").
func TestCheckNamesADuplicatedLineByFileLine(t *testing.T) {
	dir := storedRun(t)
	path := filepath.Join(dir, results.HistoryFile)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	dup := append(append(append([]string{}, lines[:3]...), lines[2]), lines[3:]...)
	if err := os.WriteFile(path, []byte(strings.Join(dup, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := hadrill(t, "check", dir)
	t.Logf("exit %d\n%s%s", code, stdout, stderr)
	if want := path + ":4: process:"; code != exitUnknown || !strings.Contains(stdout, want) {
		t.Errorf("exit %d, want %d and the reason naming %q", code, exitUnknown, want)
	}
}

package main

import (
	"bytes"
	"encoding/xml"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hadrill/hadrill/internal/testsupport"
	"github.com/hadrill/hadrill/results"
)

// TestKillPrimaryDrills is the spine, end to end, on real containers:
//   - two sync drills pass with 0 < RTO <= 5 s, serving live metrics;
//   - an offline re-check reaches the run's verdict;
//   - each run folder holds a report with plots, a summary and JUnit;
//   - the async drill loses writes and exits 1;
//   - compare finds no regression of a set against itself, and the RPO
//     regression from sync to async;
//   - report builds a drill report over both sets.
func TestKillPrimaryDrills(t *testing.T) {
	testsupport.NeedDockerCLI(t)
	base, cand := t.TempDir(), t.TempDir()
	addr := freeAddr(t)
	promFile := filepath.Join(t.TempDir(), "hadrill.prom")
	growth := watchOpsCounter(t, addr)
	code, stdout, stderr := hadrill(t, "run", "kill-primary", "--repeat", "2", "--results", base,
		"--metrics-addr", addr, "--metrics-file", promFile, "--junit", filepath.Join(base, "all.xml"))
	t.Logf("stdout:\n%s", stdout)
	if code != exitOK {
		t.Fatalf("kill-primary exit %d, want 0; stderr:\n%s", code, stderr)
	}
	if g := <-growth; g <= 0 {
		t.Errorf("the live ops counter did not grow during the run (%v)", g)
	}
	checkMetricsFile(t, promFile)
	runs, _ := filepath.Glob(filepath.Join(base, "kill-primary", "2*"))
	if len(runs) != 2 {
		t.Fatalf("--repeat 2 made %v", runs)
	}
	for _, dir := range runs {
		v := readVerdict(t, dir)
		rto := v.Checks["rto"]
		if v.Verdict != "pass" || rto.Value == nil || *rto.Value <= 0 || *rto.Value > 5 {
			t.Fatalf("%s: verdict %s, rto %+v: want pass with 0 < rto <= 5s", dir, v.Verdict, rto)
		}
		checkRunFiles(t, dir)
	}
	recheck(t, filepath.Join(base, "kill-primary", "latest"))

	code, stdout, stderr = hadrill(t, "run", "kill-primary-async", "--results", cand)
	t.Logf("stdout:\n%s", stdout)
	if code != exitFailed {
		t.Fatalf("kill-primary-async exit %d, want 1; stderr:\n%s", code, stderr)
	}
	v := readVerdict(t, filepath.Join(cand, "kill-primary-async", "latest"))
	if rpo := v.Checks["rpo"]; rpo.Result != "fail" || rpo.Value == nil || *rpo.Value <= 0 {
		t.Fatalf("rpo %+v: want fail with lost writes > 0", rpo)
	}
	assertNothingLeft(t, base)
	assertNothingLeft(t, cand)

	if code, out, errs := hadrill(t, "compare", base, base); code != exitOK {
		t.Errorf("compare a set with itself: exit %d, want 0\n%s\n%s", code, out, errs)
	}
	code, out, errs := hadrill(t, "compare", base, cand)
	if code != exitFailed || !strings.Contains(strings.ToLower(out), "rpo") {
		t.Errorf("compare sync with async: exit %d, want 1 naming the rpo regression\n%s\n%s", code, out, errs)
	}
	drill := filepath.Join(t.TempDir(), "drill.html")
	if code, out, errs := hadrill(t, "report", base, cand, "-o", drill); code != exitOK {
		t.Fatalf("report: exit %d\n%s\n%s", code, out, errs)
	}
	html, _ := os.ReadFile(drill)
	for _, want := range []string{"kill-primary-async", "kill-primary", "<svg", "rojection"} {
		if !bytes.Contains(html, []byte(want)) {
			t.Errorf("drill report lacks %q", want)
		}
	}
}

// recheck runs `hadrill check --write` on a run and wants the same verdict,
// said on stdout and written to the same verdict file.
func recheck(t *testing.T, dir string) {
	t.Helper()
	before, _ := os.ReadFile(filepath.Join(dir, results.VerdictFile))
	code, stdout, stderr := hadrill(t, "check", "--write", dir)
	if code != exitOK || !strings.Contains(stdout, "recorded verdict: pass, the same") {
		t.Fatalf("check exit %d, want 0 and the same verdict; stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	after, _ := os.ReadFile(filepath.Join(dir, results.VerdictFile))
	if !bytes.Equal(before, after) {
		t.Fatalf("check rewrote a different verdict:\nrun:   %s\ncheck: %s", before, after)
	}
}

// checkRunFiles checks the per-run reports: plots in report.html, a short
// summary, and JUnit that parses with one case per check (five).
func checkRunFiles(t *testing.T, dir string) {
	t.Helper()
	html, err := os.ReadFile(filepath.Join(dir, results.ReportFile))
	if err != nil || !bytes.Contains(html, []byte("<svg")) {
		t.Errorf("report.html: %v, has <svg: %v", err, bytes.Contains(html, []byte("<svg")))
	}
	if md, err := os.ReadFile(filepath.Join(dir, results.SummaryFile)); err != nil || len(md) == 0 {
		t.Errorf("summary.md: %v", err)
	}
	b, err := os.ReadFile(filepath.Join(dir, results.JUnitFile))
	var doc results.JUnit
	if err != nil || xml.Unmarshal(b, &doc) != nil || doc.Tests != 5 {
		t.Errorf("junit.xml does not parse to 5 cases: %v\n%s", err, b)
	}
}

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hadrill/hadrill/internal/testsupport"
)

// testEngines gives two Docker engines of the test's own
// (testsupport.Engines), after checking the main engine.
func testEngines(t *testing.T) []string {
	t.Helper()
	testsupport.NeedDockerCLI(t)
	return testsupport.Engines(t, "e")
}

// engineLeftovers lists what a run may leave on an engine: Swarm state,
// docker_gwbridge, and anything labelled hadrill.run.
func engineLeftovers(t *testing.T, engine string) string {
	t.Helper()
	var found []string
	for _, args := range [][]string{
		{"info", "--format", "{{.Swarm.LocalNodeState}}"},
		{"ps", "-aq", "--filter", "label=hadrill.run"},
		{"network", "ls", "-q", "--filter", "label=hadrill.run"},
		{"network", "ls", "-q", "--filter", "name=docker_gwbridge"},
	} {
		out, err := exec.Command("docker", append([]string{"--context", engine}, args...)...).Output()
		if err != nil {
			t.Fatalf("docker %v on %s: %v", args, engine, err)
		}
		if s := strings.TrimSpace(string(out)); s != "" && s != "inactive" {
			found = append(found, strings.Join(args[:2], " ")+": "+s)
		}
	}
	return strings.Join(found, "; ")
}

// TestTwoEngineDrills runs kill-primary and partition-primary at once
// (--parallel 2), each with its nodes spread over the same two engines,
// which the runs share in one Swarm. Both must pass as on one engine, name
// each node's engine in the verdict, write one JUnit file, and leave both
// engines as they were found.
func TestTwoEngineDrills(t *testing.T) {
	engines := testEngines(t)
	dir := t.TempDir()
	junit := filepath.Join(dir, "suite.xml")
	code, stdout, stderr := hadrill(t, "run", "--parallel", "2", "kill-primary", "partition-primary",
		"--results", dir, "--junit", junit, "--set", "cluster.engines=["+strings.Join(engines, ",")+"]")
	t.Logf("stdout:\n%s", stdout)
	if code != exitOK {
		t.Fatalf("two drills on %v: exit %d, want 0; stderr:\n%s", engines, code, stderr)
	}
	for _, name := range []string{"kill-primary", "partition-primary"} {
		v := readVerdict(t, filepath.Join(dir, name, "latest"))
		on := map[string]int{}
		for _, e := range v.Engines {
			on[e]++
		}
		if len(v.Engines) != 3 || on[engines[0]] != 2 || on[engines[1]] != 1 {
			t.Errorf("%s: verdict engines = %v, want n1..n3 spread 2+1 over %v", name, v.Engines, engines)
		}
		if rto := v.Checks["rto"]; rto.Value == nil || *rto.Value <= 0 || *rto.Value > 5 {
			t.Errorf("%s: rto %+v: want 0 < rto <= 5s", name, rto)
		}
	}
	b, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "<testsuite "); n != 2 {
		t.Errorf("junit has %d suites, want 2 in one file", n)
	}
	for _, e := range engines {
		if left := engineLeftovers(t, e); left != "" {
			t.Errorf("engine %s after the runs: %s", e, left)
		}
	}
}

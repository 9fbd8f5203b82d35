package main

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/internal/testsupport"
	"github.com/hadrill/hadrill/results"
)

// TestAgentFaultDrills runs the built-in drills whose faults the node agent
// applies, and checks each verdict for the reason the drill exists: the safe
// configuration passes, the unsafe ones fail linearizability, the loss the
// agent measured is the loss asked for, and a stalled disk yields an RTO.
func TestAgentFaultDrills(t *testing.T) {
	testsupport.NeedDockerCLI(t)
	root := t.TempDir()
	cases := []struct {
		scenario string
		exit     int
		check    func(t *testing.T, v *results.Verdict, dir string)
	}{
		{"partition-primary", exitOK, nil},
		{"split-brain", exitFailed, linearizabilityFails},
		{"stale-reads", exitFailed, linearizabilityFails},
		{"packet-loss", exitOK, func(t *testing.T, v *results.Verdict, _ string) {
			loss := v.Faults[0].Measured["loss_percent"]
			seen := v.Faults[0].Measured["packets_seen"]
			t.Logf("measured loss %.1f%% over %.0f packets", loss, seen)
			if loss < 25 || loss > 35 || seen < 1000 {
				t.Errorf("measured loss %.1f%% over %.0f packets: want 30±5%% over at least 1000", loss, seen)
			}
		}},
		{"disk-stall-primary", exitOK, func(t *testing.T, v *results.Verdict, _ string) {
			rto := v.Checks["rto"]
			if rto.Value == nil || *rto.Value <= 0 {
				t.Errorf("rto %+v: want a measured recovery time after the stall", rto)
			}
			if stalled := v.Faults[0].Measured["ops_stalled"]; stalled < 1 {
				t.Errorf("the agent stalled %v I/O operations, want at least 1", stalled)
			}
		}},
	}
	for _, c := range cases {
		t.Run(c.scenario, func(t *testing.T) {
			code, stdout, stderr := hadrill(t, "run", c.scenario, "--results", root)
			t.Logf("stdout:\n%s", stdout)
			if code != c.exit {
				t.Fatalf("exit %d, want %d; stderr:\n%s", code, c.exit, stderr)
			}
			dir := filepath.Join(root, c.scenario, "latest")
			v := readVerdict(t, dir)
			for _, f := range v.Faults {
				if f.Effective == nil || f.Healed == nil || len(f.Errors) > 0 {
					t.Errorf("fault %+v: want it effective and healed, without errors", f)
				}
			}
			if c.check != nil {
				c.check(t, v, dir)
			}
			assertNothingLeft(t, root)
		})
	}
}

func linearizabilityFails(t *testing.T, v *results.Verdict, dir string) {
	t.Helper()
	if lin := v.Checks["linearizability"]; lin.Result != "fail" {
		t.Errorf("linearizability %+v: want fail", lin)
	}
	if _, err := os.Stat(filepath.Join(dir, results.LinearizeFile)); err != nil {
		t.Errorf("no porcupine visualization next to the verdict: %v", err)
	}
}

// TestSameSeedSameSchedule runs the random nemesis twice with one seed: the
// schedule lines that open faults.jsonl must be the same bytes.
func TestSameSeedSameSchedule(t *testing.T) {
	testsupport.NeedDockerCLI(t)
	var schedules []string
	for range 2 {
		root := t.TempDir()
		code, stdout, stderr := hadrill(t, "run", "random-faults", "--seed", "7", "--set", "duration=17s", "--results", root)
		if code != exitOK && code != exitFailed && code != exitUnknown { // a verdict, whichever
			t.Fatalf("exit %d; stdout:\n%s\nstderr:\n%s", code, stdout, stderr)
		}
		b, err := os.ReadFile(filepath.Join(root, "random-faults", "latest", results.FaultsFile))
		if err != nil {
			t.Fatal(err)
		}
		var lines []string
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			if strings.Contains(sc.Text(), `"type":"`+string(history.FaultScheduled)+`"`) {
				lines = append(lines, sc.Text())
			}
		}
		if len(lines) < 2 {
			t.Fatalf("%d scheduled faults in:\n%s", len(lines), b)
		}
		schedules = append(schedules, strings.Join(lines, "\n"))
		assertNothingLeft(t, root)
	}
	if schedules[0] != schedules[1] {
		t.Fatalf("same seed, different schedules:\n%s\n---\n%s", schedules[0], schedules[1])
	}
}

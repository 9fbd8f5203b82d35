package cluster

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"testing"

	"github.com/moby/moby/client"
)

// deadOwner starts and ends a process and returns it as an owner: its pid
// is free (or reused by another process, which the start token tells apart).
func deadOwner(t *testing.T) Owner {
	t.Helper()
	cmd := exec.Command("sleep", "60")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tok, err := startToken(cmd.Process.Pid)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Process.Kill()
	cmd.Wait()
	host, _ := os.Hostname()
	return Owner{Host: host, PID: cmd.Process.Pid, Start: tok}
}

func TestOwnerAlive(t *testing.T) {
	if got := Self().Alive(); got != OwnerAlive {
		t.Errorf("this process: %v, want alive", got)
	}
	if got := deadOwner(t).Alive(); got != OwnerGone {
		t.Errorf("an exited process: %v, want gone", got)
	}
	reused := Self()
	reused.Start = "another-boot:1"
	if got := reused.Alive(); got != OwnerGone {
		t.Errorf("a live pid with another start token (pid reuse): %v, want gone", got)
	}
	far := Self()
	far.Host = "not-" + far.Host
	if got := far.Alive(); got != OwnerUnknown {
		t.Errorf("another host: %v, want unknown", got)
	}
}

// TestCleanupJudge: without flags only runs of dead owners go; --run and
// --force remove whatever they are given. No engine is touched.
func TestCleanupJudge(t *testing.T) {
	labels := func(run string, o *Owner) map[string]string {
		l := map[string]string{LabelRun: run}
		if o != nil {
			for k, v := range o.Labels() {
				l[k] = v
			}
		}
		return l
	}
	self, dead := Self(), deadOwner(t)
	cases := map[string]map[string]string{
		"live": labels("live", &self), "dead": labels("dead", &dead), "legacy": labels("legacy", nil),
	}
	j := judge{skip: map[string]string{}}
	for name, l := range cases {
		if got, want := j.mayRemove(l), name == "dead"; got != want {
			t.Errorf("no flags, run %s: remove %v, want %v", name, got, want)
		}
	}
	var kept []string
	for _, s := range j.skipped() {
		kept = append(kept, s.RunID)
		t.Logf("skipped %s: %s", s.RunID, s.Reason)
	}
	if !slices.Equal(kept, []string{"legacy", "live"}) {
		t.Errorf("skipped %v, want [legacy live]", kept)
	}
	for _, opt := range []CleanupOptions{{Force: true}, {RunID: "live"}} {
		j := judge{opt: opt, skip: map[string]string{}}
		if !j.mayRemove(cases["live"]) {
			t.Errorf("%+v: a live run was kept", opt)
		}
	}
}

// TestCleanupSparesLiveRuns makes two runs' networks on the real engine, one
// owned by this (live) test process and one by an exited process: a
// cleanup without flags removes only the second and names the first.
func TestCleanupSparesLiveRuns(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	cli, err := connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	live, gone := testRunID(t)+"-live", testRunID(t)+"-gone"
	dead := deadOwner(t)
	for run, owner := range map[string]Owner{live: Self(), gone: dead} {
		l := owner.Labels()
		l[LabelRun] = run
		if _, err := cli.NetworkCreate(ctx, "hadrill-"+run, client.NetworkCreateOptions{Driver: "bridge", Labels: l}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { removeNetwork(ctx, cli, "hadrill-"+run) })
	}
	r, err := Cleanup(ctx, CleanupOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, nets := leftovers(t, gone); nets != 0 {
		t.Errorf("the run of exited pid %d was not removed", dead.PID)
	}
	if _, nets := leftovers(t, live); nets != 1 {
		t.Errorf("the live run was removed")
	}
	if !slices.ContainsFunc(r.Skipped, func(s Skipped) bool { return s.RunID == live }) {
		t.Errorf("skipped %+v: want %s named", r.Skipped, live)
	}
}

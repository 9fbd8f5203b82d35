package cleanup

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/hadrill/hadrill/cluster/engine"
	"github.com/hadrill/hadrill/cluster/label"
	"github.com/hadrill/hadrill/internal/testsupport"
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

// TestZombieOwnerIsGone starts a child process, lets it exit and does not
// wait for it, so that it stays a zombie (state Z) as a SIGKILLed drill does
// until its parent reaps it: the owner must be judged gone, where the same
// process was judged alive while it ran.
func TestZombieOwnerIsGone(t *testing.T) {
	cmd := exec.Command("sh", "-c", "read line")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pid := cmd.Process.Pid
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	tok, err := startToken(pid)
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	owner := Owner{Host: host, PID: pid, Start: tok}
	if got := owner.Alive(); got != OwnerAlive {
		t.Fatalf("the running child: %v, want alive", got)
	}
	stdin.Close() // read ends, and so does the child; nobody waits for it
	deadline := time.Now().Add(time.Minute)
	for {
		st, err := readProc(pid)
		if err != nil {
			t.Fatalf("the unreaped child vanished from /proc: %v", err)
		}
		if st.state == "Z" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the child is in state %s a minute after its stdin closed, not a zombie", st.state)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := owner.Alive(); got != OwnerGone {
		t.Errorf("a zombie (exited, not reaped): %v, want gone", got)
	}
}

// TestSweepJudge: without flags only runs of dead owners go; --run and
// --force remove whatever they are given. No engine is touched.
func TestSweepJudge(t *testing.T) {
	labels := func(run string, o *Owner) map[string]string {
		l := map[string]string{label.Run: run}
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
	for _, opt := range []Options{{Force: true}, {RunID: "live"}} {
		j := judge{opt: opt, skip: map[string]string{}}
		if !j.mayRemove(cases["live"]) {
			t.Errorf("%+v: a live run was kept", opt)
		}
	}
}

// TestSweepSparesLiveRuns makes two runs' networks on the real engine, one
// owned by this (live) test process and one by an exited process: a
// cleanup without flags removes only the second and names the first.
func TestSweepSparesLiveRuns(t *testing.T) {
	testsupport.NeedDocker(t)
	ctx := context.Background()
	cli, err := engine.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	live, gone := testsupport.RunID(t)+"-live", testsupport.RunID(t)+"-gone"
	dead := deadOwner(t)
	for run, owner := range map[string]Owner{live: Self(), gone: dead} {
		l := owner.Labels()
		l[label.Run] = run
		if _, err := cli.NetworkCreate(ctx, "hadrill-"+run, client.NetworkCreateOptions{Driver: "bridge", Labels: l}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { engine.RemoveNetwork(ctx, cli, "hadrill-"+run) })
	}
	r, err := Sweep(ctx, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, nets := testsupport.Leftovers(t, gone); nets != 0 {
		t.Errorf("the run of exited pid %d was not removed", dead.PID)
	}
	if _, nets := testsupport.Leftovers(t, live); nets != 1 {
		t.Errorf("the live run was removed")
	}
	if !slices.ContainsFunc(r.Skipped, func(s Skipped) bool { return s.RunID == live }) {
		t.Errorf("skipped %+v: want %s named", r.Skipped, live)
	}
}

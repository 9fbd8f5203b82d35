package hakv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/workload"
	"github.com/hadrill/hadrill/workload/workloadtest"
)

// hakvProc is one hakv process of the integration test.
type hakvProc struct {
	id, addr, data, log string
	cmd                 *exec.Cmd
}

// buildHakv builds cmd/hakv into a temp folder, or skips when the tree has no
// cmd/hakv yet.
func buildHakv(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "cmd", "hakv", "main.go")); err != nil {
		t.Skip("cmd/hakv is not in the tree")
	}
	bin := filepath.Join(t.TempDir(), "hakv")
	build := exec.Command("go", "build", "-o", bin, "./cmd/hakv")
	build.Dir = root
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build hakv: %v\n%s", err, out)
	}
	return bin
}

// freePort returns a 127.0.0.1 address that was free a moment ago.
func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startHakv starts (or restarts) p with the cluster's flags.
func startHakv(bin, peers string, p *hakvProc) error {
	logf, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	p.cmd = exec.Command(bin, "--id", p.id, "--listen", p.addr, "--peers", peers, "--data", p.data,
		"--replication", "sync", "--election", "quorum",
		"--heartbeat", "100ms", "--failover-timeout", "1s", "--fsync", "always")
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", p.id, err)
	}
	return nil
}

func (p *hakvProc) kill() {
	if p.cmd != nil && p.cmd.Process != nil {
		_ = p.cmd.Process.Kill()
		_ = p.cmd.Wait()
	}
}

// startCluster starts three hakv processes on 127.0.0.1 and waits for a
// primary.
func startCluster(t *testing.T, bin string) []*hakvProc {
	dir := t.TempDir()
	var procs []*hakvProc
	var peers []string
	for i := 1; i <= 3; i++ {
		p := &hakvProc{id: fmt.Sprintf("n%d", i), addr: freePort(t)}
		p.data, p.log = filepath.Join(dir, p.id), filepath.Join(dir, p.id+".log")
		procs = append(procs, p)
		peers = append(peers, p.id+"="+p.addr)
	}
	for _, p := range procs {
		if err := startHakv(bin, strings.Join(peers, ","), p); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for _, p := range procs {
			p.kill()
			if t.Failed() {
				b, _ := os.ReadFile(p.log)
				t.Logf("log of %s (tail):\n%s", p.id, tail(string(b), 3000))
			}
		}
	})
	if primaryOf(procs, 10*time.Second) == nil {
		t.Fatal("no primary within 10s")
	}
	return procs
}

// primaryOf polls /status until a node says it is the primary.
func primaryOf(procs []*hakvProc, wait time.Duration) *hakvProc {
	deadline := time.Now().Add(wait)
	hc := &http.Client{Timeout: 200 * time.Millisecond}
	for time.Now().Before(deadline) {
		for _, p := range procs {
			resp, err := hc.Get("http://" + p.addr + "/status")
			if err != nil {
				continue
			}
			var st struct{ Role string }
			err = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if err == nil && st.Role == "primary" {
				return p
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return nil
}

func tail(s string, n int) string { return s[max(0, len(s)-n):] }

// TestHakvIntegration runs the workload against three real hakv processes
// (sync replication, quorum election), kills the primary a second in and
// restarts it a second later, then reads the ledger back. Sync replication
// loses nothing, so every acknowledged ledger write must be read back; and
// an op that only reached the dead node must be a definite fail.
func TestHakvIntegration(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs hakv")
	}
	bin := buildHakv(t)
	procs := startCluster(t, bin)
	eps := map[string]string{}
	for _, p := range procs {
		eps[p.id] = p.addr
	}
	path := filepath.Join(t.TempDir(), "history.jsonl")
	if p := os.Getenv("HADRILL_KEEP_HISTORY"); p != "" {
		path = p // keep the history to look at
	}
	w, err := history.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	kv := NewClient(eps, 4)
	defer kv.CloseIdleConnections()
	rec := workload.NewRecorder(w, time.Now())
	r := workload.NewRunner(kv, rec)
	peers := strings.Join(func() []string {
		var s []string
		for _, p := range procs {
			s = append(s, p.id+"="+p.addr)
		}
		return s
	}(), ",")
	// The nemesis: kill the primary at 1s, restart it at 2s.
	fault := make(chan faultTimes, 1)
	go func() {
		var f faultTimes
		defer func() { fault <- f }()
		time.Sleep(time.Second)
		if f.victim = primaryOf(procs, time.Second); f.victim == nil {
			return
		}
		f.victim.kill()
		f.died = rec.Now()
		time.Sleep(100 * time.Millisecond)
		// A write aimed straight at the dead node: refused, so definite.
		f.probe = kv.Put(context.Background(), f.victim.id, "probe", "x")
		time.Sleep(900 * time.Millisecond)
		f.restarted = rec.Now()
		f.err = startHakv(bin, peers, f.victim)
	}()
	st, err := r.Run(context.Background(), workload.Config{Clients: 4, Rate: 200, Duration: 3 * time.Second, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	f := <-fault
	if f.victim == nil || f.err != nil {
		t.Fatalf("kill and restart the primary: victim %v, %v", f.victim, f.err)
	}
	fin, err := r.FinalRead(context.Background(), 15*time.Second)
	if err != nil {
		t.Fatalf("final read: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("load: %+v; final read: %+v; killed %s at %dms, restarted at %dms",
		st, fin, f.victim.id, f.died/1e6, f.restarted/1e6)
	checkIntegrationHistory(t, path, f, fin)
}

// faultTimes is what the test's nemesis did, in the run's time base.
type faultTimes struct {
	victim          *hakvProc
	died, restarted int64
	probe           error // a write sent to the dead node
	err             error
}

// checkIntegrationHistory asserts what the integration run must show.
func checkIntegrationHistory(t *testing.T, path string, f faultTimes, fin workload.FinalStats) {
	ops, torn, err := history.ReadFile[history.Op](path)
	if err != nil || torn != nil {
		t.Fatalf("read history: torn %v, %v", torn, err)
	}
	workloadtest.CheckSequential(t, ops)
	if !errors.Is(f.probe, workload.ErrUnreachable) || workload.Classify(f.probe, true) != history.Fail {
		t.Errorf("write to the dead node: %v, want unreachable, a definite fail", f.probe)
	}
	var total, ok, okWritesAfter int
	invoked := map[int]int64{} // process -> time of its open invocation
	for _, op := range ops {
		if op.Type == history.Invoke {
			invoked[op.Process] = op.Time
			continue
		}
		total++
		if op.Type == history.OK {
			ok++
			if op.F == history.Write && op.Time > f.restarted {
				okWritesAfter++
			}
		}
		if op.F == history.FinalRead && (op.Type != history.OK || op.Value == "") {
			t.Errorf("acknowledged ledger write %s not read back: %+v", op.Key, op)
		}
		// Well after the kill (stale keep-alive connections are gone) and
		// before the restart, an op whose last attempt went to the dead node
		// never reached it: a definite fail.
		inv := invoked[op.Process]
		dead := op.Node == f.victim.id && inv > f.died+int64(200*time.Millisecond) && op.Time < f.restarted
		if dead && op.Type != history.Fail {
			t.Errorf("op %d on dead node %s is %s, want fail: %s", op.Index, op.Node, op.Type, op.Error)
		}
		if strings.Contains(op.Error, "connection refused") && op.Type != history.Fail {
			t.Errorf("op %d refused but %s: %s", op.Index, op.Type, op.Error)
		}
	}
	// About a third of the run has no primary (failover timeout 1s), and
	// CAS mismatches fail too.
	if total < 200 || ok < total/4 {
		t.Errorf("%d ops recorded, %d ok: want a few hundred, a good share ok", total, ok)
	}
	if okWritesAfter == 0 {
		t.Error("no acknowledged write after the failover: the clients did not find the new primary")
	}
	if fin.Acked == 0 || fin.Present != fin.Acked {
		t.Errorf("final read %+v: want every acknowledged ledger write present", fin)
	}
}

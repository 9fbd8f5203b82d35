package store

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hadrill/hadrill/internal/testsupport"
)

// hakvBin is the binary under test, built once by TestMain.
var hakvBin string

// fast are the timings the process tests use, so failovers take about a
// second instead of the defaults' two or three.
var fast = []string{"--heartbeat=100ms", "--failover-timeout=1s"}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hakv-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "create temp dir:", err)
		os.Exit(1)
	}
	hakvBin = filepath.Join(dir, "hakv")
	// HAKV_TEST_RACE=1 builds the processes under test with the race
	// detector (which needs cgo); the default is the static binary.
	args, env := []string{"build", "-o", hakvBin}, "CGO_ENABLED=0"
	if os.Getenv("HAKV_TEST_RACE") == "1" {
		args, env = append(args, "-race"), "CGO_ENABLED=1"
	}
	cmd := exec.Command("go", append(args, "github.com/hadrill/hadrill/cmd/hakv")...)
	cmd.Env = append(os.Environ(), env)
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build hakv: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// testNode is one hakv process, restartable on the same port and data.
type testNode struct {
	id, addr, data, logPath string
	args                    []string
	cmd                     *exec.Cmd
	done                    chan struct{}
	exit                    *os.ProcessState // set when done is closed
}

// testCluster runs hakv processes on 127.0.0.1 for one test and kills them
// all at the end, printing their logs when the test failed.
type testCluster struct {
	t     testing.TB
	nodes []*testNode
	hc    *http.Client
	// started is when startCluster started the first process: the start
	// of the cluster's first election (see firstElection).
	started time.Time
}

// startCluster starts size nodes with the given extra flags (later flags win
// over earlier ones, so callers may override fast).
func startCluster(t testing.TB, size int, flags ...string) *testCluster {
	t.Helper()
	c := newCluster(t, size, flags...)
	c.started = time.Now()
	for i := range c.nodes {
		c.start(i)
	}
	return c
}

// firstElection waits for the first primary of a cluster started together
// by startCluster and returns it with how long that took from the start:
// the baseline a failover of the same cluster is judged against. It is the
// same mechanism as a failover, in the same window on the same machine: a
// node starts as a standby that has just "heard" a primary, so it stands
// only after an election timeout drawn from the failover timeout to 1.5
// times it, and wins a pre-vote and a vote; a starved machine stretches
// both alike. It can never be shorter than the failover timeout.
func (c *testCluster) firstElection() (p int, st Status, took time.Duration) {
	c.t.Helper()
	p, st = c.waitPrimary(anyPrimary)
	return p, st, time.Since(c.started)
}

// startUnilateral starts a two-node cluster with unilateral election one
// node at a time, and returns it with its primary and that primary's
// status. Started together, on a busy machine both nodes can promote before
// either hears the other (seen: 10 ms apart), and unilateral election never
// heals that split: it is what the setting exists to show, so a test that
// wants a split must make it.
func startUnilateral(t testing.TB, flags ...string) (*testCluster, int, Status) {
	t.Helper()
	c := newCluster(t, 2, flags...)
	c.start(0)
	p, st := c.waitPrimary(anyPrimary)
	c.start(1)
	return c, p, st
}

// newCluster lays out a cluster of size nodes without starting any, for a
// test that must choose the order (startCluster starts them all).
func newCluster(t testing.TB, size int, flags ...string) *testCluster {
	t.Helper()
	dir := t.TempDir()
	ports := freePorts(t, size)
	var peers []string
	for i, p := range ports {
		peers = append(peers, fmt.Sprintf("n%d=127.0.0.1:%d", i+1, p))
	}
	c := &testCluster{t: t, hc: &http.Client{
		Timeout:   3 * time.Second,
		Transport: &http.Transport{DialContext: (&net.Dialer{Timeout: time.Second}).DialContext},
	}}
	for i, p := range ports {
		n := &testNode{
			id: fmt.Sprintf("n%d", i+1), addr: fmt.Sprintf("127.0.0.1:%d", p),
			data: filepath.Join(dir, fmt.Sprintf("n%d", i+1)), logPath: filepath.Join(dir, fmt.Sprintf("n%d.log", i+1)),
		}
		n.args = append([]string{"--id", n.id, "--listen", n.addr, "--peers", strings.Join(peers, ","), "--data", n.data}, flags...)
		c.nodes = append(c.nodes, n)
	}
	t.Cleanup(c.shutdown)
	return c
}

func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var ports []int
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("pick a free port: %v", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}

func (c *testCluster) start(i int) {
	c.t.Helper()
	n := c.nodes[i]
	logf, err := os.OpenFile(n.logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		c.t.Fatalf("open log of %s: %v", n.id, err)
	}
	cmd := exec.Command(hakvBin, n.args...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		c.t.Fatalf("start %s: %v", n.id, err)
	}
	n.cmd, n.done = cmd, make(chan struct{})
	go func(done chan struct{}) {
		cmd.Wait()
		logf.Close()
		n.exit = cmd.ProcessState
		close(done)
	}(n.done)
}

// kill SIGKILLs node i and waits until it is gone.
func (c *testCluster) kill(i int) {
	n := c.nodes[i]
	if n.cmd == nil {
		return
	}
	n.cmd.Process.Signal(syscall.SIGKILL)
	<-n.done
	n.cmd = nil
}

// freeze stops node i with SIGSTOP and returns once every thread of it is
// stopped: kill(2) returns before the signal lands, and on a busy machine a
// node may otherwise still answer a replication request or two.
func (c *testCluster) freeze(i int) {
	c.t.Helper()
	c.signal(i, syscall.SIGSTOP)
	waitFor(c.t, c.nodes[i].id+" to stop", func() bool { return c.stopped(i) })
}

func (c *testCluster) signal(i int, sig syscall.Signal) {
	c.t.Helper()
	if err := c.nodes[i].cmd.Process.Signal(sig); err != nil {
		c.t.Fatalf("signal %s to %s: %v", sig, c.nodes[i].id, err)
	}
}

// stopped reports whether every thread of node i is stopped (state T), so
// that a SIGSTOP has really landed: signal delivery is asynchronous.
func (c *testCluster) stopped(i int) bool {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/stat", c.nodes[i].cmd.Process.Pid))
	for _, task := range tasks {
		b, err := os.ReadFile(task)
		if err != nil {
			return false
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) == 0 || (f[0] != "T" && f[0] != "t") {
			return false
		}
	}
	return len(tasks) > 0
}

func (c *testCluster) shutdown() {
	for i, n := range c.nodes {
		if n.cmd != nil {
			n.cmd.Process.Signal(syscall.SIGCONT)
			c.kill(i)
		}
	}
	c.hc.CloseIdleConnections()
	for i, n := range c.nodes {
		if strings.Contains(c.logOf(i), "WARNING: DATA RACE") {
			c.t.Errorf("%s reported a data race", n.id)
		}
	}
	if !c.t.Failed() {
		return
	}
	for _, n := range c.nodes {
		c.t.Logf("---- log of %s (last lines) ----\n%s", n.id, testsupport.Tail(n.logPath, 60))
	}
}

func (c *testCluster) logOf(i int) string {
	b, _ := os.ReadFile(c.nodes[i].logPath)
	return string(b)
}

func (c *testCluster) status(i int) (Status, error) {
	var st Status
	// Short: a frozen (SIGSTOPped) node must not stall a poll of the others.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+c.nodes[i].addr+"/status", nil)
	if err != nil {
		return st, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	err = json.NewDecoder(resp.Body).Decode(&st)
	return st, err
}

// mustStatus asks running node i for its status until it answers, failing
// the test after hangGuard. status gives up after half a second so that a
// frozen node cannot stall a poll of the others; a live node on a starved
// machine can take longer than that, and a test that needs its answer
// waits for it.
func (c *testCluster) mustStatus(i int) Status {
	c.t.Helper()
	var st Status
	waitFor(c.t, c.nodes[i].id+" to answer a status request", func() bool {
		s, err := c.status(i)
		st = s
		return err == nil
	})
	return st
}

// put writes key on node i; with ifOld non-nil it is a compare-and-set.
func (c *testCluster) put(i int, key, value string, ifOld *string) (int, http.Header, error) {
	u := "http://" + c.nodes[i].addr + "/kv/" + url.PathEscape(key)
	if ifOld != nil {
		u += "?if=" + url.QueryEscape(*ifOld)
	}
	req, err := http.NewRequest(http.MethodPut, u, strings.NewReader(value))
	if err != nil {
		return 0, nil, err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header, nil
}

func (c *testCluster) get(i int, key string) (int, string, error) {
	resp, err := c.hc.Get("http://" + c.nodes[i].addr + "/kv/" + url.PathEscape(key))
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func (c *testCluster) scan(i int, prefix string) (map[string]string, error) {
	resp, err := c.hc.Get("http://" + c.nodes[i].addr + "/kv?prefix=" + url.QueryEscape(prefix))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("scan on %s: %s", c.nodes[i].id, resp.Status)
	}
	out := map[string]string{}
	err = json.NewDecoder(resp.Body).Decode(&out)
	return out, err
}

// hangGuard bounds every wait on a condition. It is not a timing
// assertion: a busy machine may take many times longer than a quiet one, and
// a test that means to bound a duration measures it and says so. It only
// stops a test that would otherwise hang until the package's timeout.
const hangGuard = time.Minute

// waitPrimary polls every running node until one reports role primary and
// satisfies ok, and returns it with its status. It fails the test after
// hangGuard.
func (c *testCluster) waitPrimary(ok func(i int, s Status) bool) (p int, st Status) {
	c.t.Helper()
	waitFor(c.t, "a primary", func() bool {
		for i, n := range c.nodes {
			if n.cmd == nil {
				continue
			}
			if s, err := c.status(i); err == nil && s.Role == RolePrimary && ok(i, s) {
				p, st = i, s
				return true
			}
		}
		return false
	})
	return p, st
}

func anyPrimary(int, Status) bool { return true }

// waitFor polls cond until it holds, failing the test after hangGuard.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", hangGuard, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// grepLog reports whether node i's log has a line containing all of parts.
func (c *testCluster) grepLog(i int, parts ...string) bool {
	sc := bufio.NewScanner(strings.NewReader(c.logOf(i)))
	sc.Buffer(nil, 1<<20)
next:
	for sc.Scan() {
		for _, p := range parts {
			if !strings.Contains(sc.Text(), p) {
				continue next
			}
		}
		return true
	}
	return false
}

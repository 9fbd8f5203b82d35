package agent_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hadrill/hadrill/internal/testsupport"

	"github.com/hadrill/hadrill/faults/agent"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// The tests run the real agent: the test binary re-executes itself as the
// agent (agentModeEnv) inside network namespaces the test creates, and as
// the supervised child (childArg). Namespaces are unnamed, so they vanish
// with their last descriptor and process: a test leaves nothing behind even
// when it fails. Traffic only flows between the test's own namespaces.

const (
	agentModeEnv = "HADRILL_AGENT_TEST_MODE"
	childArg     = "hadrill-agent-test-child"
	testToken    = "test-token-7f3a"
)

func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == childArg {
		os.Exit(runChild(os.Args[2:]))
	}
	if os.Getenv(agentModeEnv) == "1" {
		os.Exit(agent.Main(context.Background(), os.Args[1:]))
	}
	os.Exit(m.Run())
}

// requireRoot skips (or fails under CI=true) a test of the agent's
// appliers without root.
func requireRoot(t testing.TB) {
	t.Helper()
	testsupport.NeedRoot(t, "the agent (network namespaces, nftables, FUSE)")
}

// inNS runs f on a thread switched into ns. The thread is never unlocked,
// so it dies with the goroutine instead of going back to the pool while in
// the wrong namespace.
func inNS(ns netns.NsHandle, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := netns.Set(ns); err != nil {
			errc <- fmt.Errorf("enter netns: %w", err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// newNetns creates an unnamed network namespace with loopback up.
func newNetns(t testing.TB) netns.NsHandle {
	t.Helper()
	requireRoot(t)
	nsc := make(chan netns.NsHandle, 1)
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends in the new namespace
		ns, err := netns.New()
		nsc <- ns
		errc <- err
	}()
	ns, err := <-nsc, <-errc
	if err != nil {
		testsupport.Missing(t, "create network namespace: %v", err)
	}
	t.Cleanup(func() { ns.Close() })
	h := handleAt(t, ns)
	lo, err := h.LinkByName("lo")
	if err == nil {
		err = h.LinkSetUp(lo)
	}
	if err != nil {
		t.Fatalf("bring lo up: %v", err)
	}
	return ns
}

func handleAt(t testing.TB, ns netns.NsHandle) *netlink.Handle {
	t.Helper()
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatalf("netlink handle: %v", err)
	}
	t.Cleanup(h.Close)
	return h
}

// connect links two namespaces with a veth pair and addresses (CIDR).
func connect(t testing.TB, a, b netns.NsHandle, nameA, nameB, addrA, addrB string) {
	t.Helper()
	ha, hb := handleAt(t, a), handleAt(t, b)
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: nameA}, PeerName: nameB, PeerNamespace: netlink.NsFd(b)}
	if err := ha.LinkAdd(veth); err != nil {
		testsupport.Missing(t, "create veth: %v", err)
	}
	for _, side := range []struct {
		h          *netlink.Handle
		name, addr string
	}{{ha, nameA, addrA}, {hb, nameB, addrB}} {
		l, err := side.h.LinkByName(side.name)
		if err != nil {
			t.Fatalf("find %s: %v", side.name, err)
		}
		addr, _ := netlink.ParseAddr(side.addr)
		if err := side.h.AddrAdd(l, addr); err != nil {
			t.Fatalf("address %s: %v", side.name, err)
		}
		if err := side.h.LinkSetUp(l); err != nil {
			t.Fatalf("up %s: %v", side.name, err)
		}
	}
}

// topo is a node namespace with two peers on separate links:
// node 10.201.1.1 <-> A 10.201.1.2, node 10.201.2.1 <-> B 10.201.2.2.
type topo struct {
	node, a, b netns.NsHandle
}

const (
	nodeA = "10.201.1.1"
	peerA = "10.201.1.2"
	nodeB = "10.201.2.1"
	peerB = "10.201.2.2"
)

func newTopo(t testing.TB) *topo {
	tp := &topo{node: newNetns(t), a: newNetns(t), b: newNetns(t)}
	connect(t, tp.node, tp.a, "to-a", "to-node", nodeA+"/24", peerA+"/24")
	connect(t, tp.node, tp.b, "to-b", "to-node", nodeB+"/24", peerB+"/24")
	return tp
}

// agentProc is a running agent subprocess.
type agentProc struct {
	cmd    *exec.Cmd
	client *agent.Client
	stderr *testsupport.Buffer
	done   chan struct{}
	code   int
}

type agentOpts struct {
	dialNS   netns.NsHandle // namespace the client dials from
	host     string         // agent address as seen from dialNS
	flags    []string
	child    []string
	mountNS  bool // give the agent a private mount namespace
	noWait   bool
	extraEnv []string
}

// startAgent runs the agent in ns and waits until it answers.
func startAgent(t testing.TB, ns netns.NsHandle, o agentOpts) *agentProc {
	t.Helper()
	args := append([]string{"--log-level", "debug"}, o.flags...)
	if len(o.child) > 0 {
		args = append(append(args, "--"), o.child...)
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), agentModeEnv+"=1", "HADRILL_AGENT_TOKEN="+testToken), o.extraEnv...)
	p := &agentProc{cmd: cmd, stderr: &testsupport.Buffer{}, done: make(chan struct{})}
	cmd.Stderr, cmd.Stdout = p.stderr, p.stderr
	if o.mountNS {
		cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	}
	if err := inNS(ns, cmd.Start); err != nil {
		t.Fatalf("start agent: %v", err)
	}
	go func() {
		_ = cmd.Wait()
		p.code = cmd.ProcessState.ExitCode()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop(t)
		log := p.stderr.String()
		if strings.Contains(log, "DATA RACE") || strings.Contains(log, "level=ERROR") {
			t.Errorf("the agent logged an error or a data race")
		}
		if t.Failed() {
			t.Logf("agent log:\n%s", log)
		}
	})
	if o.host == "" {
		o.host = "127.0.0.1"
	}
	if o.dialNS == 0 {
		o.dialNS = ns
	}
	p.client = nsClient(o.dialNS, "http://"+net.JoinHostPort(o.host, "7070"), testToken)
	if !o.noWait {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := p.client.WaitReady(ctx); err != nil {
			t.Fatalf("agent not ready: %v\n%s", err, p.stderr.String())
		}
	}
	return p
}

// stop sends SIGTERM and waits for the exit code (SIGKILL after 10 s).
func (p *agentProc) stop(t testing.TB) int {
	select {
	case <-p.done:
		return p.code
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Errorf("agent did not stop on SIGTERM; killing it")
		_ = p.cmd.Process.Kill()
		<-p.done
	}
	return p.code
}

// nsClient is an agent client whose connections are made from ns, one
// fresh connection per request (so a partition cannot hide behind a kept
// alive connection).
func nsClient(ns netns.NsHandle, base, token string) *agent.Client {
	c := agent.NewClient(base, token)
	c.HTTP = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DisableKeepAlives: true, DialContext: nsDialer(ns),
	}}
	return c
}

func nsDialer(ns netns.NsHandle) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := inNS(ns, func() error {
			var d net.Dialer
			var err error
			c, err = d.DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
}

// udpSocket opens a UDP socket bound to addr inside ns.
func udpSocket(t testing.TB, ns netns.NsHandle, addr string) *net.UDPConn {
	t.Helper()
	var c *net.UDPConn
	err := inNS(ns, func() error {
		ua, err := net.ResolveUDPAddr("udp", addr)
		if err != nil {
			return err
		}
		c, err = net.ListenUDP("udp", ua)
		return err
	})
	if err != nil {
		t.Fatalf("udp socket %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// oneWay sends n datagrams from one socket to another and returns how many
// arrived. Sending is paced (a pause every 16 datagrams) so that the
// receiver's socket buffer never overflows: every loss is the network's.
func oneWay(t testing.TB, from, to *net.UDPConn, n int) int {
	t.Helper()
	got := make(chan int, 1)
	stop := make(chan struct{})
	go func() {
		buf := make([]byte, 2048)
		count := 0
		for {
			_ = to.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
			if _, _, err := to.ReadFromUDP(buf); err == nil {
				count++
				continue
			}
			select {
			case <-stop:
				got <- count
				return
			default:
			}
		}
	}()
	dst := to.LocalAddr().(*net.UDPAddr)
	payload := make([]byte, 64)
	for i := range n {
		_, _ = from.WriteToUDP(payload, dst)
		if i%16 == 15 {
			time.Sleep(500 * time.Microsecond)
		}
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	return <-got
}

// apply applies a fault and fails the test if the agent refuses.
func (p *agentProc) apply(t testing.TB, f agent.Fault) agent.Applied {
	t.Helper()
	res, err := p.client.Apply(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// heal heals a fault and fails the test on error.
func (p *agentProc) heal(t testing.TB, id string) agent.Healed {
	t.Helper()
	res, err := p.client.Heal(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

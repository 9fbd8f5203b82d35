package cluster

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestHAKVContainerFlags checks that scenario options become hakv flags and
// that unknown or malformed options are rejected before anything starts.
func TestHAKVContainerFlags(t *testing.T) {
	peers := []Peer{{"n1", "n1", 7000}, {"n2", "n2", 7000}}
	cases := []struct {
		name    string
		options map[string]string
		want    []string // flags that must appear
		wantErr string
	}{
		{"no options", nil, []string{"--id", "n1", "--listen", "0.0.0.0:7000", "--peers", "n1=n1:7000,n2=n2:7000", "--data", "/data"}, ""},
		{"every option", map[string]string{
			"replication": "semi-sync", "election": "unilateral", "failover_timeout": "2s",
			"heartbeat": "200ms", "fsync": "never", "stale_reads": "true",
		}, []string{"--replication=semi-sync", "--election=unilateral", "--failover-timeout=2s",
			"--heartbeat=200ms", "--fsync=never", "--stale-reads=true"}, ""},
		{"unknown option", map[string]string{"replicaton": "sync"}, nil, `"replicaton": unknown`},
		{"bad replication", map[string]string{"replication": "eventually"}, nil, `invalid value "eventually" for option replication`},
		{"bad duration", map[string]string{"heartbeat": "fast"}, nil, `invalid value "fast" for option heartbeat`},
		{"negative duration", map[string]string{"failover_timeout": "-1s"}, nil, `invalid value "-1s"`},
		{"zero heartbeat", map[string]string{"heartbeat": "0s"}, nil, `invalid value "0s"`},
		{"bad bool", map[string]string{"stale_reads": "sometimes"}, nil, `invalid value "sometimes"`},
		{"no ship delay", map[string]string{"ship_delay": "0s"}, []string{"--ship-delay=0s"}, ""},
		{"ship delay", map[string]string{"replication": "async", "ship_delay": "1s"}, []string{"--ship-delay=1s"}, ""},
		{"negative ship delay", map[string]string{"ship_delay": "-1s"}, nil, `invalid value "-1s"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cs, err := HAKV{}.Container(NodeConfig{Name: "n1", Peers: peers, Options: tc.options, DataDir: DataDir})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !slices.Contains(cs.Cmd, w) {
					t.Errorf("cmd %v lacks %q", cs.Cmd, w)
				}
			}
		})
	}
}

// TestSpecValidate checks the checks Start makes before touching Docker.
func TestSpecValidate(t *testing.T) {
	ok := Spec{System: HAKV{}, Nodes: 3}
	cases := []struct {
		name    string
		edit    func(*Spec)
		wantErr string
	}{
		{"valid", func(*Spec) {}, ""},
		{"no system", func(s *Spec) { s.System = nil }, "no system"},
		{"no nodes", func(s *Spec) { s.Nodes = 0 }, "at least 1 node"},
		{"bad run ID", func(s *Spec) { s.RunID = "a b" }, "run ID"},
		{"bad option", func(s *Spec) { s.Options = map[string]string{"fsync": "sometimes"} }, "describe node n1"},
		{"customize fails", func(s *Spec) {
			s.Customize = func(string, *ContainerSpec) error { return errors.New("no agent") }
		}, "customize node n1: no agent"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := ok
			tc.edit(&s)
			err := s.Validate()
			if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Validate() = %v, want error containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestPickPrimary checks the documented rule: the highest-epoch node that
// itself claims primary, ties to the lowest name; standbys' beliefs and
// unreachable nodes do not count.
func TestPickPrimary(t *testing.T) {
	down := errors.New("connection refused")
	cases := []struct {
		name   string
		claims []Claim
		want   string
	}{
		{"one primary", []Claim{{Node: "n1", Role: "primary", Epoch: 1}, {Node: "n2", Role: "standby", Epoch: 1, Primary: "n1"}}, "n1"},
		{"stale primary loses to newer epoch", []Claim{{Node: "n1", Role: "primary", Epoch: 1}, {Node: "n2", Role: "primary", Epoch: 2}}, "n2"},
		{"split brain in one epoch: lowest name", []Claim{{Node: "n3", Role: "primary", Epoch: 4}, {Node: "n2", Role: "primary", Epoch: 4}}, "n2"},
		{"unreachable claimant ignored", []Claim{{Node: "n1", Role: "primary", Epoch: 9, Err: down}, {Node: "n2", Role: "primary", Epoch: 2}}, "n2"},
		{"standby belief does not count", []Claim{{Node: "n1", Err: down}, {Node: "n2", Role: "standby", Primary: "n1", Epoch: 1}}, ""},
		{"candidates only", []Claim{{Node: "n1", Role: "candidate"}, {Node: "n2", Role: "candidate"}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pickPrimary(tc.claims)
			if tc.want == "" {
				if !errors.Is(err, ErrNoPrimary) {
					t.Errorf("pickPrimary = %q, %v; want ErrNoPrimary", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("pickPrimary = %q, %v; want %s", got, err, tc.want)
			}
		})
	}
}

// TestErrNoDockerMessage checks that the CLI can match the error and that it
// says where the engine was looked for.
func TestErrNoDockerMessage(t *testing.T) {
	cause := errors.New("connection refused")
	err := error(&noDockerError{host: "unix:///var/run/docker.sock", err: cause})
	if !errors.Is(err, ErrNoDocker) || !errors.Is(err, cause) {
		t.Errorf("errors.Is fails for %v", err)
	}
	want := "no Docker engine reachable at unix:///var/run/docker.sock: connection refused"
	if err.Error() != want {
		t.Errorf("message = %q, want %q", err.Error(), want)
	}
}

// nodeFaults is the method set the fault injector needs of a node
// (faults.Node); *Node must keep satisfying it.
var _ interface {
	Name() string
	Kill(ctx context.Context) error
	Stop(ctx context.Context, grace time.Duration) error
	Pause(ctx context.Context) error
	Unpause(ctx context.Context) error
	Start(ctx context.Context) error
} = (*Node)(nil)

package hakv

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/hadrill/hadrill/cluster"
)

// TestContainerFlags checks that scenario options become hakv flags and that
// an undeclared option is refused (the schema checks values, with file and line).
func TestContainerFlags(t *testing.T) {
	peers := []cluster.Peer{{Name: "n1", Host: "n1", Port: 7000}, {Name: "n2", Host: "n2", Port: 7000}}
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
		{"no ship delay", map[string]string{"ship_delay": "0s"}, []string{"--ship-delay=0s"}, ""},
		{"ship delay", map[string]string{"replication": "async", "ship_delay": "1s"}, []string{"--ship-delay=1s"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cs, err := System{}.Container(cluster.NodeConfig{Name: "n1", Peers: peers, Options: tc.options, DataDir: cluster.DataDir})
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

// TestPickPrimary checks the documented rule: the highest-epoch node that
// itself claims primary, ties to the lowest name; standbys' beliefs and
// unreachable nodes do not count.
func TestPickPrimary(t *testing.T) {
	down := errors.New("connection refused")
	cases := []struct {
		name   string
		claims []cluster.Claim
		want   string
	}{
		{"one primary", []cluster.Claim{{Node: "n1", Role: "primary", Epoch: 1}, {Node: "n2", Role: "standby", Epoch: 1, Primary: "n1"}}, "n1"},
		{"stale primary loses to newer epoch", []cluster.Claim{{Node: "n1", Role: "primary", Epoch: 1}, {Node: "n2", Role: "primary", Epoch: 2}}, "n2"},
		{"split brain in one epoch: lowest name", []cluster.Claim{{Node: "n3", Role: "primary", Epoch: 4}, {Node: "n2", Role: "primary", Epoch: 4}}, "n2"},
		{"unreachable claimant ignored", []cluster.Claim{{Node: "n1", Role: "primary", Epoch: 9, Err: down}, {Node: "n2", Role: "primary", Epoch: 2}}, "n2"},
		{"standby belief does not count", []cluster.Claim{{Node: "n1", Err: down}, {Node: "n2", Role: "standby", Primary: "n1", Epoch: 1}}, ""},
		{"candidates only", []cluster.Claim{{Node: "n1", Role: "candidate"}, {Node: "n2", Role: "candidate"}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pickPrimary(tc.claims)
			if tc.want == "" {
				if !errors.Is(err, cluster.ErrNoPrimary) {
					t.Errorf("pickPrimary = %q, %v; want cluster.ErrNoPrimary", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("pickPrimary = %q, %v; want %s", got, err, tc.want)
			}
		})
	}
}

// TestCheckOptions checks hakv's rules across options.
func TestCheckOptions(t *testing.T) {
	cases := []struct {
		opts map[string]string
		want string // offending option, "" for none
	}{
		{nil, ""},
		{map[string]string{"heartbeat": "1s", "failover_timeout": "2s"}, "failover_timeout"},
		{map[string]string{"heartbeat": "100ms", "failover_timeout": "2s"}, ""},
		{map[string]string{"ship_delay": "1s"}, "ship_delay"},
		{map[string]string{"ship_delay": "1s", "replication": "async"}, ""},
	}
	for _, tc := range cases {
		if got, msg := (System{}).CheckOptions(tc.opts); got != tc.want {
			t.Errorf("CheckOptions(%v) = %q (%s), want %q", tc.opts, got, msg, tc.want)
		}
	}
}

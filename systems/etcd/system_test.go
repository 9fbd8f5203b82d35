package etcd

import (
	"context"
	"errors"
	"slices"
	"testing"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/workload"
)

// TestContainerArgs: members find each other by name on the run network,
// keep their data under the data folder, and get the options as etcd's own
// flags.
func TestContainerArgs(t *testing.T) {
	peers := []cluster.Peer{{Name: "n1", Host: "n1", Port: clientPort}, {Name: "n2", Host: "n2", Port: clientPort}}
	cs, err := System{}.Container(cluster.NodeConfig{Name: "n2", Peers: peers, DataDir: cluster.DataDir,
		Options: map[string]string{"election_timeout": "500", "heartbeat_interval": "50"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"n2", "/data/etcd", "n1=http://n1:2380,n2=http://n2:2380", "http://n2:2379",
		"--election-timeout=500", "--heartbeat-interval=50"} {
		if !slices.Contains(cs.Cmd, want) {
			t.Errorf("cmd %v lacks %q", cs.Cmd, want)
		}
	}
}

// TestCheckOptions applies etcd's own rules, so a member that would refuse
// to start is a bad scenario.
func TestCheckOptions(t *testing.T) {
	for _, tc := range []struct {
		opts map[string]string
		bad  string
	}{
		{nil, ""},
		{map[string]string{"election_timeout": "400", "heartbeat_interval": "100"}, "election_timeout"},
		{map[string]string{"election_timeout": "500", "heartbeat_interval": "100"}, ""},
		{map[string]string{"election_timeout": "60000"}, "election_timeout"},
	} {
		if got, msg := (System{}).CheckOptions(tc.opts); got != tc.bad {
			t.Errorf("CheckOptions(%v) = %q (%s), want %q", tc.opts, got, msg, tc.bad)
		}
	}
}

// TestClassify: only errors after which etcd certainly did not apply the
// request are definite; a timed-out proposal may still commit.
func TestClassify(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want history.Type // for a write
	}{
		{"no leader", rpctypes.ErrGRPCNoLeader, history.Fail},
		{"too many requests", rpctypes.ErrGRPCRequestTooManyRequests, history.Fail},
		{"refused dial", status.Error(codes.Unavailable, "connection error: desc = \"transport: Error while dialing: dial tcp 127.0.0.1:1: connect: connection refused\""), history.Fail},
		{"request timed out", rpctypes.ErrGRPCTimeout, history.Info},
		{"leader changed", rpctypes.ErrGRPCLeaderChanged, history.Info},
		{"deadline", context.DeadlineExceeded, history.Info},
		{"transport closing", status.Error(codes.Unavailable, "error reading from server: EOF"), history.Info},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := classify("n1", tc.err)
			if got := workload.Classify(err, true); got != tc.want {
				t.Errorf("%v classified %s, want %s", err, got, tc.want)
			}
			if !errors.Is(err, tc.err) {
				t.Errorf("cause lost: %v", err)
			}
		})
	}
	if classify("n1", nil) != nil {
		t.Error("nil error classified as an error")
	}
}

package postgresautofailover

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/workload"
)

// TestClassify checks the error table of the client against
// workload.Classify: a standby's refusal moves the router on, a statement
// that was never sent is a definite failure, and anything after sending is
// indeterminate for a write.
func TestClassify(t *testing.T) {
	connectErr := &pgconn.ConnectError{}
	for _, tc := range []struct {
		name  string
		err   error
		write history.Type
		np    bool
	}{
		{name: "standby refuses a write", err: &pgconn.PgError{Code: "25006"}, write: history.Fail, np: true},
		{name: "starting up", err: &pgconn.PgError{Code: "57P03"}, write: history.Fail},
		{name: "missing table", err: &pgconn.PgError{Code: "42P01"}, write: history.Fail},
		{name: "terminated by the administrator", err: &pgconn.PgError{Code: "57P01"}, write: history.Info},
		{name: "connect failed", err: fmt.Errorf("acquire: %w", connectErr), write: history.Fail},
		{name: "timeout after sending", err: context.DeadlineExceeded, write: history.Info},
		{name: "connection lost after sending", err: io.ErrUnexpectedEOF, write: history.Info},
	} {
		got := classify("n1", tc.err)
		if w := workload.Classify(got, true); w != tc.write {
			t.Errorf("%s: write is %s, want %s (%v)", tc.name, w, tc.write, got)
		}
		if workload.Classify(got, false) != history.Fail {
			t.Errorf("%s: a read must fail", tc.name)
		}
		var np *workload.NotPrimaryError
		if errors.As(got, &np) != tc.np {
			t.Errorf("%s: not-primary is %v, want %v", tc.name, !tc.np, tc.np)
		}
	}
	if classify("n1", nil) != nil {
		t.Error("nil must stay nil")
	}
}

// TestPrimaryOf checks that only a node that reached the writable state
// the monitor assigned counts as primary: not one being demoted, not one
// still on its way to promotion.
func TestPrimaryOf(t *testing.T) {
	for _, tc := range []struct {
		states []nodeState
		want   string
	}{
		{[]nodeState{{"n1", "secondary", "secondary"}, {"n2", "primary", "primary"}}, "n2"},
		{[]nodeState{{"n1", "wait_primary", "wait_primary"}, {"n2", "demoted", "catchingup"}}, "n1"},
		{[]nodeState{{"n1", "stop_replication", "wait_primary"}, {"n2", "primary", "demote_timeout"}}, ""},
		{[]nodeState{{"n1", "wait_standby", "wait_standby"}, {"n2", "single", "single"}}, "n2"},
	} {
		got, ok := primaryOf(tc.states)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%v: got %q %v, want %q", tc.states, got, ok, tc.want)
		}
	}
}

// TestSteady checks the wait before the load: only a primary in "primary"
// with its standbys in "secondary" (or a lone "single") is steady. The run
// that lost two acknowledged writes had its primary in wait_primary, with
// synchronous replication off, and its standby just made secondary: the
// second case.
func TestSteady(t *testing.T) {
	for _, tc := range []struct {
		states []nodeState
		data   int    // data nodes in the cluster
		want   string // "" when steady, else a part of the error
	}{
		{[]nodeState{{"n1", "primary", "primary"}, {"n2", "secondary", "secondary"}}, 2, ""},
		{[]nodeState{{"n1", "wait_primary", "primary"}, {"n2", "secondary", "secondary"}}, 2, "n1 is wait_primary on its way to primary"},
		{[]nodeState{{"n1", "wait_primary", "wait_primary"}, {"n2", "catchingup", "catchingup"}}, 2, "n1 is wait_primary"},
		{[]nodeState{{"n1", "primary", "primary"}, {"n2", "catchingup", "secondary"}}, 2, "n2 is catchingup on its way to secondary"},
		{[]nodeState{{"n1", "primary", "primary"}, {"n2", "secondary", "secondary"}, {"n3", "secondary", "secondary"}}, 3, ""},
		{[]nodeState{{"n1", "single", "single"}}, 1, ""},
		{[]nodeState{{"n1", "single", "single"}}, 2, "1 of 2 data nodes registered"},
		{[]nodeState{{"n1", "single", "single"}, {"n2", "wait_standby", "wait_standby"}}, 2, "n1 is single"},
		{[]nodeState{{"n1", "secondary", "secondary"}, {"n2", "secondary", "secondary"}}, 2, "0 of 2 data nodes primary"},
		{nil, 2, "0 of 2 data nodes registered"},
	} {
		err := steady(tc.states, tc.data)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%v: got %v, want %q", tc.states, err, tc.want)
		}
	}
}

// TestContainer checks the nodes' specs: both run as postgres, the data
// node finds the monitor by its name and gets the replication quorum and
// the keeper's partition timeout, and the monitor gets its timings as
// postgresql.conf lines (only the options given: the others keep
// pg_auto_failover's defaults). Unknown options are refused.
func TestContainer(t *testing.T) {
	members := []cluster.Peer{{Name: "n1", Role: cluster.DataRole, Host: "n1"}, {Name: "m1", Role: monitorRole, Host: "m1"}}
	opts := map[string]string{"replication": "async", "health_check_period": "1000", "primary_demote_timeout": "5000"}
	var s System
	data, err := s.Container(cluster.NodeConfig{Name: "n1", Role: cluster.DataRole, Members: members, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	if data.User != "postgres" || data.Cmd[0] != "postgres" || data.Env["PGAF_QUORUM"] != "false" ||
		data.Env["PGAF_MONITOR"] != "postgres://autoctl_node@m1:5432/pg_auto_failover?sslmode=disable" ||
		data.Env["PGAF_PARTITION_TIMEOUT"] != "20" || data.Env["PGAF_SYNC_STANDBYS"] != "0" {
		t.Errorf("data node: %+v", data)
	}
	mon, err := s.Container(cluster.NodeConfig{Name: "m1", Role: monitorRole, Members: members, Options: opts})
	if err != nil {
		t.Fatal(err)
	}
	want := "pgautofailover.health_check_period = 1000\npgautofailover.primary_demote_timeout = 5000\n"
	if mon.User != "postgres" || mon.Cmd[0] != "monitor" || mon.Env["PGAF_CONF"] != want {
		t.Errorf("monitor: %+v", mon)
	}
	if _, err := s.Container(cluster.NodeConfig{Name: "n1", Members: members, Options: map[string]string{"hba": "x"}}); err == nil || !strings.Contains(err.Error(), "unknown option") {
		t.Errorf("unknown option: got %v", err)
	}
}

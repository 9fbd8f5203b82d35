package hakv

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/hadrill/hadrill/history"
	"github.com/hadrill/hadrill/workload"
)

// classCase is one row of the outcome table: a server behaviour, an op, and
// the class the op must get.
type classCase struct {
	name   string
	server http.HandlerFunc // replaces the API on n1; nil keeps it
	addr   string           // "refused" or "hang-dial" to replace n1's address
	f      history.Func
	key    string
	want   history.Type
	is     error // errors.Is target, when the class matters
	found  bool
}

// hang holds a request until the client gives up.
func hang(w http.ResponseWriter, r *http.Request) {
	// Reading the body lets the server notice the client hanging up.
	_, _ = io.Copy(io.Discard, r.Body)
	select {
	case <-r.Context().Done():
	case <-time.After(3 * time.Second):
	}
}

var n2, empty = "n2", ""

var classCases = []classCase{
	{name: "write ok", f: history.Write, key: "k", want: history.OK},
	{name: "cas ok", f: history.CAS, key: "k", want: history.OK},
	{name: "read present", f: history.Read, key: "k", want: history.OK, found: true},
	{name: "read absent 404", f: history.Read, key: "nokey", want: history.OK},
	{name: "cas 412", f: history.CAS, key: "nokey", want: history.Fail, is: workload.ErrPrecondition},
	{name: "write refused", addr: "refused", f: history.Write, key: "k", want: history.Fail, is: workload.ErrUnreachable},
	{name: "cas refused", addr: "refused", f: history.CAS, key: "k", want: history.Fail, is: workload.ErrUnreachable},
	{name: "read refused", addr: "refused", f: history.Read, key: "k", want: history.Fail},
	{name: "write dial outlives op", addr: "hang-dial", f: history.Write, key: "k", want: history.Fail, is: workload.ErrUnreachable},
	{name: "write 503 hint", server: status(503, &n2), f: history.Write, key: "k", want: history.Fail, is: workload.ErrNotApplied},
	{name: "write 503 empty hint", server: status(503, &empty), f: history.Write, key: "k", want: history.Fail, is: workload.ErrNotApplied},
	{name: "write 503 no hint header", server: status(503, nil), f: history.Write, key: "k", want: history.Info},
	{name: "read 503 hint", server: status(503, &n2), f: history.Read, key: "k", want: history.Fail},
	{name: "write 500", server: status(500, nil), f: history.Write, key: "k", want: history.Info},
	{name: "cas 500", server: status(500, nil), f: history.CAS, key: "k", want: history.Info},
	{name: "read 500", server: status(500, nil), f: history.Read, key: "k", want: history.Fail},
	{name: "write 400", server: status(400, nil), f: history.Write, key: "k", want: history.Fail, is: workload.ErrRejected},
	{name: "write timeout after send", server: hang, f: history.Write, key: "k", want: history.Info},
	{name: "cas timeout after send", server: hang, f: history.CAS, key: "k", want: history.Info},
	{name: "read timeout after send", server: hang, f: history.Read, key: "k", want: history.Fail},
	{name: "write reset after send", server: resetAfterRead, f: history.Write, key: "k", want: history.Info},
	{name: "read reset after send", server: resetAfterRead, f: history.Read, key: "k", want: history.Fail},
}

// TestClientClassification checks every row of the table in
// Client's doc comment against real HTTP exchanges.
func TestClientClassification(t *testing.T) {
	for _, tc := range classCases {
		t.Run(tc.name, func(t *testing.T) {
			found, err := classCaseRun(t, tc)
			if got := workload.Classify(err, tc.f != history.Read); got != tc.want {
				t.Fatalf("class = %s, want %s (err %v)", got, tc.want, err)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want one matching %v", err, tc.is)
			}
			if found != tc.found {
				t.Errorf("found = %v, want %v", found, tc.found)
			}
		})
	}
}

// classCaseRun sets up the case's node n1 and does its op with a 150ms op
// timeout.
func classCaseRun(t *testing.T, tc classCase) (bool, error) {
	fc := newFakeCluster(t, "n1")
	fc.data["k"] = "v0"
	if tc.server != nil {
		fc.setOverride("n1", tc.server)
	}
	eps := fc.endpoints()
	if tc.addr == "refused" {
		eps["n1"] = refusedAddr(t)
	}
	c := NewClient(eps, 1)
	t.Cleanup(c.CloseIdleConnections)
	if tc.addr == "hang-dial" {
		c.http.Transport.(*http.Transport).DialContext = func(context.Context, string, string) (net.Conn, error) {
			time.Sleep(300 * time.Millisecond)
			return nil, errors.New("dial gave up")
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	switch tc.f {
	case history.Read:
		_, found, err := c.Get(ctx, "n1", tc.key)
		return found, err
	case history.CAS:
		return false, c.CAS(ctx, "n1", tc.key, "v0", "v1")
	default:
		return false, c.Put(ctx, "n1", tc.key, "v1")
	}
}

// TestClientNotPrimaryHint checks that the hint of a 503 reaches the
// caller as the named primary.
func TestClientNotPrimaryHint(t *testing.T) {
	fc := newFakeCluster(t, "n1", "n2")
	fc.setPrimary("n2")
	c := NewClient(fc.endpoints(), 1)
	err := c.Put(context.Background(), "n1", "k", "v")
	var np *workload.NotPrimaryError
	if !errors.As(err, &np) || np.Primary != "n2" || np.Node != "n1" {
		t.Fatalf("err = %v, want not primary from n1 naming n2", err)
	}
}

// TestClientSetEndpoints checks that a node that moved is reached at its
// new address once the caller says so.
func TestClientSetEndpoints(t *testing.T) {
	fc := newFakeCluster(t, "n1")
	good := fc.endpoints()
	c := NewClient(map[string]string{"n1": refusedAddr(t)}, 1)
	if err := c.Put(context.Background(), "n1", "k", "v"); !errors.Is(err, workload.ErrUnreachable) {
		t.Fatalf("before: err = %v, want unreachable", err)
	}
	c.SetEndpoints(good)
	if err := c.Put(context.Background(), "n1", "k", "v"); err != nil {
		t.Fatalf("after: %v", err)
	}
}

// TestClientScanAndRole checks the two calls the final read relies on.
func TestClientScanAndRole(t *testing.T) {
	fc := newFakeCluster(t, "n1", "n2")
	fc.data["ledger-1-1"] = "1-1"
	fc.data["k1"] = "x"
	c := NewClient(fc.endpoints(), 1)
	got, err := c.Scan(context.Background(), "n1", history.LedgerPrefix)
	if err != nil || len(got) != 1 || got["ledger-1-1"] != "1-1" {
		t.Fatalf("scan = %v, %v; want only ledger-1-1", got, err)
	}
	role, primary, err := c.Role(context.Background(), "n2")
	if err != nil || role != "standby" || primary != "n1" {
		t.Fatalf("role = %q, %q, %v; want standby, n1", role, primary, err)
	}
}

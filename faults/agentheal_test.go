package faults

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/hadrill/hadrill/faults/agent"
)

// agentOnly is a fakeNode with an agent at a test server.
type agentOnly struct {
	*fakeNode
	cl *agent.Client
}

func (a agentOnly) Agent() *agent.Client                   { return a.cl }
func (a agentOnly) IP(context.Context) (netip.Addr, error) { return netip.Addr{}, nil }

// TestHealOfAFaultGoneWithARestart: a node's agent that no longer knows a
// fault (the container was restarted, taking its namespaces and the
// fault's rules with it) counts as healed; any other refusal is an error.
func TestHealOfAFaultGoneWithARestart(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/gone") {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":"no fault gone"}`))
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"error":"busy"}`))
	}))
	defer srv.Close()
	node := agentOnly{&fakeNode{name: "n1"}, agent.NewClient(strings.TrimPrefix(srv.URL, "http://"), "t")}
	m, err := healAll(context.Background(), []applied{{node: node, id: "gone"}})
	if err != nil || m["gone_with_restart"] != 1 {
		t.Fatalf("heal of a vanished fault = %v, %v; want healed and counted", m, err)
	}
	if _, err := healAll(context.Background(), []applied{{node: node, id: "busy"}}); err == nil {
		t.Fatal("a refused heal passed as healed")
	}
}

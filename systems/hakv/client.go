package hakv

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hadrill/hadrill/cluster"
	"github.com/hadrill/hadrill/systems"
	"github.com/hadrill/hadrill/workload"
)

// PrimaryHeader is the header a hakv standby sets on its 503 to name the
// primary (docs/CONTRACTS.md).
const PrimaryHeader = "Hakv-Primary"

// maxBody bounds what is read from a response: values and scans are small,
// and a runaway body must not stall the workload.
const maxBody = 16 << 20

// Client is the [workload.KV] for hakv over its HTTP API. It is safe for
// concurrent use by all logical clients of a run; node addresses can be
// replaced while it is in use (a restarted node may come back on a new port).
//
// How each outcome is reported, and what [workload.Classify] makes of it:
//
//	what happened                               error             write, cas  read
//	2xx (and 404 on GET: absent)                nil               ok          ok
//	no connection made: refused, no route,      workload.ErrUnreachable    fail        fail
//	  dial timeout, op deadline while dialing
//	503 with Hakv-Primary (not primary)         *workload.NotPrimaryError  fail        fail
//	412 (CAS found another value)               workload.ErrPrecondition   fail        -
//	other 4xx (refused before acting)           workload.ErrRejected       fail        fail
//	503 without Hakv-Primary, other 5xx, 3xx    plain             info        fail
//	timeout or reset once connected             plain             info        fail
//
// The line between the last two rows and the second is whether any byte of
// the request can have reached the server: only a request that never got a
// connection is certainly not applied.
type Client struct {
	http      *http.Client
	endpoints atomic.Pointer[endpoints]
}

// endpoints is an immutable snapshot, swapped whole by SetEndpoints so the
// hot path reads it with one atomic load.
type endpoints struct {
	names []string          // sorted
	base  map[string]string // node -> "http://host:port"
}

// NewClient returns a client for the given nodes (name -> "host:port").
// clients is the number of concurrent logical clients: it sizes the idle
// connection pool so that every client keeps its connection alive.
func NewClient(nodes map[string]string, clients int) *Client {
	clients = max(clients, 1)
	tr := &http.Transport{
		Proxy: nil, // clients talk to 127.0.0.1 only; never via a proxy
		DialContext: (&net.Dialer{
			Timeout:   5 * time.Second, // the per-op context is usually shorter
			KeepAlive: 15 * time.Second,
		}).DialContext,
		MaxIdleConns:        clients * max(len(nodes), 1),
		MaxIdleConnsPerHost: clients,
		IdleConnTimeout:     30 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	c := &Client{http: &http.Client{
		Transport: tr,
		// A redirect is not part of the API; surface it rather than follow.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	c.SetEndpoints(nodes)
	return c
}

// SetEndpoints replaces the node addresses (name -> "host:port").
func (c *Client) SetEndpoints(nodes map[string]string) {
	e := &endpoints{base: make(map[string]string, len(nodes))}
	for name, addr := range nodes {
		e.names = append(e.names, name)
		e.base[name] = "http://" + addr
	}
	slices.Sort(e.names)
	c.endpoints.Store(e)
}

// Nodes lists the node names, sorted.
func (c *Client) Nodes() []string { return c.endpoints.Load().names }

// CloseIdleConnections closes kept-alive connections, for example after a
// run, so that no socket outlives the cluster.
func (c *Client) CloseIdleConnections() { c.http.CloseIdleConnections() }

// Get reads key on node. An absent key (404) is found=false with no error.
func (c *Client) Get(ctx context.Context, node, key string) (string, bool, error) {
	body, status, err := c.do(ctx, node, http.MethodGet, "/kv/"+url.PathEscape(key), "", true)
	switch {
	case err != nil:
		return "", false, fmt.Errorf("get %s: %w", key, err)
	case status == http.StatusNotFound:
		return "", false, nil
	}
	return string(body), true, nil
}

// Put writes value to key on node.
func (c *Client) Put(ctx context.Context, node, key, value string) error {
	if _, _, err := c.do(ctx, node, http.MethodPut, "/kv/"+url.PathEscape(key), value, false); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

// CAS sets key to `to` on node if it holds `from`; a mismatch (412) is an
// error matching workload.ErrPrecondition.
func (c *Client) CAS(ctx context.Context, node, key, from, to string) error {
	path := "/kv/" + url.PathEscape(key) + "?if=" + url.QueryEscape(from)
	if _, _, err := c.do(ctx, node, http.MethodPut, path, to, false); err != nil {
		return fmt.Errorf("cas %s: %w", key, err)
	}
	return nil
}

// Scan reads every key with the prefix on node in one request.
func (c *Client) Scan(ctx context.Context, node, prefix string) (map[string]string, error) {
	body, _, err := c.do(ctx, node, http.MethodGet, "/kv?prefix="+url.QueryEscape(prefix), "", false)
	if err != nil {
		return nil, fmt.Errorf("scan %s: %w", prefix, err)
	}
	kv := map[string]string{}
	if err := json.Unmarshal(body, &kv); err != nil {
		return nil, fmt.Errorf("scan %s on %s: decode: %w", prefix, node, err)
	}
	return kv, nil
}

// Role asks node for its own view of its role and of the primary (GET /status).
func (c *Client) Role(ctx context.Context, node string) (role, primary string, err error) {
	body, _, err := c.do(ctx, node, http.MethodGet, "/status", "", false)
	if err != nil {
		return "", "", fmt.Errorf("status: %w", err)
	}
	var st struct {
		Role    string `json:"role"`
		Primary string `json:"primary"`
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return "", "", fmt.Errorf("status of %s: decode: %w", node, err)
	}
	return st.Role, st.Primary, nil
}

// do sends one request to node and maps the outcome to the error classes of
// [workload.Classify]. It returns the body of a 2xx response (and of a 404 when
// allow404). Any status it does not know is an error that does not match
// workload.ErrNotApplied, so a write that got one stays indeterminate.
func (c *Client) do(ctx context.Context, node, method, path, value string, allow404 bool) ([]byte, int, error) {
	base, ok := c.endpoints.Load().base[node]
	if !ok {
		return nil, 0, fmt.Errorf("on %s: %w: unknown node", node, workload.ErrRejected)
	}
	var body io.Reader
	if method == http.MethodPut {
		body = strings.NewReader(value)
	}
	var t connTrace
	req, err := http.NewRequestWithContext(t.attach(ctx), method, base+path, body)
	if err != nil {
		return nil, 0, fmt.Errorf("on %s: %w: %w", node, workload.ErrRejected, err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, 0, t.classify(node, err)
	}
	defer resp.Body.Close()
	b, rerr := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err := statusError(node, resp, b, allow404); err != nil {
		return nil, resp.StatusCode, err
	}
	if rerr != nil {
		// The status already answered a write; only a read loses its value.
		return nil, resp.StatusCode, fmt.Errorf("on %s: read body: %w", node, rerr)
	}
	return b, resp.StatusCode, nil
}

// statusError classifies a response status. Only refusals the API defines as
// "did nothing" are definite: 503 not primary, 412 and the other 4xx.
func statusError(node string, resp *http.Response, body []byte, allow404 bool) error {
	code := resp.StatusCode
	switch {
	case code >= 200 && code < 300, code == http.StatusNotFound && allow404:
		return nil
	case isNotPrimary(resp):
		return &workload.NotPrimaryError{Node: node, Primary: resp.Header.Get(PrimaryHeader)}
	case code == http.StatusPreconditionFailed:
		return fmt.Errorf("on %s: %w", node, workload.ErrPrecondition)
	case code >= 400 && code < 500:
		return fmt.Errorf("on %s: %w: %s: %s", node, workload.ErrRejected, resp.Status, snippet(body))
	}
	return fmt.Errorf("on %s: %s: %s", node, resp.Status, snippet(body))
}

// isNotPrimary recognises hakv's "not primary" refusal. A 503 names it only
// when it carries the Hakv-Primary header (empty when the primary is unknown)
// or says so in its body: any other 503, for example a primary that could not
// replicate in time, may have applied the write and stays indeterminate.
func isNotPrimary(resp *http.Response) bool {
	if resp.StatusCode != http.StatusServiceUnavailable {
		return false
	}
	if _, ok := resp.Header[PrimaryHeader]; ok {
		return true
	}
	return false
}

func snippet(b []byte) string {
	s := strings.TrimSpace(string(b[:min(len(b), 200)]))
	if s == "" {
		return "no body"
	}
	return s
}

// connTrace records whether the request's final attempt obtained a
// connection. Without one, not a byte of the request was sent, so the
// operation certainly did not happen, whatever the error says (a refused or
// timed-out dial, or the op deadline passing while dialing). With one, a
// failure may have come after the server read the request.
type connTrace struct {
	gotConn bool
	trace   httptrace.ClientTrace
}

func (t *connTrace) attach(ctx context.Context) context.Context {
	// GetConn starts every attempt, including the transport's own retry of a
	// stale keep-alive connection; it only retries a PUT when nothing was
	// written, so the last attempt decides.
	t.trace.GetConn = func(string) { t.gotConn = false }
	t.trace.GotConn = func(httptrace.GotConnInfo) { t.gotConn = true }
	return httptrace.WithClientTrace(ctx, &t.trace)
}

// classify turns a transport error into a definite workload.ErrUnreachable when the
// request was certainly not sent, and leaves it indeterminate otherwise.
func (t *connTrace) classify(node string, err error) error {
	var op *net.OpError
	refused := errors.Is(err, syscall.ECONNREFUSED) ||
		(errors.As(err, &op) && op.Op == "dial")
	if !t.gotConn || refused {
		return fmt.Errorf("on %s: %w: %w", node, workload.ErrUnreachable, err)
	}
	return fmt.Errorf("on %s: %w", node, err)
}

// NewClient returns the workload's client for a started hakv cluster: the
// HTTP client over the data nodes' published ports.
func (System) NewClient(_ context.Context, c *cluster.Cluster, clients int) (systems.Client, error) {
	return &clusterClient{Client: NewClient(c.ClientAddrs(), clients), c: c}, nil
}

// clusterClient ties a Client to its cluster, so Refresh can re-read the
// published ports of restarted nodes.
type clusterClient struct {
	*Client
	c *cluster.Cluster
}

func (cc *clusterClient) Refresh() { cc.SetEndpoints(cc.c.ClientAddrs()) }

func (cc *clusterClient) Close() error {
	cc.CloseIdleConnections()
	return nil
}

package agent

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client is the harness side of the agent API: one per node, aimed at the
// agent port published on 127.0.0.1. It is safe for concurrent use.
type Client struct {
	// BaseURL is the agent's address, e.g. "http://127.0.0.1:49153".
	BaseURL string
	// Token is the bearer token the agent was started with.
	Token string
	// HTTP is the client used for requests; nil means one with a 30 s
	// timeout (heal of a delay waits for held packets, so keep it above
	// the largest delay).
	HTTP *http.Client
}

// NewClient returns a client for the agent at addr ("127.0.0.1:49153" or a
// full URL).
func NewClient(addr, token string) *Client {
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	return &Client{BaseURL: strings.TrimRight(addr, "/"), Token: token}
}

// APIError is a non-2xx answer of the agent. It unwraps to the matching
// sentinel (ErrInvalid, ErrNotFound, ErrConflict, ErrUnavailable,
// ErrUnauthorized), so callers can test it with errors.Is.
type APIError struct {
	Status  int
	Message string
}

// Error gives the status and the agent's message.
func (e *APIError) Error() string {
	return fmt.Sprintf("agent answered %d: %s", e.Status, e.Message)
}

// Unwrap maps the status back to the agent's sentinel error.
func (e *APIError) Unwrap() error {
	switch e.Status {
	case http.StatusBadRequest:
		return ErrInvalid
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusConflict:
		return ErrConflict
	case http.StatusNotImplemented:
		return ErrUnavailable
	}
	return nil
}

// Apply applies a fault on the node; Applied.EffectiveNS says when it took
// effect on the agent's clock.
func (c *Client) Apply(ctx context.Context, f Fault) (Applied, error) {
	var out Applied
	if err := c.do(ctx, http.MethodPost, "/faults", f, &out); err != nil {
		return out, fmt.Errorf("apply %s %q: %w", f.Kind, f.ID, err)
	}
	return out, nil
}

// Heal removes one fault and returns its final measurements.
func (c *Client) Heal(ctx context.Context, id string) (Healed, error) {
	var out Healed
	if err := c.do(ctx, http.MethodDelete, "/faults/"+url.PathEscape(id), nil, &out); err != nil {
		return out, fmt.Errorf("heal %q: %w", id, err)
	}
	return out, nil
}

// HealAll heals every fault on the node and fails unless the agent verified
// that the node is back to normal.
func (c *Client) HealAll(ctx context.Context) error {
	_, err := c.HealAllReport(ctx)
	return err
}

// HealAllReport is HealAll with the per-fault results and the verification,
// for the run's fault log. The result is filled in even when err is not nil.
func (c *Client) HealAllReport(ctx context.Context) (HealAllResult, error) {
	var out HealAllResult
	err := c.do(ctx, http.MethodPost, "/heal-all", nil, &out)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Status == http.StatusInternalServerError && out.HealedNS != 0 {
		problems := append(out.Errors, out.Verified.Problems...)
		return out, fmt.Errorf("heal all: %s", strings.Join(problems, "; "))
	}
	if err != nil {
		return out, fmt.Errorf("heal all: %w", err)
	}
	return out, nil
}

// Status lists the active faults with live counters.
func (c *Client) Status(ctx context.Context) (Status, error) {
	var out Status
	if err := c.do(ctx, http.MethodGet, "/faults", nil, &out); err != nil {
		return out, fmt.Errorf("read fault status: %w", err)
	}
	return out, nil
}

// Capabilities asks what the node supports, so the harness can reject a
// scenario the node cannot run before starting it.
func (c *Client) Capabilities(ctx context.Context) (Capabilities, error) {
	var out Capabilities
	if err := c.do(ctx, http.MethodGet, "/capabilities", nil, &out); err != nil {
		return out, fmt.Errorf("read capabilities: %w", err)
	}
	return out, nil
}

// Health checks that the agent answers.
func (c *Client) Health(ctx context.Context) (Health, error) {
	var out Health
	if err := c.do(ctx, http.MethodGet, "/healthz", nil, &out); err != nil {
		return out, fmt.Errorf("check agent health: %w", err)
	}
	return out, nil
}

// Probe asks the agent to resolve name and to connect to addr (host:port)
// from inside its node; either may be empty.
func (c *Client) Probe(ctx context.Context, name, addr string) (Probe, error) {
	var out Probe
	q := url.Values{}
	if name != "" {
		q.Set("resolve", name)
	}
	if addr != "" {
		q.Set("connect", addr)
	}
	if err := c.do(ctx, http.MethodGet, "/probe?"+q.Encode(), nil, &out); err != nil {
		return out, fmt.Errorf("probe from agent: %w", err)
	}
	return out, nil
}

// WaitReady polls /healthz until the agent answers or ctx ends; a container
// is only usable for faults once its agent is ready.
func (c *Client) WaitReady(ctx context.Context) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		_, err := c.Health(ctx)
		if err == nil || errors.Is(err, ErrUnauthorized) {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for agent: %w (last: %w)", ctx.Err(), err)
		case <-tick.C:
		}
	}
}

var defaultHTTP = &http.Client{Timeout: 30 * time.Second}

// do sends one request and decodes the answer into out. A non-2xx answer
// becomes an *APIError; its body is still decoded into out when it has the
// answer's shape (heal-all reports failures that way).
func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Authorization", "Bearer "+c.Token)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	if resp.StatusCode/100 != 2 {
		var eb ErrorBody
		_ = json.Unmarshal(raw, out)
		if json.Unmarshal(raw, &eb) != nil || eb.Error == "" {
			eb.Error = strings.TrimSpace(string(raw))
		}
		return &APIError{Status: resp.StatusCode, Message: eb.Error}
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return fmt.Errorf("decode answer: %w", err)
	}
	return nil
}

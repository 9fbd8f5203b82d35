package drill

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"time"

	"github.com/hadrill/hadrill/scenarios"
)

// probeOutputLimit bounds how much of a probe's answer or output is read
// and quoted: enough for an error message.
const probeOutputLimit = 64 << 10

// probeWaitDelay bounds how long a command probe's output is waited for
// after its shell ended or was killed: a background child still holding
// the pipe must not stall the watch.
const probeWaitDelay = time.Second

// newProbe returns the user's probe as a function that fails when the
// probe does: an HTTP GET that does not answer 2xx, or a command that does
// not exit 0. ctx carries the probe's timeout.
func newProbe(p scenarios.Probe) func(ctx context.Context) error {
	if p.HTTP != "" {
		client := &http.Client{}
		return func(ctx context.Context) error { return probeHTTP(ctx, client, p.HTTP) }
	}
	return func(ctx context.Context) error { return probeCommand(ctx, p.Command) }
}

func probeHTTP(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("probe GET %s: %w", url, err)
	}
	resp, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, probeOutputLimit))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("probe GET %s: answered %s%s", url, resp.Status, lastLine(body))
	}
	return nil
}

func probeCommand(ctx context.Context, command string) error {
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	cmd.WaitDelay = probeWaitDelay
	ownGroup(cmd)
	var out bytes.Buffer
	cmd.Stdout = &limitedWriter{w: &out, n: probeOutputLimit}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return fmt.Errorf("probe command: %w%s", err, lastLine(out.Bytes()))
	}
	return nil
}

// lastLine is ": " and the last non-empty line of out, which is where a
// failing command or an error page usually says what went wrong; "" when
// out holds nothing.
func lastLine(out []byte) string {
	out = bytes.TrimSpace(out)
	if len(out) == 0 {
		return ""
	}
	lines := bytes.Split(out, []byte("\n"))
	return ": " + string(bytes.TrimSpace(lines[len(lines)-1]))
}

// limitedWriter keeps the first n bytes and drops the rest, so that a
// chatty probe cannot fill memory.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.n -= k
		if _, err := l.w.Write(p[:k]); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

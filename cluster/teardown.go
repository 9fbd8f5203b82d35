package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/hadrill/hadrill/cluster/engine"
	"github.com/hadrill/hadrill/cluster/label"
)

// teardownTimeout bounds a Teardown, which runs on a context of its own: the
// caller's is often already cancelled (Ctrl-C, a failed run) exactly when
// cleaning up matters most.
const teardownTimeout = 2 * time.Minute

// Teardown saves every node's log to Spec.LogDir/<node>.log, then removes
// the run's containers (forcibly, paused or not) and its network. It finds
// them by the hadrill.run label rather than from memory, so it also removes
// a container whose start failed half way.
//
// Teardown is safe on a nil Cluster and safe to call again: after a success
// it does nothing, after a failure it tries again. It ignores the
// cancellation of ctx (keeping its values) and bounds itself with a timeout
// instead, so `defer c.Teardown(ctx)` works on every path.
func (c *Cluster) Teardown(ctx context.Context) error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done || (c.docker == nil && c.engines == nil) {
		return nil // nothing was created without a client
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), teardownTimeout)
	defer cancel()
	if c.engines != nil {
		if err := c.teardownEngines(ctx); err != nil {
			return fmt.Errorf("tear down run %s: %w", c.RunID, err)
		}
		c.done = true
		return c.closeEngines()
	}
	if err := c.teardown(ctx); err != nil {
		return fmt.Errorf("tear down run %s: %w", c.RunID, err)
	}
	c.done = true
	return c.docker.Close()
}

// teardown removes the run's containers, looking again after each sweep in
// case one appeared meanwhile, then the network.
func (c *Cluster) teardown(ctx context.Context) error {
	errs := c.removeContainers(ctx, c.docker)
	return errors.Join(append(errs, engine.RemoveNetwork(ctx, c.docker, c.Network))...)
}

// removeContainers removes the run's containers from one engine, looking
// again after each sweep in case one appeared meanwhile.
func (c *Cluster) removeContainers(ctx context.Context, cli client.APIClient) []error {
	var errs []error
	for sweep := 0; sweep < 3; sweep++ {
		list, err := cli.ContainerList(ctx, client.ContainerListOptions{
			All:     true,
			Filters: make(client.Filters).Add("label", label.Run+"="+c.RunID),
		})
		if err != nil {
			return []error{fmt.Errorf("list containers: %w", err)}
		}
		if len(list.Items) == 0 {
			return nil // nothing is left, whatever failed before
		}
		errs = c.removeAll(ctx, cli, list.Items)
	}
	return errs
}

// removeAll saves the logs of the given containers and removes them, all at
// once.
func (c *Cluster) removeAll(ctx context.Context, cli client.APIClient, ctrs []container.Summary) []error {
	errs := make([]error, len(ctrs))
	var wg sync.WaitGroup
	for i, ctr := range ctrs {
		wg.Go(func() {
			node := ctr.Labels[label.Node]
			if c.spec.LogDir != "" && node != "" {
				if err := c.saveLogs(ctx, cli, ctr.ID, filepath.Join(c.spec.LogDir, node+".log")); err != nil {
					slog.Warn("keep node log", "node", node, "err", err)
				}
			}
			if err := engine.RemoveContainer(ctx, cli, ctr.ID); err != nil {
				errs[i] = fmt.Errorf("remove node %s: %w", node, err)
			}
		})
	}
	wg.Wait()
	return errs
}

// saveLogs writes a container's whole log, stdout and stderr demultiplexed
// into one file in the order the engine returns them.
func (c *Cluster) saveLogs(ctx context.Context, cli client.APIClient, id, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("make log folder: %w", err)
	}
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create log file: %w", err)
	}
	if err := c.copyLogs(ctx, cli, id, "all", f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// copyLogs copies the last tail lines ("all" for every line) of a
// container's log to w.
func (c *Cluster) copyLogs(ctx context.Context, cli client.APIClient, id, tail string, w io.Writer) error {
	rc, err := cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{
		ShowStdout: true, ShowStderr: true, Tail: tail,
	})
	if err != nil {
		return fmt.Errorf("read logs: %w", err)
	}
	defer rc.Close()
	if _, err := stdcopy.StdCopy(w, w, rc); err != nil {
		return fmt.Errorf("copy logs: %w", err)
	}
	return nil
}

// tailLogs is the end of a container's log on one line, for error messages
// about a node that exited during start.
func (c *Cluster) tailLogs(ctx context.Context, cli client.APIClient, id string, n int) string {
	var buf bytes.Buffer
	if err := c.copyLogs(ctx, cli, id, strconv.Itoa(n), &buf); err != nil {
		return "(no log: " + err.Error() + ")"
	}
	out := strings.ReplaceAll(strings.TrimSpace(buf.String()), "\n", " | ")
	if out == "" {
		return "(empty log)"
	}
	return out
}

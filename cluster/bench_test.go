package cluster

import (
	"context"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"

	"github.com/hadrill/hadrill/cluster/engine"
	"github.com/hadrill/hadrill/cluster/image"
	"github.com/hadrill/hadrill/cluster/label"
)

// BenchmarkStartVsPlainRuns measures what the harness costs on top of Docker:
// the time from Start to a healthy 3-node hakv cluster (image cached), against
// three plain container runs of the same image through the moby client
// (create, start, poll /healthz until 200), all three at once as Start does.
// Teardown and removal are outside both timings. Reported: start-ms and
// plain-ms per iteration and their ratio.
//
//	go test ./cluster -run '^$' -bench StartVsPlain -benchtime 5x
func BenchmarkStartVsPlainRuns(b *testing.B) {
	needDocker(b)
	ctx := context.Background()
	cli, err := engine.Connect(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer cli.Close()
	is, err := testHakv{Binary: hakvBinary}.Image(ctx)
	if err != nil {
		b.Fatal(err)
	}
	img, err := image.EnsureOn(ctx, cli, is)
	if err != nil {
		b.Fatal(err)
	}
	var start, plain time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		spec := hakvSpec(b)
		spec.RunID = fmt.Sprintf("%s-%d", spec.RunID, i)
		began := time.Now()
		c, err := Start(ctx, spec)
		start += time.Since(began)
		if terr := c.Teardown(ctx); err != nil || terr != nil {
			b.Fatalf("start: %v; teardown: %v", err, terr)
		}
		began = time.Now()
		ids, err := plainRuns(ctx, cli, img.Ref, spec.RunID+"-plain", 3)
		plain += time.Since(began)
		for _, id := range ids {
			engine.RemoveContainer(ctx, cli, id)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	n := float64(b.N)
	b.ReportMetric(float64(start.Milliseconds())/n, "start-ms/op")
	b.ReportMetric(float64(plain.Milliseconds())/n, "plain-ms/op")
	b.ReportMetric(start.Seconds()/plain.Seconds(), "start/plain")
}

// plainRuns runs k containers of ref at once, each published on a random
// 127.0.0.1 port, and waits for each to answer /healthz. It returns the IDs
// to remove, also on error.
func plainRuns(ctx context.Context, cli client.APIClient, ref, runID string, k int) ([]string, error) {
	ids := make([]string, k)
	errs := make([]error, k)
	var wg sync.WaitGroup
	for i := range k {
		wg.Go(func() {
			name := nodeName(i)
			labels := map[string]string{label.Run: runID, label.Node: name}
			ids[i], errs[i] = plainRun(ctx, cli, containerConfig(ref, labels, "--id", name, "--peers", name+"=127.0.0.1:7000"))
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return ids, err
		}
	}
	return ids, nil
}

func plainRun(ctx context.Context, cli client.APIClient, cfg *container.Config) (string, error) {
	port := tcpPort(testHakvPort)
	created, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config: cfg,
		HostConfig: &container.HostConfig{PortBindings: network.PortMap{
			port: {{HostIP: netip.MustParseAddr("127.0.0.1"), HostPort: "0"}},
		}},
	})
	if err != nil {
		return "", err
	}
	if _, err := cli.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		return created.ID, err
	}
	info, err := cli.ContainerInspect(ctx, created.ID, client.ContainerInspectOptions{})
	if err != nil {
		return created.ID, err
	}
	addr := "127.0.0.1:" + info.Container.NetworkSettings.Ports[port][0].HostPort
	check := testHakv{}.Health()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for check.probe(ctx, addr) != nil {
		select {
		case <-ctx.Done():
			return created.ID, fmt.Errorf("wait for %s: %w", addr, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
	return created.ID, nil
}

// containerConfig is a plain hakv container config for tests that bypass
// Start, listening on hakv's port.
func containerConfig(ref string, labels map[string]string, args ...string) *container.Config {
	args = append(args, "--listen", fmt.Sprintf("0.0.0.0:%d", testHakvPort), "--data", DataDir)
	return &container.Config{
		Image:        ref,
		Labels:       labels,
		Cmd:          args,
		ExposedPorts: network.PortSet{tcpPort(testHakvPort): {}},
	}
}

package cluster

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
)

// TestContextTag checks that the image tag depends on every byte of the build
// context and on nothing else (not the order files are listed in).
func TestContextTag(t *testing.T) {
	base := []File{{Path: "a", Content: []byte("x"), Mode: 0o755}, {Path: "b", Content: []byte("y"), Mode: 0o644}}
	tag := func(t *testing.T, df string, fs []File) string {
		t.Helper()
		loaded, err := loadFiles(fs)
		if err != nil {
			t.Fatal(err)
		}
		return contextTag(df, loaded)
	}
	want := tag(t, "FROM scratch", base)
	if len(want) != contextTagLen {
		t.Fatalf("tag %q has %d characters, want %d", want, len(want), contextTagLen)
	}
	cases := []struct {
		name  string
		df    string
		files []File
		same  bool
	}{
		{"same context", "FROM scratch", base, true},
		{"files listed in another order", "FROM scratch", []File{base[1], base[0]}, true},
		{"another Dockerfile", "FROM scratch\n", base, false},
		{"another byte", "FROM scratch", []File{{Path: "a", Content: []byte("z"), Mode: 0o755}, base[1]}, false},
		{"another mode", "FROM scratch", []File{{Path: "a", Content: []byte("x"), Mode: 0o644}, base[1]}, false},
		{"bytes moved between files", "FROM scratch", []File{{Path: "a", Content: []byte("xy"), Mode: 0o755}, {Path: "b", Content: []byte{}, Mode: 0o644}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tag(t, tc.df, tc.files); (got == want) != tc.same {
				t.Errorf("tag %s vs %s: same = %v, want %v", got, want, got == want, tc.same)
			}
		})
	}
}

// TestImageCacheHit builds an image that cannot be cached yet (the hakv
// context plus a file unique to this test) and asks for it again: the second
// call must find the same image ID without building, and be fast. HAKV's
// SourceDir, compiling the same source with the same flags, must land on the
// same tag as the binary TestMain built.
func TestImageCacheHit(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	spec, err := testHakv{Binary: hakvBinary}.Image(ctx)
	if err != nil {
		t.Fatal(err)
	}
	unique := spec
	unique.Files = append(slices.Clone(spec.Files), File{Path: "nonce", Content: []byte(testRunID(t))})
	first, err := EnsureImage(ctx, unique)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeTestImage(t, first.Ref) })
	second, err := EnsureImage(ctx, unique)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("first: %s built=%v in %v; second: built=%v in %v",
		first.Ref, first.Built, first.Took, second.Built, second.Took)
	if !first.Built {
		t.Errorf("first call found %s: the nonce should have made it new", first.Ref)
	}
	if second.Built || second.ID != first.ID || second.Ref != first.Ref {
		t.Errorf("second call: built=%v id=%s ref=%s; want a cache hit on %s", second.Built, second.ID, second.Ref, first.ID)
	}
	if second.Took > time.Second {
		t.Errorf("cache hit took %v", second.Took)
	}
}

// removeTestImage untags an image made only for a test. The layers stay
// when a real image shares them.
func removeTestImage(tb testing.TB, ref string) {
	cli, err := connect(context.Background())
	if err != nil {
		tb.Error(err)
		return
	}
	defer cli.Close()
	if _, err := cli.ImageRemove(context.Background(), ref, client.ImageRemoveOptions{}); err != nil {
		tb.Errorf("remove test image: %v", err)
	}
}

// TestCleanupRemovesLeaks leaks a labelled container and network the way a
// crashed run would (created behind Cluster's back) and expects Cleanup to
// remove exactly those and report them.
func TestCleanupRemovesLeaks(t *testing.T) {
	needDocker(t)
	ctx := context.Background()
	runID := testRunID(t)
	cli, err := connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	spec, err := testHakv{Binary: hakvBinary}.Image(ctx)
	if err != nil {
		t.Fatal(err)
	}
	img, err := ensureImage(ctx, cli, spec)
	if err != nil {
		t.Fatal(err)
	}
	labels := map[string]string{LabelRun: runID, LabelNode: "n1"}
	net, err := cli.NetworkCreate(ctx, "hadrill-"+runID, client.NetworkCreateOptions{Driver: "bridge", Labels: labels})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeNetwork(ctx, cli, net.ID) })
	ctr, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config:           containerConfig(img.Ref, labels, "--id", "n1", "--peers", "n1=n1:7000"),
		NetworkingConfig: &network.NetworkingConfig{EndpointsConfig: map[string]*network.EndpointSettings{"hadrill-" + runID: {}}},
		Name:             "hadrill-" + runID + "-n1",
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeContainer(ctx, cli, ctr.ID) })
	if _, err := cli.ContainerStart(ctx, ctr.ID, client.ContainerStartOptions{}); err != nil {
		t.Fatal(err)
	}
	removed, err := Cleanup(ctx, CleanupOptions{RunID: runID})
	if err != nil {
		t.Fatal(err)
	}
	if removed.Containers != 1 || removed.Networks != 1 {
		t.Errorf("removed %+v, want 1 container and 1 network", removed)
	}
	if ctrs, nets := leftovers(t, runID); ctrs != 0 || nets != 0 {
		t.Errorf("after cleanup: %d containers, %d networks left", ctrs, nets)
	}
}

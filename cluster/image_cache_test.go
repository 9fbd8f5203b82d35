package cluster

import (
	"context"
	"slices"
	"testing"

	"github.com/moby/moby/client"

	"github.com/hadrill/hadrill/cluster/engine"
	"github.com/hadrill/hadrill/cluster/image"
	"github.com/hadrill/hadrill/internal/testsupport"
)

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
	unique.Files = append(slices.Clone(spec.Files), image.File{Path: "nonce", Content: []byte(testsupport.RunID(t))})
	first, err := image.Ensure(ctx, unique)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { removeTestImage(t, first.Ref) })
	second, err := image.Ensure(ctx, unique)
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
	// Compared with the build in the same minute, not with a figure: a
	// busy machine slows both, and a hit that did the build's work again
	// would take about as long as the build.
	if second.Took >= first.Took/2 {
		t.Errorf("cache hit took %v, not under half the build's %v", second.Took, first.Took)
	}
}

// removeTestImage untags an image made only for a test. The layers stay
// when a real image shares them.
func removeTestImage(tb testing.TB, ref string) {
	cli, err := engine.Connect(context.Background())
	if err != nil {
		tb.Error(err)
		return
	}
	defer cli.Close()
	if _, err := cli.ImageRemove(context.Background(), ref, client.ImageRemoveOptions{}); err != nil {
		tb.Errorf("remove test image: %v", err)
	}
}

package image

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/moby/moby/client"

	"github.com/hadrill/hadrill/cluster/engine"
	"github.com/hadrill/hadrill/cluster/label"
	"github.com/hadrill/hadrill/internal/testsupport"
)

// TestConcurrentBuildsOfOneImage starts four builds of the same, never
// built image at once, each on its own engine connection as separate hadrill
// processes would: every one must succeed and name the same tag, which must
// then resolve; one builds, the others find its image, and no superseded
// build is left dangling. The image is the test's own (a unique file) and
// is removed.
func TestConcurrentBuildsOfOneImage(t *testing.T) {
	testsupport.NeedDocker(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	spec := Spec{
		Repo:       "hadrill/test-race",
		Dockerfile: "FROM scratch\nCOPY marker /marker\n",
		Files:      []File{{Path: "marker", Content: fmt.Appendf(nil, "%s %d", t.Name(), time.Now().UnixNano())}},
	}
	const builds = 4
	imgs := make([]Image, builds)
	errs := make([]error, builds)
	var wg sync.WaitGroup
	for i := range builds {
		wg.Go(func() { imgs[i], errs[i] = Ensure(ctx, spec) })
	}
	wg.Wait()
	cli, err := engine.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	t.Cleanup(func() {
		for _, img := range imgs {
			if img.ID != "" {
				cli.ImageRemove(context.Background(), img.ID, client.ImageRemoveOptions{Force: true, PruneChildren: true})
			}
		}
	})
	built := 0
	for i := range builds {
		t.Logf("build %d: %+v %v", i, imgs[i], errs[i])
		if errs[i] != nil {
			t.Errorf("build %d: %v", i, errs[i])
			continue
		}
		if imgs[i].Ref != imgs[0].Ref {
			t.Errorf("build %d tagged %s, build 0 %s", i, imgs[i].Ref, imgs[0].Ref)
		}
		if imgs[i].Built {
			built++
		}
	}
	if _, err := cli.ImageInspect(ctx, imgs[0].Ref); err != nil {
		t.Errorf("the tag does not resolve after the builds: %v", err)
	}
	t.Logf("%d of %d calls built (the others found the image)", built, builds)
	if built != 1 {
		t.Errorf("%d builds, want 1", built)
	}
	dangling, err := cli.ImageList(ctx, client.ImageListOptions{
		Filters: make(client.Filters).Add("label", label.Build+"="+spec.Repo).Add("dangling", "true"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(dangling.Items); n != 0 {
		t.Errorf("%d superseded builds left dangling", n)
	}
	tags, err := cli.ImageList(ctx, client.ImageListOptions{Filters: make(client.Filters).Add("reference", spec.Repo)})
	if err != nil {
		t.Fatal(err)
	}
	for _, img := range tags.Items {
		for _, tag := range img.RepoTags {
			if tag != imgs[0].Ref {
				t.Errorf("a private build tag is left: %s", tag)
			}
		}
	}
}

package image

import (
	"context"
	"errors"
	"io"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"

	"github.com/hadrill/hadrill/cluster/engine"
	"github.com/hadrill/hadrill/cluster/label"
	"github.com/hadrill/hadrill/internal/testsupport"
)

// Pins of real packages for the builder's own tests (systems pin theirs in
// their folders).
const (
	testDebEtcdServer = "etcd-server=3.4.23-4+b4"
	testDebProcps     = "procps=2:4.0.2-3"
)

// needDebian skips (or, under CI=true, fails) a test that builds Debian
// images when Docker, debootstrap or root is missing.
func needDebian(tb testing.TB) {
	tb.Helper()
	testsupport.NeedDocker(tb)
	testsupport.NeedTool(tb, "debootstrap")
	testsupport.NeedRoot(tb, "debootstrap")
}

// ensureBase ensures the shared base before a test measures its own
// layer, and logs whether it was built.
func ensureBase(tb testing.TB) Image {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	img, err := EnsureDebianBase(ctx)
	if err != nil {
		tb.Fatalf("ensure debian base: %v", err)
	}
	tb.Logf("debian base %s (%s): built=%v took=%v", img.Ref, img.ID, img.Built, img.Took)
	return img
}

// TestDebianBaseCached ensures the base twice: the second call must find the
// image the first one built or found, with the same ID, without building.
func TestDebianBaseCached(t *testing.T) {
	needDebian(t)
	first := ensureBase(t)
	second := ensureBase(t)
	if second.Built {
		t.Errorf("second ensure built the base again")
	}
	if second.ID != first.ID || second.Ref != first.Ref {
		t.Errorf("second ensure gave %s (%s), first %s (%s)", second.Ref, second.ID, first.Ref, first.ID)
	}
	if first.Built && second.Took >= first.Took {
		t.Errorf("cache hit took %v, no faster than the build (%v)", second.Took, first.Took)
	}
}

// TestAptFailure reads the package and the reason out of apt's output, the
// way a failed layer build shows it.
func TestAptFailure(t *testing.T) {
	cases := []struct {
		name, output, pkg, reason string
	}{
		{"version missing", "Reading package lists...\n\x1b[91mE\x1b[0m\x1b[91m: Version '9.9.9-1' for 'etcd-server' was not found\n\x1b[0m",
			"etcd-server", "version 9.9.9-1 is not in the Debian archive"},
		{"version missing, plain", "Reading package lists...\nE: Version '9.9.9-1' for 'etcd-server' was not found\n",
			"etcd-server", "version 9.9.9-1 is not in the Debian archive"},
		{"package missing", "Building dependency tree...\nE: Unable to locate package etcd-servr\n",
			"etcd-servr", "not in the Debian archive"},
		{"no candidate", "E: Package 'mysql-server' has no installation candidate\n",
			"mysql-server", "not in the Debian archive"},
		{"archive unreachable", "W: Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease  Temporary failure resolving 'deb.debian.org'\n" +
			"E: Unable to locate package etcd-server\n",
			"etcd-server", "the Debian archive could not be reached (Failed to fetch http://deb.debian.org/debian/dists/bookworm/InRelease)"},
		{"not apt", "Step 3/4 : RUN false\nThe command '/bin/sh -c false' returned a non-zero code: 1\n", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pkg, reason := aptFailure(ansiEscape.ReplaceAllString(tc.output, ""))
			if pkg != tc.pkg || reason != tc.reason {
				t.Errorf("got (%q, %q), want (%q, %q)", pkg, reason, tc.pkg, tc.reason)
			}
			err := buildError("hadrill/x:1", tc.output, errors.New("exit 100"))
			if !errors.Is(err, ErrBuild) {
				t.Errorf("%v does not match ErrBuild", err)
			}
			if !strings.Contains(err.Error(), tc.pkg) {
				t.Errorf("%v does not name %q", err, tc.pkg)
			}
		})
	}
}

// TestDebianRecipeSpec checks the Dockerfile a recipe turns into, that the
// layer's tag follows the base's, and that unsafe recipes are refused.
func TestDebianRecipeSpec(t *testing.T) {
	r := DebianRecipe{
		Repo: "hadrill/test", Packages: []string{testDebEtcdServer, testDebProcps},
		Files: []File{{Path: "etc/x.conf", Content: []byte("x")}},
		Env:   map[string]string{"B": "2", "A": "1 2"}, Run: []string{"true"}, User: "nobody",
	}
	if err := r.validate(); err != nil {
		t.Fatal(err)
	}
	want := "FROM hadrill/debian-base:aaaa\n" +
		"RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends etcd-server=3.4.23-4+b4 procps=2:4.0.2-3 libfaketime=0.9.10-2.1" +
		" && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin\n" +
		"COPY [\"etc/x.conf\", \"/etc/x.conf\"]\nENV A=\"1 2\"\nENV B=\"2\"\nRUN true\nUSER nobody\n"
	spec := r.layer("hadrill/debian-base:aaaa")
	if spec.Dockerfile != want {
		t.Errorf("dockerfile:\n%s\nwant:\n%s", spec.Dockerfile, want)
	}
	files, err := LoadFiles(spec.Files)
	if err != nil {
		t.Fatal(err)
	}
	other := r.layer("hadrill/debian-base:bbbb")
	if contextTag(spec.Dockerfile, files) == contextTag(other.Dockerfile, files) {
		t.Errorf("the layer's tag does not change with the base")
	}
	bad := []DebianRecipe{
		{Packages: []string{testDebProcps}},
		{Repo: "r", Packages: []string{"etcd-server"}},
		{Repo: "r", Packages: []string{"etcd-server=1; rm -rf /"}},
		{Repo: "r", Files: []File{{Path: "/etc/x"}}},
		{Repo: "r", Files: []File{{Path: "etc/../../x"}}},
		{Repo: "r", Env: map[string]string{"A B": "1"}},
		{Repo: "r", Run: []string{"true\nUSER root"}},
	}
	for _, b := range bad {
		if err := b.validate(); err == nil {
			t.Errorf("recipe %+v accepted", b)
		}
	}
}

// layerRef is the tag Ensure gives spec.
func layerRef(tb testing.TB, spec Spec) string {
	tb.Helper()
	files, err := LoadFiles(spec.Files)
	if err != nil {
		tb.Fatal(err)
	}
	return spec.Repo + ":" + contextTag(spec.Dockerfile, files)
}

// TestDebianLayerEtcd builds the etcd layer with the pinned etcd-server and
// runs `etcd --version` in a container of it.
func TestDebianLayerEtcd(t *testing.T) {
	needDebian(t)
	ensureBase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	spec, err := DebianRecipe{Repo: "hadrill/test-etcd", Packages: []string{testDebEtcdServer}}.Spec(ctx)
	if err != nil {
		t.Fatal(err)
	}
	img, err := Ensure(ctx, spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("etcd layer %s: built=%v took=%v", img.Ref, img.Built, img.Took)
	out := runOnce(t, img.Ref, "etcd", "--version")
	if !strings.Contains(out, "etcd Version: 3.4.23") {
		t.Errorf("etcd --version printed %q, want etcd Version: 3.4.23", out)
	}
}

// TestDebianLayerMissingVersion asks for a version the archive does not
// have: the error must name the package, be an ErrBuild (exit 3), and
// leave no image under the layer's tag.
func TestDebianLayerMissingVersion(t *testing.T) {
	needDebian(t)
	ensureBase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	spec, err := DebianRecipe{Repo: "hadrill/test-missing", Packages: []string{"etcd-server=9.9.9-1"}}.Spec(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Ensure(ctx, spec)
	if !errors.Is(err, ErrBuild) {
		t.Fatalf("ensure gave %v, want an ErrBuild", err)
	}
	if msg := err.Error(); !strings.Contains(msg, "package etcd-server") || !strings.Contains(msg, "9.9.9-1") {
		t.Errorf("error %q does not name the package and version", msg)
	}
	t.Logf("error: %v", err)
	cli, err := engine.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.ImageInspect(ctx, layerRef(t, spec)); !errdefs.IsNotFound(err) {
		t.Errorf("inspect %s after the failed build: %v, want not found", layerRef(t, spec), err)
	}
}

// TestDebianLayerConcurrent ensures one new layer from two goroutines at
// once: both must succeed with the same image, built once.
func TestDebianLayerConcurrent(t *testing.T) {
	needDebian(t)
	ensureBase(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	spec, err := DebianRecipe{Repo: "hadrill/test-concurrent", Run: []string{"echo " + testsupport.RunID(t) + " > /nonce"}}.Spec(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var imgs [2]Image
	var errs [2]error
	var wg sync.WaitGroup
	for i := range imgs {
		wg.Go(func() { imgs[i], errs[i] = Ensure(ctx, spec) })
	}
	wg.Wait()
	t.Cleanup(func() { removeLayer(t, imgs[0].ID) })
	for i, err := range errs {
		if err != nil {
			t.Fatalf("ensure %d: %v", i, err)
		}
	}
	if imgs[0].ID != imgs[1].ID {
		t.Errorf("two images for one spec: %s and %s", imgs[0].ID, imgs[1].ID)
	}
	if imgs[0].Built == imgs[1].Built {
		t.Errorf("built = %v and %v, want exactly one build", imgs[0].Built, imgs[1].Built)
	}
}

// removeLayer removes a test's layer image by ID, untagged parents included
// (the base, tagged, stays).
func removeLayer(tb testing.TB, id string) {
	if id == "" {
		return
	}
	cli, err := engine.Connect(context.Background())
	if err != nil {
		tb.Error(err)
		return
	}
	defer cli.Close()
	if _, err := cli.ImageRemove(context.Background(), id, client.ImageRemoveOptions{Force: true, PruneChildren: true}); err != nil {
		tb.Errorf("remove test image: %v", err)
	}
}

// runOnce runs cmd in a container of ref, labelled with the test's run ID,
// and returns its output once it exits; the container is removed.
func runOnce(tb testing.TB, ref string, cmd ...string) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cli, err := engine.Connect(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	defer cli.Close()
	runID := testsupport.RunID(tb)
	created, err := cli.ContainerCreate(ctx, client.ContainerCreateOptions{
		Config: &container.Config{Image: ref, Cmd: cmd, Tty: true, Labels: map[string]string{label.Run: runID}},
	})
	if err != nil {
		tb.Fatal(err)
	}
	defer func() {
		if err := engine.RemoveContainer(context.Background(), cli, created.ID); err != nil {
			tb.Errorf("remove container: %v", err)
		}
		if ctrs, _ := testsupport.Leftovers(tb, runID); ctrs != 0 {
			tb.Errorf("%d containers of run %s left", ctrs, runID)
		}
	}()
	if _, err := cli.ContainerStart(ctx, created.ID, client.ContainerStartOptions{}); err != nil {
		tb.Fatal(err)
	}
	wait := cli.ContainerWait(ctx, created.ID, client.ContainerWaitOptions{Condition: container.WaitConditionNotRunning})
	select {
	case err := <-wait.Error:
		tb.Fatalf("wait for %v: %v", cmd, err)
	case res := <-wait.Result:
		if res.StatusCode != 0 {
			tb.Errorf("%v exited %d", cmd, res.StatusCode)
		}
	}
	logs, err := cli.ContainerLogs(ctx, created.ID, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true})
	if err != nil {
		tb.Fatal(err)
	}
	defer logs.Close()
	out, err := io.ReadAll(logs)
	if err != nil {
		tb.Fatal(err)
	}
	return string(out)
}

// TestDebianBaseCancel cancels a base build once debootstrap has started
// writing: the call must end with the context's error, leave no temporary
// folder behind and no image under the recipe's tag.
func TestDebianBaseCancel(t *testing.T) {
	needDebian(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	b := defaultDebianBase
	b.AptConf += "// " + testsupport.RunID(t) + "\n" // a recipe no one has built
	cli, err := engine.Connect(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		_, err := ensureDebianBase(ctx, cli, b)
		done <- err
	}()
	started := time.NewTicker(100 * time.Millisecond)
	defer started.Stop()
	for written := false; !written; {
		select {
		case err := <-done:
			t.Fatalf("build ended before it was cancelled: %v", err)
		case <-started.C:
			m, _ := filepath.Glob(filepath.Join(tmp, "hadrill-debian-base-*", "rootfs", "*"))
			written = len(m) > 0
		}
	}
	cancel()
	err = <-done
	if !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled build gave %v, want context.Canceled", err)
	}
	if left, _ := filepath.Glob(filepath.Join(tmp, "hadrill-debian-base-*")); len(left) > 0 {
		t.Errorf("temporary folders left: %v", left)
	}
	if _, err := cli.ImageInspect(context.Background(), b.ref()); !errdefs.IsNotFound(err) {
		t.Errorf("inspect %s after the cancelled build: %v, want not found", b.ref(), err)
	}
}

// TestDebianBaseNeedsDebootstrap hides debootstrap: the build must stop
// before anything else with an ErrBuild that names the tool.
func TestDebianBaseNeedsDebootstrap(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	err := defaultDebianBase.build(context.Background(), nil, "hadrill/debian-base:test")
	if !errors.Is(err, ErrBuild) || !strings.Contains(err.Error(), "debootstrap is not installed") {
		t.Errorf("build without debootstrap gave %v, want an ErrBuild naming debootstrap", err)
	}
}

package cluster

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/containerd/errdefs"
	"github.com/moby/moby/client"
	"github.com/moby/moby/client/pkg/jsonmessage"
)

// ImageSpec says how to build a system's image locally: there is no registry
// to pull from, so every image is built from a Dockerfile and the files of
// its context. The tag is the hash of exactly those bytes, which makes the
// image cache content-addressed: an unchanged build is found, not rebuilt,
// and a changed binary can never be served by a stale image.
type ImageSpec struct {
	// Repo is the image name without a tag ("hadrill/hakv").
	Repo string
	// Dockerfile is the Dockerfile's text.
	Dockerfile string
	// Files are the build context's files (File.Path is the name in the
	// context). Keep contexts small: they are hashed and sent on every cache
	// miss.
	Files []File
}

// Image is an image that is present in the local engine.
type Image struct {
	// Ref is repo:tag, what containers are created from.
	Ref string
	// ID is the engine's image ID (sha256:...). An unchanged ID across calls
	// proves the cache was used.
	ID string
	// Built is true when this call built the image, false on a cache hit.
	Built bool
	// Took is how long the call took (hash, lookup and any build).
	Took time.Duration
}

// contextTagLen is how many hex digits of the SHA-256 go into the tag: 64
// bits, ample to tell builds apart and short enough to read in `docker images`.
const contextTagLen = 16

// EnsureImage returns the image for spec, building it only when no image with
// the spec's content tag exists yet. It is what Start calls; it is exported so
// that `hadrill run` can build before its first run and report the time.
func EnsureImage(ctx context.Context, spec ImageSpec) (Image, error) {
	cli, err := connect(ctx)
	if err != nil {
		return Image{}, err
	}
	defer cli.Close()
	return ensureImage(ctx, cli, spec)
}

func ensureImage(ctx context.Context, cli client.APIClient, spec ImageSpec) (Image, error) {
	began := time.Now()
	files, err := loadFiles(spec.Files)
	if err != nil {
		return Image{}, fmt.Errorf("load build context of %s: %w", spec.Repo, err)
	}
	img := Image{Ref: spec.Repo + ":" + contextTag(spec.Dockerfile, files)}
	// Runs started together on one host would each build the same image:
	// all would succeed, but every build the last one superseded would be
	// left dangling. The first builds; the others wait and find its image.
	unlock, err := lockBuild(ctx, img.Ref)
	if err != nil {
		return Image{}, err
	}
	defer unlock()
	found, err := cli.ImageInspect(ctx, img.Ref)
	if err == nil {
		img.ID, img.Took = found.ID, time.Since(began)
		slog.Debug("image found", "image", img.Ref, "id", img.ID)
		return img, nil
	}
	if !errdefs.IsNotFound(err) {
		return Image{}, fmt.Errorf("inspect image %s: %w", img.Ref, err)
	}
	slog.Info("building image", "image", img.Ref)
	if err := buildImage(ctx, cli, img.Ref, spec, files); err != nil {
		return Image{}, err
	}
	found, err = cli.ImageInspect(ctx, img.Ref)
	if err != nil {
		return Image{}, fmt.Errorf("inspect built image %s: %w", img.Ref, err)
	}
	img.ID, img.Built, img.Took = found.ID, true, time.Since(began)
	slog.Info("image built", "image", img.Ref, "took", img.Took.Round(time.Millisecond))
	return img, nil
}

// loadFiles reads every context file into memory, sorted by path, so that the
// hash and the tar see the same bytes even if a file changes meanwhile.
func loadFiles(in []File) ([]File, error) {
	out := make([]File, len(in))
	for i, f := range in {
		if f.Content == nil {
			b, err := os.ReadFile(f.HostPath)
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", f.HostPath, err)
			}
			f.Content = b
		}
		if f.Mode == 0 {
			f.Mode = 0o644
		}
		out[i] = f
	}
	slices.SortFunc(out, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// contextTag hashes the Dockerfile and every file's name, mode and bytes,
// each length-prefixed so that no two different contexts hash alike.
func contextTag(dockerfile string, files []File) string {
	h := sha256.New()
	field := func(b []byte) {
		var n [8]byte
		binary.BigEndian.PutUint64(n[:], uint64(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	field([]byte(dockerfile))
	for _, f := range files {
		field([]byte(f.Path))
		field(fmt.Appendf(nil, "%o", f.Mode))
		field(f.Content)
	}
	return hex.EncodeToString(h.Sum(nil))[:contextTagLen]
}

// buildImage sends the context as an in-memory tar and reads the build's
// message stream to the end: the engine reports build errors in the stream,
// not in the HTTP status.
func buildImage(ctx context.Context, cli client.APIClient, ref string, spec ImageSpec, files []File) error {
	tarball, err := contextTar(spec.Dockerfile, files)
	if err != nil {
		return fmt.Errorf("pack build context of %s: %w", ref, err)
	}
	resp, err := cli.ImageBuild(ctx, tarball, client.ImageBuildOptions{
		Tags:        []string{ref},
		Dockerfile:  "Dockerfile",
		Remove:      true,
		ForceRemove: true,
		Labels:      map[string]string{LabelBuild: spec.Repo},
	})
	if err != nil {
		return fmt.Errorf("build image %s: %w", ref, err)
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	if err := jsonmessage.DisplayJSONMessagesStream(resp.Body, &out, 0, false, nil); err != nil {
		return fmt.Errorf("build image %s: %w: %s", ref, err, lastLines(out.String(), 10))
	}
	slog.Debug("build output", "image", ref, "output", out.String())
	return nil
}

// contextTar packs the Dockerfile and files into a tar archive. Times are
// fixed so the archive depends on content alone.
func contextTar(dockerfile string, files []File) (io.Reader, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	all := append([]File{{Path: "Dockerfile", Content: []byte(dockerfile), Mode: 0o644}}, files...)
	for _, f := range all {
		if strings.HasPrefix(f.Path, "/") || strings.Contains(f.Path, "..") {
			return nil, fmt.Errorf("pack %s: context paths must be relative", f.Path)
		}
		hdr := &tar.Header{Name: f.Path, Mode: f.Mode, Size: int64(len(f.Content)), ModTime: time.Unix(0, 0)}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, fmt.Errorf("pack %s: %w", f.Path, err)
		}
		if _, err := tw.Write(f.Content); err != nil {
			return nil, fmt.Errorf("pack %s: %w", f.Path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, fmt.Errorf("close build context: %w", err)
	}
	return &buf, nil
}

// lastLines keeps the end of a long output for an error message.
func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// Package image builds the images hadrill runs clusters from, locally and
// content-addressed: a Spec (a Dockerfile and its context) is hashed into
// its tag, so an unchanged build is found in the engine's cache and a
// changed one is never served stale. Systems on Debian declare their image
// as a DebianRecipe of pinned packages on a shared base that debootstrap
// builds. Builds of one image are serialised across processes by a lock,
// an image is shipped to the other engines of a multi-engine cluster, and
// every failure to build matches ErrBuild.
package image

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

	"github.com/hadrill/hadrill/cluster/engine"
	"github.com/hadrill/hadrill/cluster/label"
)

// Spec says how to build a system's image locally: there is no registry
// to pull from, so every image is built from a Dockerfile and the files of
// its context. The tag is the hash of exactly those bytes, which makes the
// image cache content-addressed: an unchanged build is found, not rebuilt,
// and a changed binary can never be served by a stale image.
type Spec struct {
	// Repo is the image name without a tag ("hadrill/hakv").
	Repo string
	// Dockerfile is the Dockerfile's text.
	Dockerfile string
	// Files are the build context's files (File.Path is the name in the
	// context). Keep contexts small: they are hashed and sent on every cache
	// miss.
	Files []File
}

// File is a file to place in an image build context or in a container: from
// HostPath, or from Content when that is set.
type File struct {
	// Path is the path in the container, or the name in the build context.
	Path string
	// HostPath is read when Content is nil.
	HostPath string
	// Content is the file's bytes.
	Content []byte
	// Mode is the permission bits; 0 means 0o644.
	Mode int64
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

// Ensure returns the image for spec on the default engine, building it only
// when no image with the spec's content tag exists yet. `hadrill run` calls
// it to build before its first run and report the time.
func Ensure(ctx context.Context, spec Spec) (Image, error) {
	cli, err := engine.Connect(ctx)
	if err != nil {
		return Image{}, err
	}
	defer cli.Close()
	return EnsureOn(ctx, cli, spec)
}

// EnsureOn is Ensure on the engine of cli: cluster.Start builds on the
// engine it already holds a client of (the first of several).
func EnsureOn(ctx context.Context, cli client.APIClient, spec Spec) (Image, error) {
	began := time.Now()
	files, err := LoadFiles(spec.Files)
	if err != nil {
		return Image{}, fmt.Errorf("load build context of %s: %w", spec.Repo, err)
	}
	ref := spec.Repo + ":" + contextTag(spec.Dockerfile, files)
	return ensureRef(ctx, cli, ref, began, "", func() error {
		return buildImage(ctx, cli, ref, spec, files)
	})
}

// ensureRef returns the image ref, calling build (which must tag ref, and
// only once the image is complete) when the engine has no such image. The
// build runs under ref's lock: another process or goroutine building the same
// image is waited for, and its image used, rather than built twice. how says
// how the image is made, for the progress line.
func ensureRef(ctx context.Context, cli client.APIClient, ref string, began time.Time, how string, build func() error) (Image, error) {
	img := Image{Ref: ref}
	found, err := cli.ImageInspect(ctx, ref)
	if err == nil {
		img.ID, img.Took = found.ID, time.Since(began)
		slog.Debug("image found", "image", ref, "id", img.ID)
		return img, nil
	}
	if !errdefs.IsNotFound(err) {
		return Image{}, fmt.Errorf("inspect image %s: %w", ref, err)
	}
	unlock, err := lockImage(ctx, ref)
	if err != nil {
		return Image{}, err
	}
	defer unlock()
	if found, err := cli.ImageInspect(ctx, ref); err == nil {
		img.ID, img.Took = found.ID, time.Since(began)
		slog.Debug("image found after waiting for its builder", "image", ref, "id", img.ID)
		return img, nil
	}
	if how != "" {
		slog.Info("build image", "image", ref, "with", how)
	} else {
		slog.Info("build image", "image", ref)
	}
	if err := build(); err != nil {
		return Image{}, err
	}
	if found, err = cli.ImageInspect(ctx, ref); err != nil {
		return Image{}, fmt.Errorf("inspect built image %s: %w", ref, err)
	}
	img.ID, img.Built, img.Took = found.ID, true, time.Since(began)
	slog.Info("image built", "image", ref, "took", img.Took.Round(time.Millisecond))
	return img, nil
}

// LoadFiles reads every file into memory, sorted by path, so that the hash
// and the tar of a build context see the same bytes even if a file changes
// meanwhile. cluster uses it to pack a container's files too.
func LoadFiles(in []File) ([]File, error) {
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
// not in the HTTP status. The engine tags the image only when every step
// succeeded, so a failed build leaves no image under ref.
func buildImage(ctx context.Context, cli client.APIClient, ref string, spec Spec, files []File) error {
	tarball, err := contextTar(spec.Dockerfile, files)
	if err != nil {
		return fmt.Errorf("pack build context of %s: %w", ref, err)
	}
	resp, err := cli.ImageBuild(ctx, tarball, client.ImageBuildOptions{
		Tags:        []string{ref},
		Dockerfile:  "Dockerfile",
		Remove:      true,
		ForceRemove: true,
		Labels:      map[string]string{label.Build: spec.Repo},
	})
	if err != nil {
		return &imageBuildError{ref: ref, err: err}
	}
	defer resp.Body.Close()
	var out bytes.Buffer
	if err := jsonmessage.DisplayJSONMessagesStream(resp.Body, &out, 0, false, nil); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("build image %s: %w", ref, ctx.Err())
		}
		return buildError(ref, out.String(), err)
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

package image

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/moby/moby/api/types/jsonstream"
	"github.com/moby/moby/client"

	"github.com/hadrill/hadrill/cluster/engine"
	"github.com/hadrill/hadrill/cluster/label"
)

// DebianRelease is the Debian release every system image is built from: the
// release of the machines hadrill runs on, whose archive versions
// debian_versions.go pins.
const DebianRelease = "bookworm"

// debianBaseRepo names the shared base image; its tag is the recipe's hash.
const debianBaseRepo = "hadrill/debian-base"

// debianBaseVersion is bumped whenever the way the base is made changes in a
// way the hashed fields below do not show (debootstrap flags, the trim), so
// that an old base is never served for a new recipe.
const debianBaseVersion = "2"

// debianBase is the recipe of the base image. It is data, hashed into the
// tag: any change to it gives a new image, never a stale one.
type debianBase struct {
	Release string
	Variant string
	// Include are extra packages debootstrap installs.
	Include []string
	// Mirror and SecurityMirror are the archive URIs, written into the
	// image's apt sources too, so every layer installs from the same place.
	Mirror, SecurityMirror string
	Arch                   string
	// AptConf and DpkgConf are the files written into the image to make apt
	// work like the host's (no Release-file expiry check) and to keep docs,
	// man pages and locales out of every later layer.
	AptConf, DpkgConf string
}

// defaultDebianBase is the base every DebianRecipe builds on.
var defaultDebianBase = debianBase{
	Release:        DebianRelease,
	Variant:        "minbase",
	Include:        []string{"ca-certificates"},
	Mirror:         "http://deb.debian.org/debian",
	SecurityMirror: "http://deb.debian.org/debian-security",
	Arch:           debianArch(runtime.GOARCH),
	AptConf: `Acquire::Check-Valid-Until "false";
Acquire::Check-Date "false";
APT::Install-Recommends "false";
APT::Install-Suggests "false";
`,
	DpkgConf: `path-exclude=/usr/share/doc/*
path-include=/usr/share/doc/*/copyright
path-exclude=/usr/share/man/*
path-exclude=/usr/share/info/*
path-exclude=/usr/share/locale/*
path-include=/usr/share/locale/locale.alias
path-exclude=/usr/share/lintian/*
`,
}

// debianArch is Debian's name for a Go architecture.
func debianArch(goarch string) string {
	switch goarch {
	case "386":
		return "i386"
	case "arm":
		return "armhf"
	}
	return goarch
}

// ref is the base image's content-addressed name.
func (b debianBase) ref() string {
	recipe, _ := json.Marshal(struct {
		Version string
		Base    debianBase
	}{debianBaseVersion, b})
	sum := sha256.Sum256(recipe)
	return debianBaseRepo + ":" + hex.EncodeToString(sum[:])[:contextTagLen]
}

// sources is the deb822 sources file of the image: the release, its
// updates and its security suite.
func (b debianBase) sources() string {
	return fmt.Sprintf(`Types: deb
URIs: %s
Suites: %s %s-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: %s
Suites: %s-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
`, b.Mirror, b.Release, b.Release, b.SecurityMirror, b.Release)
}

// EnsureDebianBase returns the shared Debian base image, building it with
// debootstrap when no image of the current recipe exists. Every DebianRecipe
// calls it; it is exported so that `hadrill images` can prebuild the base.
// Building needs root and debootstrap on the host; their absence is an
// ErrBuild that names what is missing.
func EnsureDebianBase(ctx context.Context) (Image, error) {
	cli, err := engine.Connect(ctx)
	if err != nil {
		return Image{}, err
	}
	defer cli.Close()
	return ensureDebianBase(ctx, cli, defaultDebianBase)
}

func ensureDebianBase(ctx context.Context, cli client.APIClient, b debianBase) (Image, error) {
	ref := b.ref()
	return ensureRef(ctx, cli, ref, time.Now(), "debootstrap "+b.Release, func() error {
		return b.build(ctx, cli, ref)
	})
}

// build makes the root file system in a temporary folder, imports it as an
// untagged image, and tags it only once the import is complete, so that no
// half-made base ever carries the tag. The folder is removed on every path.
func (b debianBase) build(ctx context.Context, cli client.APIClient, ref string) error {
	for _, tool := range []string{"debootstrap", "tar"} {
		if _, err := exec.LookPath(tool); err != nil {
			return &imageBuildError{ref: ref, err: fmt.Errorf("%s is not installed (apt-get install %s): %w", tool, tool, err)}
		}
	}
	if os.Geteuid() != 0 {
		return &imageBuildError{ref: ref, err: errors.New("debootstrap needs root: run as root, or run `make images` once as root")}
	}
	dir, err := os.MkdirTemp("", "hadrill-debian-base-")
	if err != nil {
		return &imageBuildError{ref: ref, err: err}
	}
	defer removeRootfs(dir)
	root := filepath.Join(dir, "rootfs")
	if err := b.debootstrap(ctx, root); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("build image %s: %w", ref, ctx.Err())
		}
		return &imageBuildError{ref: ref, err: err}
	}
	if err := b.finish(root); err != nil {
		return &imageBuildError{ref: ref, err: err}
	}
	id, err := importRootfs(ctx, cli, root)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("build image %s: %w", ref, ctx.Err())
		}
		return &imageBuildError{ref: ref, err: err}
	}
	if _, err := cli.ImageTag(ctx, client.ImageTagOptions{Source: id, Target: ref}); err != nil {
		removeImage(cli, id)
		return &imageBuildError{ref: ref, err: fmt.Errorf("tag %s: %w", id, err)}
	}
	return nil
}

// debootstrapArgs are the arguments of the debootstrap run into root.
func (b debianBase) debootstrapArgs(root string) []string {
	args := []string{"--variant=" + b.Variant, "--arch=" + b.Arch}
	if len(b.Include) > 0 {
		args = append(args, "--include="+strings.Join(b.Include, ","))
	}
	return append(args, b.Release, root, b.Mirror)
}

// trimmed are removed from the root file system after debootstrap: docs
// (but for the copyright notices), man pages and translations nobody reads
// in a node, and apt's lists and caches, which every layer fetches fresh
// anyway (2 × 37 MB otherwise). Each glob's matches are removed unless their
// base name is keep.
var trimmed = []struct{ glob, keep string }{
	{"usr/share/doc/*/*", "copyright"}, {"usr/share/locale/*", "locale.alias"},
	{"usr/share/man/*", ""}, {"usr/share/info/*", ""}, {"usr/share/lintian/*", ""},
	{"var/lib/apt/lists/*", ""}, {"var/cache/apt/*.bin", ""}, {"var/cache/apt/archives/*.deb", ""},
	{"var/cache/debconf/*-old", ""}, {"var/log/*.log", ""}, {"var/log/apt/*", ""},
	{"etc/apt/sources.list", ""},
}

// finish trims root and writes the apt, dpkg and service-start policy that
// the layers on top rely on.
func (b debianBase) finish(root string) error {
	for _, t := range trimmed {
		matches, err := filepath.Glob(filepath.Join(root, t.glob))
		if err != nil {
			return fmt.Errorf("trim %s: %w", t.glob, err)
		}
		for _, m := range matches {
			if filepath.Base(m) == t.keep {
				continue
			}
			if err := os.RemoveAll(m); err != nil {
				return fmt.Errorf("trim %s: %w", m, err)
			}
		}
	}
	files := []struct {
		path, content string
		mode          os.FileMode
	}{
		{"etc/apt/apt.conf.d/99hadrill", b.AptConf, 0o644},
		{"etc/apt/sources.list.d/debian.sources", b.sources(), 0o644},
		{"etc/dpkg/dpkg.cfg.d/99hadrill-nodoc", b.DpkgConf, 0o644},
		// Package scripts must not start services inside a build: the
		// node's command starts them.
		{"usr/sbin/policy-rc.d", "#!/bin/sh\nexit 101\n", 0o755},
	}
	for _, f := range files {
		if err := os.WriteFile(filepath.Join(root, f.path), []byte(f.content), f.mode); err != nil {
			return fmt.Errorf("configure base: %w", err)
		}
	}
	return nil
}

// importRootfs streams root as a tar into the engine and returns the new,
// untagged image's ID. A tar that fails midway fails the import.
func importRootfs(ctx context.Context, cli client.APIClient, root string) (string, error) {
	tarCmd := exec.CommandContext(ctx, "tar", "--numeric-owner", "--xattrs", "-C", root, "-cf", "-", ".")
	var stderr strings.Builder
	tarCmd.Stderr = &stderr
	pr, pw := io.Pipe()
	tarCmd.Stdout = pw
	if err := tarCmd.Start(); err != nil {
		return "", fmt.Errorf("pack root file system: %w", err)
	}
	tarDone := make(chan error, 1)
	go func() {
		err := tarErr(tarCmd.Wait(), &stderr)
		pw.CloseWithError(err)
		tarDone <- err
	}()
	resp, err := cli.ImageImport(ctx, client.ImageImportSource{Source: pr, SourceName: "-"}, "", client.ImageImportOptions{
		Message: "hadrill debian base",
		Changes: []string{
			"LABEL " + label.Build + "=" + debianBaseRepo,
			"ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			`CMD ["bash"]`,
		},
	})
	var id string
	if err == nil {
		id, err = importedID(resp)
		resp.Close()
	}
	// Unblock tar if the engine stopped reading, then learn how tar ended:
	// an import of a truncated stream may have succeeded, and is dropped.
	pr.CloseWithError(io.ErrClosedPipe)
	if terr := <-tarDone; terr != nil && err == nil {
		err = terr
	}
	if err != nil {
		if id != "" {
			removeImage(cli, id)
		}
		return "", fmt.Errorf("import root file system: %w", err)
	}
	return id, nil
}

// tarErr turns tar's exit into the pipe's close error.
func tarErr(err error, stderr *strings.Builder) error {
	if err != nil {
		return fmt.Errorf("tar: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// importedID reads the import's message stream; its last status is the ID.
func importedID(r io.Reader) (string, error) {
	dec := json.NewDecoder(r)
	var id string
	for {
		var m jsonstream.Message
		if err := dec.Decode(&m); err == io.EOF {
			break
		} else if err != nil {
			return id, err
		}
		if m.Error != nil {
			return id, m.Error
		}
		if strings.HasPrefix(m.Status, "sha256:") {
			id = strings.TrimSpace(m.Status)
		}
	}
	if id == "" {
		return "", errors.New("the engine returned no image ID")
	}
	return id, nil
}

// removeImage removes an image this process made but did not finish, with a
// context of its own: it runs after the caller's may have been cancelled.
func removeImage(cli client.APIClient, id string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := cli.ImageRemove(ctx, id, client.ImageRemoveOptions{Force: true, PruneChildren: true}); err != nil {
		slog.Warn("remove unfinished image", "image", id, "err", err)
	}
}

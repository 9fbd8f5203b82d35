package image

import (
	"context"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// DebianRecipe declares a system's image as data: Debian packages, pinned to
// exact archive versions, installed on hadrill's shared Debian base, plus a
// few files and commands. A system returns it from its Image method:
//
//	func (etcd) Image(ctx context.Context) (image.Spec, error) {
//		return image.DebianRecipe{
//			Repo:     "hadrill/etcd",
//			Packages: []string{"etcd-server=3.4.23-4+b4"},
//		}.Spec(ctx)
//	}
//
// The resulting Spec's Dockerfile starts FROM the base's
// content-addressed tag, so the layer's tag (Ensure hashes the
// Dockerfile) changes whenever the base, a pin, a file or a line changes, and
// is found in the cache otherwise.
type DebianRecipe struct {
	// Repo is the image name without a tag ("hadrill/etcd").
	Repo string
	// Packages are "name=version" pins (see debian_versions.go). An unpinned
	// name is refused: the archive moves, and a tag must name one content.
	Packages []string
	// Files are copied into the image, each to "/" + File.Path, after the
	// packages are installed (configuration, scripts).
	Files []File
	// Env is set in the image (ENV), after the packages and files.
	Env map[string]string
	// Run are extra shell commands (RUN lines), run after Env, as root.
	Run []string
	// User, when set, is the user containers run as (PostgreSQL refuses
	// root). It must exist: a package creates it, or a Run line does.
	User string
}

// debianPin is "name=version" with Debian's characters for each: the pins
// go into a shell command line, so nothing else may pass.
var debianPin = regexp.MustCompile(`^[a-z0-9][a-z0-9+.-]*=[0-9][A-Za-z0-9.+~:-]*$`)

// envName is a portable environment variable name.
var envName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Spec ensures the shared Debian base (building it once, on a cache miss,
// with debootstrap) and returns the spec of this recipe's layer on it, for
// Ensure or for cluster.Start to build.
func (r DebianRecipe) Spec(ctx context.Context) (Spec, error) {
	if err := r.validate(); err != nil {
		return Spec{}, err
	}
	base, err := EnsureDebianBase(ctx)
	if err != nil {
		return Spec{}, err
	}
	return r.layer(base.Ref), nil
}

// validate rejects what would make a wrong or unsafe Dockerfile.
func (r DebianRecipe) validate() error {
	if r.Repo == "" {
		return fmt.Errorf("debian recipe: no repo")
	}
	for _, p := range r.Packages {
		if !debianPin.MatchString(p) {
			return fmt.Errorf("debian recipe %s: package %q is not pinned as name=version", r.Repo, p)
		}
	}
	for k := range r.Env {
		if !envName.MatchString(k) {
			return fmt.Errorf("debian recipe %s: bad environment variable name %q", r.Repo, k)
		}
	}
	for _, f := range r.Files {
		if f.Path == "" || strings.HasPrefix(f.Path, "/") || strings.Contains(f.Path, "..") {
			return fmt.Errorf("debian recipe %s: file path %q must be relative to / and stay below it", r.Repo, f.Path)
		}
	}
	for _, line := range append(slices.Clone(r.Run), r.User) {
		if strings.ContainsAny(line, "\n\r") {
			return fmt.Errorf("debian recipe %s: %q spans lines; join commands with &&", r.Repo, line)
		}
	}
	return nil
}

// layer writes the layer's Dockerfile on the base named baseRef.
func (r DebianRecipe) layer(baseRef string) Spec {
	var df strings.Builder
	fmt.Fprintf(&df, "FROM %s\n", baseRef)
	if len(r.Packages) > 0 {
		// One step, so that a failed install leaves no intermediate
		// image; the front end is set for this step only.
		// libfaketime comes with every image: the node agent's clock
		// fault preloads it into the system's process.
		fmt.Fprintf(&df, "RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends %s %s"+
			" && apt-get clean && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin\n",
			strings.Join(r.Packages, " "), debLibFaketime)
	}
	for _, f := range r.Files {
		fmt.Fprintf(&df, "COPY [%s, %s]\n", strconv.Quote(f.Path), strconv.Quote("/"+f.Path))
	}
	for _, k := range slices.Sorted(maps.Keys(r.Env)) {
		fmt.Fprintf(&df, "ENV %s=%s\n", k, strconv.Quote(r.Env[k]))
	}
	for _, line := range r.Run {
		fmt.Fprintf(&df, "RUN %s\n", line)
	}
	if r.User != "" {
		fmt.Fprintf(&df, "USER %s\n", r.User)
	}
	return Spec{Repo: r.Repo, Dockerfile: df.String(), Files: slices.Clone(r.Files)}
}

package image

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/hadrill/hadrill/cluster/engine"
)

// ErrBuild is matched (errors.Is) by every error that means an image
// could not be built: a missing build tool, an unreachable Debian archive, a
// package or version the archive does not have, a failing build step. It is a
// fault of the machine or of the recipe, not of the system under test, so the
// CLI maps it to exit code 3, like every engine.ErrEnvironment.
var ErrBuild = engine.Environmental("image build failed")

// imageBuildError says which image failed, and, when the build output shows
// it, which Debian package was to blame and why, so that the one line the CLI
// prints is enough to act on.
type imageBuildError struct {
	ref string
	// pkg and reason come from apt's output when it names a package.
	pkg, reason string
	err         error
}

func (e *imageBuildError) Error() string {
	msg := "build image " + e.ref
	if e.pkg != "" {
		msg += ": package " + e.pkg
	}
	if e.reason != "" {
		msg += ": " + e.reason
	}
	if e.err != nil {
		msg += ": " + e.err.Error()
	}
	return msg
}

func (e *imageBuildError) Unwrap() []error { return []error{ErrBuild, e.err} }

// buildError wraps a failed build of ref, reading apt's complaints out of the
// build output to name the package.
func buildError(ref, output string, err error) error {
	output = ansiEscape.ReplaceAllString(output, "")
	pkg, reason := aptFailure(output)
	if pkg == "" && reason == "" {
		err = fmt.Errorf("%w: %s", err, lastLines(output, 10))
	}
	return &imageBuildError{ref: ref, pkg: pkg, reason: reason, err: err}
}

// ansiEscape matches the colour codes the engine puts around a build step's
// standard error.
var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*m")

// apt's error lines, in the order they are most telling. apt-get update only
// warns when the archive is unreachable, and install then reports every
// package as missing: so the unreachable archive is looked for first, and
// named together with the first package apt could not find.
var (
	aptVersionMissing = regexp.MustCompile(`E: Version '([^']+)' for '([^']+)' was not found`)
	aptPackageMissing = regexp.MustCompile(`E: Unable to locate package (\S+)`)
	aptNoCandidate    = regexp.MustCompile(`E: Package '([^']+)' has no installation candidate`)
	aptUnreachable    = regexp.MustCompile(`(?:Failed to fetch|Could not resolve|Temporary failure resolving|Could not connect to|Unable to connect to) ?'?([^\s']*)`)
)

// aptFailure extracts the package apt failed on and why, or two empty
// strings when the output has no apt error in it.
func aptFailure(output string) (pkg, reason string) {
	unreachable := ""
	if m := aptUnreachable.FindStringSubmatch(output); m != nil {
		unreachable = "the Debian archive could not be reached (" + strings.TrimSpace(m[0]) + ")"
	}
	switch m := aptVersionMissing.FindStringSubmatch(output); {
	case m != nil && unreachable == "":
		return m[2], "version " + m[1] + " is not in the Debian archive"
	case m != nil:
		return m[2], unreachable
	}
	for _, re := range []*regexp.Regexp{aptPackageMissing, aptNoCandidate} {
		if m := re.FindStringSubmatch(output); m != nil {
			if unreachable != "" {
				return m[1], unreachable
			}
			return m[1], "not in the Debian archive"
		}
	}
	return "", unreachable
}

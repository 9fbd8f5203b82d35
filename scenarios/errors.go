package scenarios

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ErrInvalid matches (with errors.Is) every error that says a scenario is bad
// input: a syntax error, a schema violation or a bad --set. The CLI maps it to
// exit code 2 without knowing the details.
var ErrInvalid = errors.New("invalid scenario")

// ErrNotFound is wrapped by Resolve and Builtin when a name is neither a
// built-in scenario nor a file, so the CLI can treat it as bad input too.
var ErrNotFound = errors.New("no such scenario")

// setFile is the File of errors found in values given with Set (--set), which
// have no line in any file.
const setFile = "--set"

// FieldError is one problem in a scenario. It says where the problem is, so
// the user can go straight to it: the file, the line and column when known,
// and the field path in the document (like faults[0].at).
type FieldError struct {
	File   string
	Line   int // 0 when the field has no place in the file (a default, --set)
	Column int
	Path   string // dotted field path; empty for syntax errors
	Msg    string
}

// Error formats as file:line: path: message, dropping the parts that are
// unknown, like a compiler does.
func (e FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Path != "" {
		b.WriteString(": " + e.Path)
	}
	b.WriteString(": " + e.Msg)
	return b.String()
}

// ValidationErrors holds every problem found in one pass over a scenario, so
// a user fixes them all at once instead of one per run.
type ValidationErrors []FieldError

// Error lists the problems one per line, in file order.
func (es ValidationErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Is makes errors.Is(err, ErrInvalid) true for any validation failure.
func (es ValidationErrors) Is(target error) bool { return target == ErrInvalid }

// sorted orders errors by line and column, as a reader meets them, keeping
// discovery order at the same place and putting errors without a line last.
func (es ValidationErrors) sorted() ValidationErrors {
	out := slices.Clone(es)
	line := func(e FieldError) int {
		if e.Line == 0 {
			return int(^uint(0) >> 1)
		}
		return e.Line
	}
	slices.SortStableFunc(out, func(a, b FieldError) int {
		return cmp.Or(cmp.Compare(line(a), line(b)), cmp.Compare(a.Column, b.Column))
	})
	return out
}

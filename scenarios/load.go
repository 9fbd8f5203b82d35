package scenarios

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// Load reads and checks the scenario file at path. Errors name the path as
// given.
func Load(path string) (*Scenario, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, path)
}

// readLimited reads a scenario file, refusing one over MaxFileSize without
// reading it all. A file that cannot be read is an error naming it first
// (path: read: reason), like every other problem with the file, and it
// still matches os.ErrNotExist and friends.
func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fileError{path: path, err: err}
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fileError{path: path, err: err}
	}
	if len(data) > MaxFileSize {
		if fi, err := f.Stat(); err == nil {
			return nil, ValidationErrors{{File: path, Msg: fmt.Sprintf("file too large: %d bytes, at most %d", fi.Size(), MaxFileSize)}}
		}
	}
	return data, nil
}

// fileError is a scenario file that could not be read. Its message starts
// with the path, as a FieldError's does, without repeating it after.
type fileError struct {
	path string
	err  error
}

func (e fileError) Error() string {
	var pe *fs.PathError
	if errors.As(e.err, &pe) {
		return fmt.Sprintf("%s: read scenario: %v", e.path, pe.Err)
	}
	return fmt.Sprintf("%s: read scenario: %v", e.path, e.err)
}
func (e fileError) Unwrap() error { return e.err }

// FilePath is the path of the file the error is about, so that the CLI
// prints its message as it is (file: ...) rather than under "hadrill:".
func (e fileError) FilePath() string { return e.path }

// Parse decodes and checks a scenario. file names the source in errors and,
// when the scenario has no name, gives it one (the base name without its
// extension). On failure the error is a ValidationErrors holding every
// problem found.
func Parse(data []byte, file string) (*Scenario, error) {
	if err := checkSize(data, file); err != nil {
		return nil, err
	}
	root, err := parseYAML(data, file)
	if err != nil {
		return nil, err
	}
	if err := checkValues(root, file); err != nil {
		return nil, err
	}
	return decodeScenario(root, file)
}

var yamlLineRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// parseYAML parses one YAML document into a node tree, turning syntax errors
// into FieldErrors with their line.
func parseYAML(data []byte, file string) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, ValidationErrors{{File: file, Msg: "empty scenario"}}
		}
		return nil, syntaxError(err, file)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
		return &root, nil
	case err != nil:
		return nil, syntaxError(err, file)
	}
	return nil, ValidationErrors{{File: file, Line: extra.Line, Msg: "a scenario file holds one YAML document, found another"}}
}

func syntaxError(err error, file string) error {
	msg := err.Error()
	if m := yamlLineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return ValidationErrors{{File: file, Line: line, Msg: m[2]}}
	}
	return ValidationErrors{{File: file, Msg: strings.TrimPrefix(msg, "yaml: ")}}
}

// decodeScenario decodes a node tree over the defaults, checks it and fills
// the derived defaults. The tree is kept for Set.
func decodeScenario(root *yaml.Node, file string) (*Scenario, error) {
	d := newDecoder(file)
	s := Default()
	d.decode(root, "", reflect.ValueOf(s).Elem())
	if !d.has("name") && !d.bad["name"] {
		s.Name = strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	}
	validate(d, s)
	if len(d.errs) > 0 {
		return nil, d.errs.sorted()
	}
	s.fillDerived()
	s.src, s.file = root, file
	return s, nil
}

func (d *decoder) has(path string) bool {
	_, ok := d.pos[path]
	return ok
}

// Dump writes the scenario as YAML that Parse reads back to an equal
// scenario: the run folder's scenario.yaml, with defaults and seed included.
func (s *Scenario) Dump() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(s); err != nil {
		return nil, fmt.Errorf("encode scenario %s: %w", s.Name, err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("encode scenario %s: %w", s.Name, err)
	}
	return buf.Bytes(), nil
}

// Builtins returns the names of the scenarios embedded in the binary, sorted.
func Builtins() []string {
	entries, _ := fs.ReadDir(builtinFS, "builtin")
	var names []string
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".yaml"); ok {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// Builtin loads an embedded scenario by name. Its errors name it as
// builtin/<name>.yaml.
func Builtin(name string) (*Scenario, error) {
	if !slices.Contains(Builtins(), name) {
		return nil, fmt.Errorf("%w: %q is not a built-in scenario (built-ins: %s)", ErrNotFound, name, strings.Join(Builtins(), ", "))
	}
	file := path.Join("builtin", name+".yaml")
	data, err := builtinFS.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("read built-in scenario: %w", err)
	}
	return Parse(data, file)
}

// Resolve loads what a user typed after hadrill run: a built-in name, or a
// path to a scenario file. A built-in name wins over a file of the same name
// in the current folder (write ./name to mean the file).
func Resolve(nameOrPath string) (*Scenario, error) {
	if slices.Contains(Builtins(), nameOrPath) {
		return Builtin(nameOrPath)
	}
	if _, err := os.Stat(nameOrPath); err == nil {
		return Load(nameOrPath)
	}
	return nil, fmt.Errorf("%w %q: not a built-in (%s) and not a file", ErrNotFound, nameOrPath, strings.Join(Builtins(), ", "))
}

package history

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Writer appends JSON lines and flushes each one, so that a crash leaves a
// checkable prefix on disk. It is safe for concurrent use.
type Writer struct {
	mu  sync.Mutex
	f   *os.File
	enc *json.Encoder
	err error
}

// Create opens path for appending JSON lines, creating it if needed.
func Create(path string) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", filepath.Base(path), err)
	}
	return &Writer{f: f, enc: json.NewEncoder(f)}, nil
}

// Append writes v as one line. An encoding or write error is sticky and is
// returned by this and every later call, and by Close.
func (w *Writer) Append(v any) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.err != nil {
		return w.err
	}
	// The encoder writes the whole line in one write(2) on the unbuffered
	// file, so the kernel holds it even if this process dies right after.
	if err := w.enc.Encode(v); err != nil {
		w.err = fmt.Errorf("append to %s: %w", w.f.Name(), err)
	}
	return w.err
}

// Close syncs and closes the file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.f == nil {
		return w.err
	}
	err := errors.Join(w.err, w.f.Sync(), w.f.Close())
	w.f = nil
	return err
}

// LineError is a problem with one event of a history, placed so that a
// reader can go straight to it: the file and line, and the field when one
// field is at fault. It formats as file:line: field: problem, like the
// scenario loader's errors.
type LineError struct {
	// File is "" for events that were not read from a file (a slice given
	// to Pair or a Pairer); Line is then the event's 1-based position,
	// which is its line in a file the recorder wrote (one event a line).
	File  string
	Line  int
	Field string
	Err   error
}

func (e *LineError) Error() string {
	var b strings.Builder
	if e.File != "" {
		fmt.Fprintf(&b, "%s:%d: ", e.File, e.Line)
	} else {
		fmt.Fprintf(&b, "event %d: ", e.Line)
	}
	if e.Field != "" {
		b.WriteString(e.Field + ": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *LineError) Unwrap() error { return e.Err }

// Torn is the one damage a history reader tolerates: the file's last line
// cut off before its end, which is what a crash while writing leaves (with
// or without a newline after it). The reader drops that line, returns what
// came before it, and returns a Torn for the caller to print as a warning,
// since the history is a leaf and does not log:
//
//	if torn != nil { slog.Warn(torn.String()) }
//
// Any other malformed line, and a cut-off line that is not the last, is a
// *LineError.
type Torn struct {
	File string
	Line int
}

// String says which line was dropped and why, as file:line: warning: ...
func (t *Torn) String() string {
	return fmt.Sprintf("%s:%d: warning: dropped the last line, cut off before its end (a crash while writing)", t.File, t.Line)
}

// cutOff reports whether line is a JSON value that stops before its end,
// the prefix of a line a crash left half written, rather than a line that
// was written wrong (which is malformed before its end, or complete).
func cutOff(line []byte) bool {
	var v json.RawMessage
	return errors.Is(json.NewDecoder(bytes.NewReader(line)).Decode(&v), io.ErrUnexpectedEOF)
}

// blank reports whether b holds only white space.
func blank(b []byte) bool { return len(bytes.TrimSpace(b)) == 0 }

// Decode reads JSON lines into values of type T. name is used in errors.
// Blank lines are skipped. Unknown fields are errors, so a file from another
// tool is not silently misread. A last line cut off before its end is a
// torn write from a crash: it is dropped and reported by torn (see Torn),
// and the prefix is returned. Any other bad line is a *LineError.
func Decode[T any](r io.Reader, name string) (out []T, torn *Torn, err error) {
	br := bufio.NewReaderSize(r, 1<<16)
	for line := 1; ; line++ {
		b, rerr := br.ReadBytes('\n')
		if rerr != nil && rerr != io.EOF {
			return out, nil, fmt.Errorf("read %s: %w", name, rerr)
		}
		last := rerr == io.EOF
		if t := bytes.TrimSpace(b); len(t) > 0 {
			var v T
			dec := json.NewDecoder(bytes.NewReader(t))
			dec.DisallowUnknownFields()
			if derr := dec.Decode(&v); derr != nil {
				if cutOff(t) {
					rest, rerr := io.ReadAll(br)
					if rerr != nil {
						return out, nil, fmt.Errorf("read %s: %w", name, rerr)
					}
					if blank(rest) {
						return out, &Torn{File: name, Line: line}, nil
					}
				}
				return out, nil, &LineError{File: name, Line: line, Err: derr}
			}
			out = append(out, v)
		}
		if last {
			return out, nil, nil
		}
	}
}

// ReadFile decodes a JSONL file of T values; see Decode.
func ReadFile[T any](path string) ([]T, *Torn, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	return Decode[T](f, path)
}

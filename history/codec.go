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

// LineError is a decoding error that names the file and line.
type LineError struct {
	File string
	Line int
	Err  error
}

func (e *LineError) Error() string { return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err) }
func (e *LineError) Unwrap() error { return e.Err }

// Decode reads JSON lines into values of type T. name is used in errors.
// Blank lines are skipped. Unknown fields are errors, so a file from another
// tool is not silently misread. A final line without a newline that does not
// parse is a torn write from a crash: it is dropped and reported by torn=true,
// and the prefix is returned. Any other bad line is a *LineError.
func Decode[T any](r io.Reader, name string) (out []T, torn bool, err error) {
	br := bufio.NewReaderSize(r, 1<<16)
	for line := 1; ; line++ {
		b, rerr := br.ReadBytes('\n')
		if rerr != nil && rerr != io.EOF {
			return out, false, fmt.Errorf("read %s: %w", name, rerr)
		}
		last := rerr == io.EOF
		if t := bytes.TrimSpace(b); len(t) > 0 {
			var v T
			dec := json.NewDecoder(bytes.NewReader(t))
			dec.DisallowUnknownFields()
			if derr := dec.Decode(&v); derr != nil {
				if last && !bytes.HasSuffix(b, []byte("\n")) {
					return out, true, nil
				}
				return out, false, &LineError{File: name, Line: line, Err: derr}
			}
			out = append(out, v)
		}
		if last {
			return out, false, nil
		}
	}
}

// ReadFile decodes a JSONL file of T values; see Decode.
func ReadFile[T any](path string) ([]T, bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	return Decode[T](f, path)
}

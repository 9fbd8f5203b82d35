package store

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func testEntries(n int) []Entry {
	var es []Entry
	for i := 1; i <= n; i++ {
		es = append(es, Entry{Index: uint64(i), Epoch: 1, Op: OpPut, Key: fmt.Sprintf("k%d", i), Value: []byte(fmt.Sprintf("v%d", i))})
	}
	return es
}

// writeWAL writes entries to a fresh log at path and returns the file size
// after each entry.
func writeWAL(t *testing.T, path string, entries []Entry) []int64 {
	t.Helper()
	w, _, err := OpenWAL(path, true, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int64
	for _, e := range entries {
		if _, err := w.Append([]Entry{e}); err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, w.size)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return sizes
}

// appendGarbage adds a torn record to a log: a header promising 100 bytes
// followed by only 10.
func appendGarbage(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var hdr [walHeader]byte
	binary.LittleEndian.PutUint32(hdr[:4], 100)
	if _, err := f.Write(append(hdr[:], bytes.Repeat([]byte{'x'}, 10)...)); err != nil {
		t.Fatal(err)
	}
}

// TestWALTruncatesTornTail damages the end of a log in the ways a crash or
// a bad disk does. Reopening keeps the good prefix, cuts the file back to
// it, logs the cut, and the log takes appends again.
func TestWALTruncatesTornTail(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, path string, sizes []int64)
		keep   int
		reason string
	}{
		{"record cut short", func(t *testing.T, path string, sizes []int64) {
			os.Truncate(path, sizes[4]-3)
		}, 4, "short record"},
		{"header cut short", func(t *testing.T, path string, sizes []int64) {
			os.Truncate(path, sizes[3]+5)
		}, 4, "short header"},
		{"flipped byte in last payload", func(t *testing.T, path string, sizes []int64) {
			flipByte(t, path, sizes[4]-2)
		}, 4, "checksum mismatch"},
		{"absurd length", func(t *testing.T, path string, sizes []int64) {
			f, _ := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
			f.Write([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
			f.Close()
		}, 5, "bad length"},
		{"torn record appended", func(t *testing.T, path string, sizes []int64) {
			appendGarbage(t, path)
		}, 5, "short record"},
		{"corrupt record in the middle", func(t *testing.T, path string, sizes []int64) {
			flipByte(t, path, sizes[1]+walHeader+3)
		}, 2, "checksum mismatch"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "wal.log")
			sizes := writeWAL(t, path, testEntries(5))
			tc.damage(t, path, sizes)
			var logs bytes.Buffer
			w, got, err := OpenWAL(path, true, slog.New(slog.NewTextHandler(&logs, nil)))
			if err != nil {
				t.Fatalf("reopen: %v", err)
			}
			if len(got) != tc.keep {
				t.Fatalf("kept %d entries, want %d", len(got), tc.keep)
			}
			if fi, _ := os.Stat(path); fi.Size() != sizes[tc.keep-1] {
				t.Errorf("file is %d bytes, want it cut to %d", fi.Size(), sizes[tc.keep-1])
			}
			if !strings.Contains(logs.String(), "wal: truncated torn tail") || !strings.Contains(logs.String(), tc.reason) {
				t.Errorf("log does not report the cut (%s): %s", tc.reason, logs.String())
			}
			next := Entry{Index: uint64(tc.keep) + 1, Epoch: 2, Op: OpPut, Key: "after", Value: []byte("x")}
			if _, err := w.Append([]Entry{next}); err != nil {
				t.Fatal(err)
			}
			w.Close()
			_, again, err := OpenWAL(path, true, slog.New(slog.DiscardHandler))
			if err != nil || len(again) != tc.keep+1 || again[tc.keep].Key != "after" {
				t.Fatalf("after append and reopen: %d entries, %v", len(again), err)
			}
		})
	}
}

func flipByte(t *testing.T, path string, off int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b[off] ^= 0xff
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestWALTruncateFrom drops a suffix, as a standby does when a new primary
// has other entries there, and the cut survives a reopen.
func TestWALTruncateFrom(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wal.log")
	writeWAL(t, path, testEntries(5))
	w, _, err := OpenWAL(path, true, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.TruncateFrom(3); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append([]Entry{{Index: 3, Epoch: 2, Op: OpPut, Key: "new"}}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	_, got, err := OpenWAL(path, true, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[2].Key != "new" || got[2].Epoch != 2 || got[1].Key != "k2" {
		t.Fatalf("after truncate and append: %+v", got)
	}
}

// TestWALFsyncNeverBuffersInProcess: with fsync=never a record stays in the
// process until a flush, which is why a killed node loses it.
func TestWALFsyncNeverBuffersInProcess(t *testing.T) {
	path := filepath.Join(t.TempDir(), "wal.log")
	w, _, err := OpenWAL(path, false, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if _, err := w.Append(testEntries(1)); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Size() != 0 {
		t.Fatalf("unflushed record already in the file (%d bytes)", fi.Size())
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(path); fi.Size() == 0 {
		t.Fatal("flush wrote nothing")
	}
}

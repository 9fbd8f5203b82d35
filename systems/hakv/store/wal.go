package store

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"sync"
)

// walHeader is the frame before every record: the payload's length and its
// CRC-32C, both little-endian uint32.
const walHeader = 8

// maxRecord bounds a record's claimed length, so that a corrupt length is
// recognised as corruption instead of an allocation of gigabytes.
const maxRecord = 64 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// WAL is the append-only write-ahead log: one framed record per entry, in
// index order. With fsync=always every Sync reaches the disk; with
// fsync=never records wait in an in-process buffer that is handed to the OS
// every flush interval and never synced, so a killed process loses its
// most recent records, which is the point of that setting.
type WAL struct {
	path        string
	fsyncAlways bool

	mu      sync.Mutex // guards everything below and the file position
	f       *os.File
	buf     *bufio.Writer
	offsets []int64 // offsets[i] is where entry i+1 starts
	size    int64   // bytes written, buffered ones included
	gen     uint64  // bumped by every append and truncation

	syncMu sync.Mutex // serialises Sync so concurrent callers share an fsync
	synced uint64     // gen covered by the last fsync
}

// OpenWAL opens or creates the log at path and replays it. A torn or corrupt
// tail (a short record, a bad checksum, an undecodable payload, an index out
// of sequence) is cut off and logged: after a crash that is expected, and a
// node that refused to start on it would crash-loop.
func OpenWAL(path string, fsyncAlways bool, logger *slog.Logger) (*WAL, []Entry, error) {
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("read wal: %w", err)
	}
	entries, offsets, good, reason := replay(data)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, fmt.Errorf("open wal: %w", err)
	}
	if good < int64(len(data)) {
		logger.Warn("wal: truncated torn tail", "path", path, "offset", good,
			"dropped_bytes", int64(len(data))-good, "reason", reason, "kept_entries", len(entries))
		if err := f.Truncate(good); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("truncate wal tail: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("sync wal: %w", err)
		}
	}
	w := &WAL{path: path, fsyncAlways: fsyncAlways, f: f, offsets: offsets, size: good}
	w.buf = bufio.NewWriterSize(f, 1<<20)
	return w, entries, nil
}

// replay decodes records until the first bad one. It returns the entries, the
// offset of each, the length of the good prefix and why decoding stopped
// early ("" when the whole file was good).
func replay(data []byte) ([]Entry, []int64, int64, string) {
	var entries []Entry
	var offsets []int64
	off := int64(0)
	for off < int64(len(data)) {
		rest := data[off:]
		if len(rest) < walHeader {
			return entries, offsets, off, "short header"
		}
		n := binary.LittleEndian.Uint32(rest[0:4])
		sum := binary.LittleEndian.Uint32(rest[4:8])
		if n > maxRecord {
			return entries, offsets, off, "bad length"
		}
		if int64(n) > int64(len(rest)-walHeader) {
			return entries, offsets, off, "short record"
		}
		payload := rest[walHeader : walHeader+int(n)]
		if crc32.Checksum(payload, castagnoli) != sum {
			return entries, offsets, off, "checksum mismatch"
		}
		var e Entry
		if err := json.Unmarshal(payload, &e); err != nil {
			return entries, offsets, off, "undecodable record"
		}
		if e.Index != uint64(len(entries))+1 {
			return entries, offsets, off, fmt.Sprintf("index %d out of sequence", e.Index)
		}
		entries = append(entries, e)
		offsets = append(offsets, off)
		off += walHeader + int64(n)
	}
	return entries, offsets, off, ""
}

// Append writes entries after the last one and returns the log's generation
// after them, for SyncTo. They are durable only after a sync
// (fsync=always); with fsync=never they sit in the buffer until the next
// Flush.
func (w *WAL) Append(entries []Entry) (uint64, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, e := range entries {
		if e.Index != uint64(len(w.offsets))+1 {
			return 0, fmt.Errorf("append wal entry %d: want index %d", e.Index, len(w.offsets)+1)
		}
		payload, err := json.Marshal(e)
		if err != nil {
			return 0, fmt.Errorf("encode wal entry %d: %w", e.Index, err)
		}
		var hdr [walHeader]byte
		binary.LittleEndian.PutUint32(hdr[0:4], uint32(len(payload)))
		binary.LittleEndian.PutUint32(hdr[4:8], crc32.Checksum(payload, castagnoli))
		if _, err := w.buf.Write(hdr[:]); err != nil {
			return 0, fmt.Errorf("write wal: %w", err)
		}
		if _, err := w.buf.Write(payload); err != nil {
			return 0, fmt.Errorf("write wal: %w", err)
		}
		w.offsets = append(w.offsets, w.size)
		w.size += walHeader + int64(len(payload))
	}
	w.gen++
	if w.fsyncAlways {
		// The buffer only batches one call's records; a sync must find them
		// in the file.
		if err := w.buf.Flush(); err != nil {
			return 0, fmt.Errorf("write wal: %w", err)
		}
	}
	return w.gen, nil
}

// TruncateFrom drops the entry at index and every later one.
func (w *WAL) TruncateFrom(index uint64) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if index < 1 || index > uint64(len(w.offsets)) {
		return nil
	}
	if err := w.buf.Flush(); err != nil {
		return fmt.Errorf("flush wal: %w", err)
	}
	off := w.offsets[index-1]
	if err := w.f.Truncate(off); err != nil {
		return fmt.Errorf("truncate wal: %w", err)
	}
	w.offsets = w.offsets[:index-1]
	w.size = off
	w.gen++
	if w.fsyncAlways {
		if err := w.f.Sync(); err != nil {
			return fmt.Errorf("sync wal: %w", err)
		}
	}
	return nil
}

// Sync makes everything appended so far durable when fsync=always, and does
// nothing otherwise.
func (w *WAL) Sync() error {
	w.mu.Lock()
	gen := w.gen
	w.mu.Unlock()
	return w.SyncTo(gen)
}

// SyncTo makes the log durable at least up to generation gen (as returned
// by Append). Concurrent callers share fsyncs: one fsync covers everything
// appended before it started, so a caller whose records it covered returns
// without another (group commit).
func (w *WAL) SyncTo(gen uint64) error {
	if !w.fsyncAlways {
		return nil
	}
	w.syncMu.Lock()
	defer w.syncMu.Unlock()
	if w.synced >= gen {
		return nil
	}
	w.mu.Lock()
	cur := w.gen
	w.mu.Unlock()
	if err := w.f.Sync(); err != nil {
		return fmt.Errorf("sync wal: %w", err)
	}
	w.synced = cur
	return nil
}

// Flush hands buffered records to the OS without syncing them.
func (w *WAL) Flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.buf.Flush(); err != nil {
		return fmt.Errorf("flush wal: %w", err)
	}
	return nil
}

// Close flushes the buffer, syncs and closes the file.
func (w *WAL) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	err := w.buf.Flush()
	if w.fsyncAlways {
		err = errors.Join(err, w.f.Sync())
	}
	return errors.Join(err, w.f.Close())
}

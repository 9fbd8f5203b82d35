package agent

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
)

// The power-loss journal. A SIGKILL keeps the page cache, so a process that
// never fsyncs loses nothing when it is killed; a machine that loses power
// loses everything written since the last fsync. To drill that, the FUSE
// layer keeps, for every file written since its last fsync, the file's size
// at that fsync and a copy of each 4 KiB block as it was before its first
// overwrite (copy on first write: appends past the synced size cost
// nothing).
//
// Namespace changes (creates, mkdirs, unlinks, rmdirs, renames) are one
// ordered log, as a journaling file system keeps them: ext4 (and XFS, btrfs)
// journal metadata globally, so an fsync of any file or directory commits
// every namespace change made before it, and the file system's own commit
// (every 5 s on ext4) does too. What is not committed is always a suffix of
// the log, so undoing it newest first finds every recorded path as it was
// just after that change: a folder renamed later is renamed back before the
// changes made inside it under its old name are undone. An unlinked or
// overwritten file's synced content is kept so that the unlink can be
// undone.
//
// Memory is bounded by limit (the pre-images and saved files together).
// Past it, the agent does what a kernel under memory pressure does: it
// writes back. The file being written is treated as if it had been fsynced
// now (its pre-images are dropped and its writes so far survive a power
// loss), and the bytes are counted in written_back_bytes, so a report can
// tell that the limit was reached.

// journalBlock is the granularity of pre-images.
const journalBlock = 4096

// defaultJournalLimit bounds the journal's memory (64 MiB).
const defaultJournalLimit = 64 << 20

// metadataCommit is how often the file system commits its metadata journal
// on its own (ext4's default commit=5): a namespace change older than that
// at the power cut is durable even without an fsync.
const metadataCommit = 5 * time.Second

// fileState is one file's changes since its last fsync.
type fileState struct {
	size  int64            // size at the last fsync
	pre   map[int64][]byte // block -> content at the last fsync (blocks below size)
	dirty uint64           // bytes written since
}

type nsKind int

const (
	nsCreate nsKind = iota
	nsMkdir
	nsUnlink
	nsRmdir
	nsRename
)

// nsOp is one namespace change not yet committed. Paths are relative to
// the data folder, as they were at the time.
type nsOp struct {
	kind     nsKind
	path, to string
	saved    *savedFile // the unlinked, or overwritten, file at its last fsync
	at       time.Time  // when it was made, for the periodic commit
}

type savedFile struct {
	data []byte
	mode os.FileMode
}

// journal is the power-loss bookkeeping of one mount.
type journal struct {
	backing string // the folder the mount serves
	limit   int64

	mu          sync.Mutex
	used        int64
	files       map[*fs.Inode]*fileState
	ops         []nsOp
	writtenBack uint64
}

func newJournal(backing string, limit int64) *journal {
	if limit <= 0 {
		limit = defaultJournalLimit
	}
	return &journal{backing: backing, limit: limit, files: map[*fs.Inode]*fileState{}}
}

// fileIO reads a file's current content and size through its open handle.
type fileIO interface {
	readAt(buf []byte, off int64) (int, error)
	size() (int64, error)
}

// state returns the file's record, creating it with the current size.
func (j *journal) state(ino *fs.Inode, io fileIO) (*fileState, error) {
	if st, ok := j.files[ino]; ok {
		return st, nil
	}
	sz, err := io.size()
	if err != nil {
		return nil, err
	}
	st := &fileState{size: sz, pre: map[int64][]byte{}}
	j.files[ino] = st
	return st, nil
}

// beforeWrite keeps the pre-images of the synced blocks that a write of n
// bytes at off is about to change. It must run before the write.
func (j *journal) beforeWrite(ino *fs.Inode, io fileIO, off, n int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	st, err := j.state(ino, io)
	if err != nil {
		return
	}
	st.dirty += uint64(n)
	j.capture(ino, st, io, off, off+n)
}

// beforeTruncate keeps what a truncation to size is about to cut off.
func (j *journal) beforeTruncate(ino *fs.Inode, io fileIO, size int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	st, err := j.state(ino, io)
	if err != nil {
		return
	}
	cur, err := io.size()
	if err != nil || size >= cur {
		return
	}
	st.dirty += uint64(cur - size)
	j.capture(ino, st, io, size, cur)
}

// capture copies the synced blocks of [from, to) not copied yet. Past the
// limit the file is written back instead (see above).
func (j *journal) capture(ino *fs.Inode, st *fileState, io fileIO, from, to int64) {
	to = min(to, st.size)
	for b := from / journalBlock; b*journalBlock < to; b++ {
		if _, ok := st.pre[b]; ok {
			continue
		}
		n := min(journalBlock, st.size-b*journalBlock)
		if j.used+n > j.limit {
			j.writeBack(ino, st, io)
			return
		}
		buf := make([]byte, n)
		k, err := io.readAt(buf, b*journalBlock)
		if err != nil && k < len(buf) {
			buf = buf[:k]
		}
		st.pre[b] = buf
		j.used += int64(len(buf))
	}
}

// writeBack forgets a file's changes: they are durable from now on.
func (j *journal) writeBack(ino *fs.Inode, st *fileState, io fileIO) {
	j.writtenBack += st.dirty
	j.forget(ino)
	if sz, err := io.size(); err == nil {
		j.files[ino] = &fileState{size: sz, pre: map[int64][]byte{}}
	}
}

func (j *journal) forget(ino *fs.Inode) {
	if st, ok := j.files[ino]; ok {
		for _, p := range st.pre {
			j.used -= int64(len(p))
		}
		delete(j.files, ino)
	}
}

// synced marks a file's data durable (fsync, fdatasync), and commits the
// namespace changes made so far.
func (j *journal) synced(ino *fs.Inode) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.forget(ino)
	j.commit(len(j.ops))
}

// dirSynced commits the namespace changes made so far: a directory's fsync
// commits the whole metadata journal, not only that directory's entries.
func (j *journal) dirSynced() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.commit(len(j.ops))
}

// commit makes the oldest n namespace changes durable.
func (j *journal) commit(n int) {
	for _, op := range j.ops[:n] {
		j.used -= op.savedSize()
	}
	j.ops = slices.Delete(j.ops, 0, n)
}

func (op nsOp) savedSize() int64 {
	if op.saved == nil {
		return 0
	}
	return int64(len(op.saved.data))
}

// logged records a namespace change.
func (j *journal) logged(op nsOp) {
	j.mu.Lock()
	defer j.mu.Unlock()
	op.at = time.Now()
	j.ops = append(j.ops, op)
}

// unjournaled records a namespace change the journal cannot undo (an
// unlink whose file it could not keep): it and everything before it count
// as committed, so what stays undoable is still a suffix of the log.
func (j *journal) unjournaled() {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.commit(len(j.ops))
}

// removing records that ino, at rel, is about to be unlinked or replaced:
// it returns the file's content at its last fsync, or nil when there is no
// regular file to keep or past the limit (an unlink then counts as durable
// at once, see unjournaled).
func (j *journal) removing(ino *fs.Inode, rel string) *savedFile {
	j.mu.Lock()
	defer j.mu.Unlock()
	path := filepath.Join(j.backing, rel)
	fi, err := os.Lstat(path)
	if err != nil || !fi.Mode().IsRegular() || j.used+fi.Size() > j.limit {
		if ino != nil {
			j.forget(ino)
		}
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	if st, ok := j.files[ino]; ok && ino != nil {
		data = applyPre(data, st)
		j.forget(ino)
	}
	j.used += int64(len(data))
	return &savedFile{data: data, mode: fi.Mode().Perm()}
}

// applyPre turns a file's current content into its content at the last
// fsync.
func applyPre(data []byte, st *fileState) []byte {
	if int64(len(data)) < st.size {
		data = append(data, make([]byte, st.size-int64(len(data)))...)
	}
	for b, p := range st.pre {
		copy(data[b*journalBlock:], p)
	}
	return data[:st.size]
}

// rollbackStats is what a rollback did.
type rollbackStats struct {
	files, entries, bytesLost, writtenBack uint64
}

// notifyLimit bounds how long a rollback waits for the kernel to drop its
// caches.
const notifyLimit = 5 * time.Second

// rollback restores every file to its last fsynced state and undoes the
// namespace changes not committed at cut, newest first. The processes that
// wrote must be dead. The kernel's caches of what changed are invalidated
// only after the journal's lock is released, and waited for at most
// notifyLimit: an invalidation waits for the kernel's lock on the inode or
// its folder, and a request of a process still running (one the power loss
// does not reach, such as a docker exec) can hold that lock while its
// handler waits for the journal's. Holding the journal's lock across the
// invalidations would deadlock the two.
func (j *journal) rollback(root *fs.Inode, cut time.Time) (rollbackStats, error) {
	j.mu.Lock()
	rs, stale, err := j.rollbackLocked(root, cut)
	j.mu.Unlock()
	if !stale.invalidate(root, notifyLimit) {
		err = errors.Join(err, fmt.Errorf("invalidate kernel caches: not done after %s", notifyLimit))
	}
	return rs, err
}

// rollbackLocked does the rollback's work on the backing folder and
// empties the journal. It returns what the kernel may hold stale.
func (j *journal) rollbackLocked(root *fs.Inode, cut time.Time) (rollbackStats, staleCache, error) {
	var rs rollbackStats
	var stale staleCache
	var errs []error
	for ino, st := range j.files {
		rel, ok := inodePath(root, ino)
		if !ok {
			continue
		}
		if err := restoreFile(filepath.Join(j.backing, rel), st); err != nil {
			errs = append(errs, err)
			continue
		}
		rs.files++
		rs.bytesLost += st.dirty
		stale.inodes = append(stale.inodes, ino)
	}
	// The file system's own commit made the changes older than
	// metadataCommit durable (the log is in time order).
	young := slices.IndexFunc(j.ops, func(op nsOp) bool { return cut.Sub(op.at) < metadataCommit })
	if young < 0 {
		young = len(j.ops)
	}
	j.commit(young)
	for i := len(j.ops) - 1; i >= 0; i-- {
		op := j.ops[i]
		if err := j.undo(op); err != nil {
			errs = append(errs, err)
			continue
		}
		rs.entries++
		stale.entries = append(stale.entries, op.path)
		if op.to != "" {
			stale.entries = append(stale.entries, op.to)
		}
	}
	rs.writtenBack = j.writtenBack
	j.files, j.ops, j.used, j.writtenBack = map[*fs.Inode]*fileState{}, nil, 0, 0
	return rs, stale, errors.Join(errs...)
}

// staleCache is what the kernel may still cache from before a rollback:
// file contents and attributes, and folder entries.
type staleCache struct {
	inodes  []*fs.Inode
	entries []string // paths relative to the data folder
}

// invalidate tells the kernel to drop the stale caches, and reports
// whether it did within limit; past it, the notifications go on in the
// background.
func (s staleCache) invalidate(root *fs.Inode, limit time.Duration) bool {
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, ino := range s.inodes {
			ino.NotifyContent(0, 0)
		}
		for _, rel := range s.entries {
			notifyEntry(root, rel)
		}
	}()
	select {
	case <-done:
		return true
	case <-time.After(limit):
		return false
	}
}

// restoreFile writes the pre-images back and cuts the file to its synced
// size.
func restoreFile(path string, st *fileState) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	for b, p := range st.pre {
		if _, err := f.WriteAt(p, b*journalBlock); err != nil {
			return err
		}
	}
	return errors.Join(f.Truncate(st.size), f.Sync())
}

func (j *journal) undo(op nsOp) error {
	abs := func(rel string) string { return filepath.Join(j.backing, rel) }
	switch op.kind {
	case nsCreate, nsMkdir:
		return os.RemoveAll(abs(op.path))
	case nsRmdir:
		return os.Mkdir(abs(op.path), 0o755)
	case nsUnlink:
		return os.WriteFile(abs(op.path), op.saved.data, op.saved.mode)
	case nsRename:
		if err := os.Rename(abs(op.to), abs(op.path)); err != nil {
			return err
		}
		if op.saved != nil {
			return os.WriteFile(abs(op.to), op.saved.data, op.saved.mode)
		}
	}
	return nil
}

// inodePath is the inode's path under root, ok false for an orphan (a file
// unlinked while open).
func inodePath(root, ino *fs.Inode) (string, bool) {
	rel := ino.Path(nil)
	return rel, lookup(root, rel) == ino
}

func lookup(root *fs.Inode, rel string) *fs.Inode {
	n := root
	for _, part := range strings.Split(rel, "/") {
		if part == "" || part == "." {
			continue
		}
		if n = n.GetChild(part); n == nil {
			return nil
		}
	}
	return n
}

// notifyEntry tells the kernel to forget its cached entry for rel.
func notifyEntry(root *fs.Inode, rel string) {
	if parent := lookup(root, filepath.Dir(rel)); parent != nil {
		parent.NotifyEntry(filepath.Base(rel))
	}
}

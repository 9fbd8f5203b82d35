package agent

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"
)

// hookedNode is a loopback node whose data and namespace operations pass
// the disk hooks first. WrapChild makes every node of the tree one.
type hookedNode struct {
	*fs.LoopbackNode
	d *diskFS
}

var (
	_ fs.NodeWrapChilder    = (*hookedNode)(nil)
	_ fs.NodeOpener         = (*hookedNode)(nil)
	_ fs.NodeCreater        = (*hookedNode)(nil)
	_ fs.NodeMkdirer        = (*hookedNode)(nil)
	_ fs.NodeUnlinker       = (*hookedNode)(nil)
	_ fs.NodeRmdirer        = (*hookedNode)(nil)
	_ fs.NodeRenamer        = (*hookedNode)(nil)
	_ fs.NodeSymlinker      = (*hookedNode)(nil)
	_ fs.NodeLinker         = (*hookedNode)(nil)
	_ fs.NodeSetattrer      = (*hookedNode)(nil)
	_ fs.NodeOpendirHandler = (*hookedNode)(nil)
)

// rel is the node's path under the data folder ("" for the root).
func (n *hookedNode) rel() string { return n.EmbeddedInode().Path(nil) }

// child is the path of an entry of this directory.
func (n *hookedNode) child(name string) string { return filepath.Join(n.rel(), name) }

func (n *hookedNode) WrapChild(_ context.Context, ops fs.InodeEmbedder) fs.InodeEmbedder {
	if ln, ok := ops.(*fs.LoopbackNode); ok {
		return &hookedNode{LoopbackNode: ln, d: n.d}
	}
	return ops
}

func (n *hookedNode) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if errno := n.d.before(ctx, opOpen); errno != 0 {
		return nil, 0, errno
	}
	fh, fl, errno := n.LoopbackNode.Open(ctx, flags)
	return n.d.wrap(fh, n.EmbeddedInode()), fl, errno
}

// OpendirHandle wraps the directory handle so that its fsync reaches the
// power-loss journal.
func (n *hookedNode) OpendirHandle(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	fh, fl, errno := n.LoopbackNode.OpendirHandle(ctx, flags)
	if ds, ok := fh.(loopbackDir); ok && errno == 0 {
		return &hookedDir{loopbackDir: ds, n: n}, fl, 0
	}
	return fh, fl, errno
}

func (n *hookedNode) Create(ctx context.Context, name string, flags, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	if errno := n.d.before(ctx, opCreate); errno != 0 {
		return nil, nil, 0, errno
	}
	rel := n.child(name)
	_, err := os.Lstat(n.d.backingPath(rel))
	in, fh, fl, errno := n.LoopbackNode.Create(ctx, name, flags, mode, out)
	if errno == 0 && errors.Is(err, os.ErrNotExist) {
		n.d.journal.logged(nsOp{kind: nsCreate, path: rel})
	}
	return in, n.d.wrap(fh, in), fl, errno
}

func (n *hookedNode) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if errno := n.d.before(ctx, opMkdir); errno != 0 {
		return nil, errno
	}
	in, errno := n.LoopbackNode.Mkdir(ctx, name, mode, out)
	if errno == 0 {
		n.d.journal.logged(nsOp{kind: nsMkdir, path: n.child(name)})
	}
	return in, errno
}

func (n *hookedNode) Unlink(ctx context.Context, name string) syscall.Errno {
	if errno := n.d.before(ctx, opMeta); errno != 0 {
		return errno
	}
	rel := n.child(name)
	saved := n.d.journal.removing(n.GetChild(name), rel)
	errno := n.LoopbackNode.Unlink(ctx, name)
	switch {
	case errno != 0:
	case saved != nil:
		n.d.journal.logged(nsOp{kind: nsUnlink, path: rel, saved: saved})
	default:
		n.d.journal.unjournaled()
	}
	return errno
}

func (n *hookedNode) Rmdir(ctx context.Context, name string) syscall.Errno {
	if errno := n.d.before(ctx, opMeta); errno != 0 {
		return errno
	}
	errno := n.LoopbackNode.Rmdir(ctx, name)
	if errno == 0 {
		n.d.journal.logged(nsOp{kind: nsRmdir, path: n.child(name)})
	}
	return errno
}

func (n *hookedNode) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	if errno := n.d.before(ctx, opMeta); errno != 0 {
		return errno
	}
	np, ok := newParent.(*hookedNode)
	if !ok || flags != 0 { // RENAME_EXCHANGE and friends are not journaled
		return n.LoopbackNode.Rename(ctx, name, newParent, newName, flags)
	}
	from, to := n.child(name), np.child(newName)
	_, err := os.Lstat(n.d.backingPath(to))
	replaced := err == nil
	saved := n.d.journal.removing(np.GetChild(newName), to)
	errno := n.LoopbackNode.Rename(ctx, name, newParent, newName, flags)
	switch {
	case errno != 0:
	case replaced && saved == nil: // the replaced file could not be kept
		n.d.journal.unjournaled()
	default:
		n.d.journal.logged(nsOp{kind: nsRename, path: from, to: to, saved: saved})
	}
	return errno
}

func (n *hookedNode) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if errno := n.d.before(ctx, opCreate); errno != 0 {
		return nil, errno
	}
	in, errno := n.LoopbackNode.Symlink(ctx, target, name, out)
	if errno == 0 {
		n.d.journal.logged(nsOp{kind: nsCreate, path: n.child(name)})
	}
	return in, errno
}

func (n *hookedNode) Link(ctx context.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if errno := n.d.before(ctx, opCreate); errno != 0 {
		return nil, errno
	}
	in, errno := n.LoopbackNode.Link(ctx, target, name, out)
	if errno == 0 {
		n.d.journal.logged(nsOp{kind: nsCreate, path: n.child(name)})
	}
	return in, errno
}

// Setattr on the root goes through the descriptor held from before the
// mount: the loopback would otherwise chown and utime the /proc/self/fd
// magic link itself (it uses the no-follow variants) and report the link's
// attributes as the folder's.
func (n *hookedNode) Setattr(ctx context.Context, f fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if sz, ok := in.GetSize(); ok && !n.IsRoot() {
		var io fileIO = pathIO(n.d.backingPath(n.rel()))
		if hf, ok := f.(*hookedFile); ok {
			io = hf
		}
		n.d.journal.beforeTruncate(n.EmbeddedInode(), io, int64(sz))
	}
	if n.d.held == nil || !n.IsRoot() {
		return n.LoopbackNode.Setattr(ctx, f, in, out)
	}
	fd := int(n.d.held.Fd())
	if m, ok := in.GetMode(); ok {
		if err := unix.Fchmod(fd, m); err != nil {
			return fs.ToErrno(err)
		}
	}
	uid, uok := in.GetUID()
	gid, gok := in.GetGID()
	if uok || gok {
		u, g := -1, -1
		if uok {
			u = int(uid)
		}
		if gok {
			g = int(gid)
		}
		if err := unix.Fchown(fd, u, g); err != nil {
			return fs.ToErrno(err)
		}
	}
	if errno := setRootTimes(n.RootData.Path, in); errno != 0 {
		return errno
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return fs.ToErrno(err)
	}
	out.FromStat(&st)
	return 0
}

// setRootTimes applies atime/mtime through the path, following the link.
func setRootTimes(path string, in *fuse.SetAttrIn) syscall.Errno {
	mtime, mok := in.GetMTime()
	atime, aok := in.GetATime()
	if !mok && !aok {
		return 0
	}
	ts := []unix.Timespec{{Nsec: unix.UTIME_OMIT}, {Nsec: unix.UTIME_OMIT}}
	if aok {
		ts[0] = unix.NsecToTimespec(atime.UnixNano())
	}
	if mok {
		ts[1] = unix.NsecToTimespec(mtime.UnixNano())
	}
	return fs.ToErrno(unix.UtimesNanoAt(unix.AT_FDCWD, path, ts, 0))
}

// wrap hides a loopback file behind hookedFile. The wrapper deliberately has
// no PassthroughFd method: without it go-fuse cannot enable kernel
// passthrough, so reads, writes and fsyncs reach the hooks.
func (d *diskFS) wrap(fh fs.FileHandle, ino *fs.Inode) fs.FileHandle {
	lf, ok := fh.(*fs.LoopbackFile)
	if !ok || ino == nil {
		return fh
	}
	return &hookedFile{lf: lf, d: d, ino: ino}
}

// hookedFile forwards to the loopback file, with hooks on data operations.
type hookedFile struct {
	lf  *fs.LoopbackFile
	d   *diskFS
	ino *fs.Inode
}

// readAt and size give the journal the file's current content.
func (f *hookedFile) readAt(buf []byte, off int64) (int, error) {
	res, errno := f.lf.Read(context.Background(), buf, off)
	if errno != 0 {
		return 0, errno
	}
	b, st := res.Bytes(buf)
	if !st.Ok() {
		return 0, syscall.EIO
	}
	return copy(buf, b), nil
}

func (f *hookedFile) size() (int64, error) {
	var out fuse.AttrOut
	if errno := f.lf.Getattr(context.Background(), &out); errno != 0 {
		return 0, errno
	}
	return int64(out.Size), nil
}

// beforeWrite runs the disk-full check and keeps the journal's pre-images.
func (f *hookedFile) beforeWrite(ctx context.Context, off, n int64) syscall.Errno {
	if errno := f.d.before(ctx, opWrite); errno != 0 {
		return errno
	}
	if errno := f.d.checkSpace(f, off, n); errno != 0 {
		return errno
	}
	f.d.journal.beforeWrite(f.ino, f, off, n)
	return 0
}

var (
	_ fs.FileReader    = (*hookedFile)(nil)
	_ fs.FileWriter    = (*hookedFile)(nil)
	_ fs.FileWritever  = (*hookedFile)(nil)
	_ fs.FileFsyncer   = (*hookedFile)(nil)
	_ fs.FileFlusher   = (*hookedFile)(nil)
	_ fs.FileReleaser  = (*hookedFile)(nil)
	_ fs.FileGetattrer = (*hookedFile)(nil)
	_ fs.FileSetattrer = (*hookedFile)(nil)
	_ fs.FileLseeker   = (*hookedFile)(nil)
	_ fs.FileAllocater = (*hookedFile)(nil)
	_ fs.FileGetlker   = (*hookedFile)(nil)
	_ fs.FileSetlker   = (*hookedFile)(nil)
	_ fs.FileSetlkwer  = (*hookedFile)(nil)
)

func (f *hookedFile) Read(ctx context.Context, buf []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if errno := f.d.before(ctx, opRead); errno != 0 {
		return nil, errno
	}
	return f.lf.Read(ctx, buf, off)
}

func (f *hookedFile) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	if errno := f.beforeWrite(ctx, off, int64(len(data))); errno != 0 {
		return 0, errno
	}
	return f.lf.Write(ctx, data, off)
}

func (f *hookedFile) Writev(ctx context.Context, data [][]byte, off int64) (uint32, syscall.Errno) {
	n := 0
	for _, b := range data {
		n += len(b)
	}
	if errno := f.beforeWrite(ctx, off, int64(n)); errno != 0 {
		return 0, errno
	}
	return f.lf.Writev(ctx, data, off)
}

func (f *hookedFile) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	if errno := f.d.before(ctx, opFsync); errno != 0 {
		return errno
	}
	errno := f.lf.Fsync(ctx, flags)
	if errno == 0 {
		f.d.journal.synced(f.ino)
	}
	return errno
}

func (f *hookedFile) Flush(ctx context.Context) syscall.Errno { return f.lf.Flush(ctx) }

func (f *hookedFile) Release(ctx context.Context) syscall.Errno { return f.lf.Release(ctx) }

func (f *hookedFile) Getattr(ctx context.Context, out *fuse.AttrOut) syscall.Errno {
	return f.lf.Getattr(ctx, out)
}

func (f *hookedFile) Setattr(ctx context.Context, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if sz, ok := in.GetSize(); ok {
		f.d.journal.beforeTruncate(f.ino, f, int64(sz))
	}
	return f.lf.Setattr(ctx, in, out)
}

func (f *hookedFile) Lseek(ctx context.Context, off uint64, whence uint32) (uint64, syscall.Errno) {
	return f.lf.Lseek(ctx, off, whence)
}

func (f *hookedFile) Allocate(ctx context.Context, off, size uint64, mode uint32) syscall.Errno {
	if errno := f.d.checkSpace(f, int64(off), int64(size)); errno != 0 {
		return errno
	}
	f.d.journal.beforeWrite(f.ino, f, int64(off), 0) // records the synced size
	return f.lf.Allocate(ctx, off, size, mode)
}

func (f *hookedFile) Getlk(ctx context.Context, owner uint64, lk *fuse.FileLock, flags uint32, out *fuse.FileLock) syscall.Errno {
	return f.lf.Getlk(ctx, owner, lk, flags, out)
}

func (f *hookedFile) Setlk(ctx context.Context, owner uint64, lk *fuse.FileLock, flags uint32) syscall.Errno {
	return f.lf.Setlk(ctx, owner, lk, flags)
}

func (f *hookedFile) Setlkw(ctx context.Context, owner uint64, lk *fuse.FileLock, flags uint32) syscall.Errno {
	return f.lf.Setlkw(ctx, owner, lk, flags)
}

// loopbackDir is what go-fuse's loopback directory handle implements.
type loopbackDir interface {
	fs.FileReaddirenter
	fs.FileSeekdirer
	fs.FileReleasedirer
	fs.FileFsyncdirer
}

// hookedDir forwards to the loopback directory handle; its fsync makes the
// directory's namespace changes durable for the power-loss journal.
type hookedDir struct {
	loopbackDir
	n *hookedNode
}

func (h *hookedDir) Fsyncdir(ctx context.Context, flags uint32) syscall.Errno {
	if errno := h.n.d.before(ctx, opFsync); errno != 0 {
		return errno
	}
	errno := h.loopbackDir.Fsyncdir(ctx, flags)
	if errno == 0 {
		h.n.d.journal.dirSynced()
	}
	return errno
}

// pathIO reads a file by its backing path, for a truncate without a handle.
type pathIO string

func (p pathIO) readAt(buf []byte, off int64) (int, error) {
	f, err := os.Open(string(p))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	return f.ReadAt(buf, off)
}

func (p pathIO) size() (int64, error) {
	fi, err := os.Stat(string(p))
	if err != nil {
		return 0, err
	}
	return fi.Size(), nil
}

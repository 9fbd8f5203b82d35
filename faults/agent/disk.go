package agent

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"github.com/hadrill/hadrill/faults/kind"
)

// Disk faults need the process's I/O to pass through the agent. At startup
// the agent mounts a FUSE loopback file system over the data folder, before
// the supervised process starts; the folder's original contents stay
// reachable to the agent through a descriptor opened before the mount
// (/proc/self/fd/N), so nothing is moved and a volume mount point works too.
// Each operation passes a hook that can block it (stall), delay it (slow)
// or fail it (error).
//
// As root, go-fuse turns on kernel FUSE passthrough for loopback files, and
// then reads and writes never reach the daemon. The agent wraps every file
// handle in a type that does not expose the passthrough descriptor, so all
// I/O comes through the hooks.

// diskOp is the kind of a file system operation, for the hooks.
type diskOp int

const (
	opOpen diskOp = iota
	opCreate
	opRead
	opWrite
	opFsync
	opMkdir
	opMeta // unlink, rmdir, rename
)

// diskFS is the mounted loopback with its fault hooks.
type diskFS struct {
	dir     string
	backing string   // the folder served, as the agent reaches it
	held    *os.File // the folder as it was before the mount
	server  *fuse.Server
	root    *fs.Inode
	journal *journal

	stall atomic.Pointer[stallHook]
	slow  atomic.Pointer[slowHook]
	fail  atomic.Pointer[failHook]
	full  atomic.Pointer[fullHook]
}

// mountDisk mounts the hooked loopback at dir. backing, when set, is served
// instead of dir's own contents.
func mountDisk(dir, backing string, journalLimit int64) (*diskFS, error) {
	d := &diskFS{dir: dir}
	if backing == "" {
		f, err := os.Open(dir)
		if err != nil {
			return nil, fmt.Errorf("open data folder: %w", err)
		}
		d.held = f
		backing = fmt.Sprintf("/proc/self/fd/%d", f.Fd())
	}
	var st syscall.Stat_t
	if err := syscall.Stat(backing, &st); err != nil {
		d.closeHeld()
		return nil, fmt.Errorf("stat backing folder: %w", err)
	}
	d.backing, d.journal = backing, newJournal(backing, journalLimit)
	lr := &fs.LoopbackRoot{Path: backing, Dev: uint64(st.Dev)}
	root := &hookedNode{LoopbackNode: &fs.LoopbackNode{RootData: lr}, d: d}
	lr.RootNode = root
	opts := &fs.Options{MountOptions: fuse.MountOptions{
		AllowOther: true, DirectMountStrict: true, FsName: "hadrill", Name: "hadrill",
		Options: []string{"default_permissions"},
	}}
	server, err := fs.Mount(dir, root, opts)
	if err != nil {
		d.closeHeld()
		return nil, fmt.Errorf("mount fuse at %s: %w%s", dir, err, mountHint(err))
	}
	d.server, d.root = server, root.EmbeddedInode()
	if err := closeFUSEOnExec(); err != nil {
		server.Unmount()
		d.closeHeld()
		return nil, err
	}
	return d, nil
}

// backingPath is where a path of the mount lives in the backing folder.
func (d *diskFS) backingPath(rel string) string { return filepath.Join(d.backing, rel) }

// closeFUSEOnExec marks this process's /dev/fuse descriptors close-on-exec.
// go-fuse opens the device with syscall.Open, without O_CLOEXEC, so the
// node's process, started (or restarted) by the agent after the mount,
// would inherit it. A killed node then hangs for ever: exiting, it flushes
// a file on the mount before it closes its copy of /dev/fuse, and the
// connection is only aborted once every copy is closed, so its own flush
// waits on itself and the container can never be removed.
func closeFUSEOnExec() error {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		return fmt.Errorf("list own file descriptors: %w", err)
	}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if target, _ := os.Readlink("/proc/self/fd/" + e.Name()); target == "/dev/fuse" {
			syscall.CloseOnExec(fd)
		}
	}
	return nil
}

// mountHint says what a container usually lacks when the mount fails.
func mountHint(err error) string {
	switch {
	case errors.Is(err, os.ErrNotExist):
		if _, serr := os.Stat("/dev/fuse"); serr != nil {
			return " (no /dev/fuse: run the container with --device /dev/fuse)"
		}
	case errors.Is(err, os.ErrPermission):
		return " (mounting needs CAP_SYS_ADMIN, and apparmor=unconfined where AppArmor is enforced)"
	}
	return ""
}

// unmount releases every hook (a stalled operation would keep the mount
// busy) and unmounts, lazily if something still holds files open.
func (d *diskFS) unmount() error {
	d.releaseAll()
	err := d.server.Unmount()
	if err != nil {
		if lerr := unix.Unmount(d.dir, unix.MNT_DETACH); lerr != nil {
			return fmt.Errorf("unmount %s: %w", d.dir, errors.Join(err, lerr))
		}
	}
	d.closeHeld()
	return nil
}

func (d *diskFS) closeHeld() {
	if d.held != nil {
		d.held.Close()
	}
}

// releaseAll removes every hook, unblocking stalled operations.
func (d *diskFS) releaseAll() {
	if h := d.stall.Swap(nil); h != nil {
		h.release()
	}
	d.slow.Store(nil)
	d.fail.Store(nil)
	d.full.Store(nil)
}

// idle reports whether no hook is active and the mount answers a stat.
func (d *diskFS) idle() bool {
	if d.stall.Load() != nil || d.slow.Load() != nil || d.fail.Load() != nil || d.full.Load() != nil {
		return false
	}
	done := make(chan error, 1)
	go func() { _, err := os.Stat(d.dir); done <- err }()
	select {
	case err := <-done:
		return err == nil
	case <-time.After(2 * time.Second):
		return false
	}
}

// before runs the active hooks for one operation: stall, then slow, then
// fail. A non-zero errno fails the operation.
func (d *diskFS) before(ctx context.Context, op diskOp) syscall.Errno {
	if h := d.stall.Load(); h != nil {
		if errno := h.wait(ctx); errno != 0 {
			return errno
		}
	}
	if h := d.slow.Load(); h != nil {
		h.ops.Add(1)
		select {
		case <-time.After(h.delay):
		case <-ctx.Done():
			return syscall.EINTR
		}
	}
	if h := d.fail.Load(); h != nil && (op == opWrite || op == opFsync) {
		h.ops.Add(1)
		return syscall.EIO
	}
	if h := d.full.Load(); h != nil && (op == opCreate || op == opMkdir) {
		h.ops.Add(1)
		return syscall.ENOSPC
	}
	return 0
}

// stallHook blocks operations until released.
type stallHook struct {
	released chan struct{}

	mu      sync.Mutex
	ops     uint64
	maxWait time.Duration
	nextID  uint64
	waiting map[uint64]time.Time
}

func newStallHook() *stallHook {
	return &stallHook{released: make(chan struct{}), waiting: map[uint64]time.Time{}}
}

// wait blocks until release or until the kernel interrupts the request
// (the calling process got a fatal signal).
func (h *stallHook) wait(ctx context.Context) syscall.Errno {
	h.mu.Lock()
	h.ops++
	id, start := h.nextID, time.Now()
	h.nextID++
	h.waiting[id] = start
	h.mu.Unlock()
	var errno syscall.Errno
	select {
	case <-h.released:
	case <-ctx.Done():
		errno = syscall.EINTR
	}
	h.mu.Lock()
	delete(h.waiting, id)
	h.maxWait = max(h.maxWait, time.Since(start))
	h.mu.Unlock()
	return errno
}

func (h *stallHook) release() { close(h.released) }

// measure counts stalled operations and the longest stall, including the
// ones still blocked (their stall lasts at least until now).
func (h *stallHook) measure() Measured {
	h.mu.Lock()
	defer h.mu.Unlock()
	longest := h.maxWait
	for _, start := range h.waiting {
		longest = max(longest, time.Since(start))
	}
	return Measured{OpsStalled: h.ops, MaxStallMS: ms(longest)}
}

// slowHook delays every operation.
type slowHook struct {
	delay time.Duration
	ops   atomic.Uint64
}

// failHook fails writes and fsyncs with EIO.
type failHook struct {
	ops atomic.Uint64
}

// diskFault is an applied disk-stall, disk-slow or disk-error.
type diskFault struct {
	d     *diskFS
	stall *stallHook
	slow  *slowHook
	fail  *failHook
}

func init() { register(applyDisk, kind.DiskStall, kind.DiskSlow, kind.DiskError) }

// applyDisk installs the hook of the fault's kind; one of each kind can be
// active at a time.
func applyDisk(a *Agent, f Fault) (fault, error) {
	d := a.disk
	if d == nil {
		return nil, fmt.Errorf("%w: no data folder is mounted through the agent (--fuse-data)", ErrUnavailable)
	}
	df := &diskFault{d: d}
	var ok bool
	switch f.Kind {
	case kind.DiskStall:
		df.stall = newStallHook()
		ok = d.stall.CompareAndSwap(nil, df.stall)
	case kind.DiskSlow:
		if f.Params.Delay <= 0 {
			return nil, badParams("disk-slow needs delay > 0")
		}
		df.slow = &slowHook{delay: time.Duration(f.Params.Delay)}
		ok = d.slow.CompareAndSwap(nil, df.slow)
	case kind.DiskError:
		df.fail = &failHook{}
		ok = d.fail.CompareAndSwap(nil, df.fail)
	}
	if !ok {
		return nil, fmt.Errorf("%w: a %s fault is already active", ErrConflict, f.Kind)
	}
	return df, nil
}

func (f *diskFault) mechanism() string { return "fuse" }

func (f *diskFault) measure() (Measured, error) {
	switch {
	case f.stall != nil:
		return f.stall.measure(), nil
	case f.slow != nil:
		return Measured{OpsSlowed: f.slow.ops.Load()}, nil
	default:
		return Measured{OpsFailed: f.fail.ops.Load()}, nil
	}
}

// heal removes the hook; for a stall, blocked operations resume now.
func (f *diskFault) heal() (Measured, error) {
	m, _ := f.measure()
	switch {
	case f.stall != nil:
		if f.d.stall.CompareAndSwap(f.stall, nil) {
			f.stall.release()
		}
	case f.slow != nil:
		f.d.slow.CompareAndSwap(f.slow, nil)
	default:
		f.d.fail.CompareAndSwap(f.fail, nil)
	}
	return m, nil
}

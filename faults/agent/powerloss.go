package agent

import (
	"fmt"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hadrill/hadrill/faults/kind"
)

// Power loss and a full disk, the two disk faults that need the FUSE layer
// to know more than which operation is passing: the journal of un-fsynced
// changes (journal.go) and the space a write needs.

// What a power loss loses. The model is a journaling file system such as
// ext4 with data=ordered, at its worst moment, and nothing stricter: a
// finding must be a state a real disk can be left in.
//   - Every process of the node dies at once, including the ones that left
//     the process group (PostgreSQL's backends call setsid): nothing writes
//     after the cut. Processes entered from outside (docker exec) are not
//     the node's and live on.
//   - File data not fsynced (fsync or fdatasync) is lost: each file is back
//     to its content and size at its last fsync. The kernel's own write-back
//     (after about 30 s) is taken not to have happened: the cut falls before.
//   - Namespace changes (create, mkdir, unlink, rmdir, rename) are one
//     ordered journal: an fsync of any file or folder commits every change
//     made before it, and so does the file system's commit every 5 s. The
//     changes after the last commit are undone, newest first (journal.go).
//
// powerLossFault is an applied power-loss: a crash (kill now, restart
// later) whose process comes back on the rolled-back data.
type powerLossFault struct {
	crash *crashFault // nil when the agent supervises no process
	m     Measured
}

func init() { register(applyPowerLoss, kind.PowerLoss) }

// applyPowerLoss kills every process of the node, so nothing writes any
// more, then rolls the data folder back to what the disk holds. The effect time is
// after the rollback: only then is the node in the state a power cut
// leaves. The process restarts after restart_after, or at heal.
func applyPowerLoss(a *Agent, f Fault) (fault, error) {
	if a.disk == nil {
		return nil, fmt.Errorf("%w: no data folder is mounted through the agent (--fuse-data)", ErrUnavailable)
	}
	if f.Params.RestartAfter < 0 {
		return nil, badParams("restart_after must not be negative")
	}
	pf := &powerLossFault{}
	if a.sup != nil {
		old, running, err := a.sup.killNode(killTimeout)
		if err != nil {
			return nil, err
		}
		if len(running) > 0 { // stuck in the kernel: roll back all the same
			a.log.Warn("power-loss: processes still running after SIGKILL", "pids", running, "after", killTimeout)
		}
		pf.crash = &crashFault{sup: a.sup, old: old}
		pf.m.OldPID = old
	}
	rs, err := a.disk.journal.rollback(a.disk.root, time.Now())
	pf.m.FilesRolledBack, pf.m.EntriesUndone = rs.files, rs.entries
	pf.m.BytesLost, pf.m.WrittenBackBytes = rs.bytesLost, rs.writtenBack
	if err != nil {
		a.log.Error("power-loss rollback incomplete", "err", err)
	}
	a.log.Info("power-loss rolled back", "files", rs.files, "entries", rs.entries,
		"bytes_lost", rs.bytesLost, "written_back", rs.writtenBack)
	if d := time.Duration(f.Params.RestartAfter); d > 0 && pf.crash != nil {
		pf.crash.timer = time.AfterFunc(d, func() { _ = pf.crash.restart() })
	}
	return pf, nil
}

func (p *powerLossFault) mechanism() string { return "fuse+signal" }

func (p *powerLossFault) measure() (Measured, error) {
	m := p.m
	if p.crash != nil {
		c, _ := p.crash.measure()
		m.NewPID = c.NewPID
	}
	return m, nil
}

func (p *powerLossFault) heal() (Measured, error) {
	if p.crash == nil {
		return p.m, nil
	}
	_, err := p.crash.heal()
	m, _ := p.measure()
	return m, err
}

// fullHook makes the disk full: creates and writes that need new space
// fail with ENOSPC once the allowance (bytes of growth) is used up, or once
// the backing file system's use reaches percent.
type fullHook struct {
	backing string
	percent float64
	allow   atomic.Int64 // bytes of growth still accepted (mib), -1: no allowance
	ops     atomic.Uint64
}

// isFull reports whether n more bytes of new data find no room.
func (h *fullHook) isFull(n int64) bool {
	if h.percent > 0 {
		var st unix.Statfs_t
		if err := unix.Statfs(h.backing, &st); err != nil || st.Blocks == 0 {
			return true
		}
		used := 100 * float64(st.Blocks-st.Bavail) / float64(st.Blocks)
		return used >= h.percent
	}
	if h.allow.Load() < 0 {
		return true
	}
	return h.allow.Add(-n) < 0
}

// checkSpace fails a write of n bytes at off that would grow the file
// while the disk is full. Writes within the file's size need no new space
// and pass, as they would on a full file system.
func (d *diskFS) checkSpace(f fileIO, off, n int64) syscall.Errno {
	h := d.full.Load()
	if h == nil {
		return 0
	}
	size, err := f.size()
	if err != nil {
		return 0
	}
	grow := off + n - size
	if grow <= 0 || !h.isFull(grow) {
		return 0
	}
	h.ops.Add(1)
	return syscall.ENOSPC
}

// diskFullFault is an applied disk-full.
type diskFullFault struct {
	d *diskFS
	h *fullHook
}

func init() { register(applyDiskFull, kind.DiskFull) }

// applyDiskFull installs the full hook: at once with no parameter, after mib
// MiB of new data, or when the backing file system is percent full.
func applyDiskFull(a *Agent, f Fault) (fault, error) {
	d := a.disk
	if d == nil {
		return nil, fmt.Errorf("%w: no data folder is mounted through the agent (--fuse-data)", ErrUnavailable)
	}
	p := f.Params
	if p.Percent < 0 || p.Percent > 100 || p.MiB < 0 || (p.Percent > 0 && p.MiB > 0) {
		return nil, badParams("disk-full takes percent in (0, 100] or mib > 0, not both")
	}
	h := &fullHook{backing: d.backing, percent: p.Percent}
	h.allow.Store(-1)
	if p.MiB > 0 {
		h.allow.Store(int64(p.MiB) << 20)
	}
	if !d.full.CompareAndSwap(nil, h) {
		return nil, fmt.Errorf("%w: a disk-full fault is already active", ErrConflict)
	}
	return &diskFullFault{d: d, h: h}, nil
}

func (f *diskFullFault) mechanism() string { return "fuse" }

func (f *diskFullFault) measure() (Measured, error) {
	return Measured{OpsNoSpace: f.h.ops.Load()}, nil
}

func (f *diskFullFault) heal() (Measured, error) {
	f.d.full.CompareAndSwap(f.h, nil)
	return f.measure()
}

package agent_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/hadrill/hadrill/faults/agent"
	"github.com/hadrill/hadrill/faults/kind"
)

// syncDir fsyncs a folder, which makes the creates and renames in it
// durable.
func syncDir(t *testing.T, dir string) {
	t.Helper()
	d, err := os.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		t.Fatalf("fsync %s: %v", dir, err)
	}
}

// writeFile writes data to name in the mount, with an fsync or not.
func writeFile(t *testing.T, mnt, name string, data []byte, off int64, fsync bool) {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(mnt, name), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteAt(data, off); err != nil {
		t.Fatal(err)
	}
	if fsync {
		if err := f.Sync(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestPowerLoss writes through the mount with and without fsync, cuts the
// power, and reads back, both through the mount and in the backing folder:
// what was fsynced is there, what was not is back to its last fsynced
// state; a create followed by an fsync is kept (the fsync commits it), a
// rename after the last fsync is undone.
func TestPowerLoss(t *testing.T) {
	p, mnt := diskAgent(t)
	big := bytes.Repeat([]byte("0123456789abcdef"), 100<<10/16) // 100 KiB
	writeFile(t, mnt, "synced", []byte("v1"), 0, true)
	writeFile(t, mnt, "big", big, 0, true)
	syncDir(t, mnt)

	writeFile(t, mnt, "synced", []byte("v2"), 0, true)                          // fsynced: kept
	writeFile(t, mnt, "existing", []byte("LOST"), 0, false)                     // not fsynced: "kept" again
	writeFile(t, mnt, "big", bytes.Repeat([]byte("X"), 10<<10), 40<<10, false)  // overwrite the middle
	writeFile(t, mnt, "big", bytes.Repeat([]byte("Y"), 50<<10), 100<<10, false) // and append
	writeFile(t, mnt, "new", []byte("fsynced"), 0, true)                        // the fsync commits the create too
	if err := os.Rename(filepath.Join(mnt, "synced"), filepath.Join(mnt, "renamed")); err != nil {
		t.Fatal(err)
	}

	p.apply(t, agent.Fault{ID: "pl", Kind: kind.PowerLoss})
	healed := p.heal(t, "pl")
	t.Logf("measured %+v", healed.Measured)

	// The host sees the backing folder at the same path: the mount lives
	// in the agent's own mount namespace.
	backing := strings.TrimPrefix(mnt, fmt.Sprintf("/proc/%d/root", p.cmd.Process.Pid))
	for _, root := range []string{mnt, backing} {
		want := map[string][]byte{"synced": []byte("v2"), "existing": []byte("kept"), "big": big, "new": []byte("fsynced")}
		for name, data := range want {
			got, err := os.ReadFile(filepath.Join(root, name))
			if err != nil || !bytes.Equal(got, data) {
				t.Errorf("%s after power loss: %d bytes %.12q (%v), want %d bytes %.12q", name, len(got), got, err, len(data), data)
			}
		}
		if _, err := os.Stat(filepath.Join(root, "renamed")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("renamed after power loss: %v, want it gone (renamed after the last fsync)", err)
		}
	}
	m := healed.Measured
	if m.FilesRolledBack < 2 || m.EntriesUndone != 1 || m.BytesLost < 60<<10 {
		t.Errorf("measured %d files rolled back, %d entries undone, %d bytes lost; want >= 2, 1, >= 60 KiB",
			m.FilesRolledBack, m.EntriesUndone, m.BytesLost)
	}
}

// TestDiskFull fills the disk: a write that grows a file and a create fail
// with ENOSPC, while reads, overwrites in place and fsync work; with mib,
// that many MiB are still taken first; after the heal, writes work again.
func TestDiskFull(t *testing.T) {
	p, mnt := diskAgent(t)
	f := openData(t, mnt, "wal")
	if _, err := f.Write(make([]byte, 8192)); err != nil {
		t.Fatal(err)
	}
	p.apply(t, agent.Fault{ID: "full", Kind: kind.DiskFull})
	_, appendErr := f.WriteAt([]byte("more"), 8192)
	_, createErr := os.Create(filepath.Join(mnt, "another"))
	_, overwriteErr := f.WriteAt([]byte("in place"), 100)
	syncErr := f.Sync()
	buf := make([]byte, 8)
	_, readErr := f.ReadAt(buf, 100)
	existing, existingErr := os.ReadFile(filepath.Join(mnt, "existing"))
	healed := p.heal(t, "full")
	_, afterErr := f.WriteAt([]byte("more"), 8192)
	t.Logf("append %v, create %v, overwrite %v, fsync %v, read %q %v; after heal %v; measured %+v",
		appendErr, createErr, overwriteErr, syncErr, buf, readErr, afterErr, healed.Measured)
	if !errors.Is(appendErr, syscall.ENOSPC) || !errors.Is(createErr, syscall.ENOSPC) {
		t.Errorf("append %v, create %v; want ENOSPC for both", appendErr, createErr)
	}
	if overwriteErr != nil || syncErr != nil || readErr != nil || string(buf) != "in place" ||
		existingErr != nil || string(existing) != "kept" {
		t.Errorf("overwrite %v, fsync %v, read %q %v, read other %q %v; want all to work",
			overwriteErr, syncErr, buf, readErr, existing, existingErr)
	}
	if afterErr != nil || healed.Measured.OpsNoSpace != 2 {
		t.Errorf("after heal: append %v; measured %d ENOSPC, want nil and 2", afterErr, healed.Measured.OpsNoSpace)
	}

	p.apply(t, agent.Fault{ID: "mib", Kind: kind.DiskFull, Params: agent.Params{Params: kind.Params{MiB: 1}}})
	_, firstErr := f.WriteAt(make([]byte, 512<<10), 16<<10)
	_, pastErr := f.WriteAt(make([]byte, 1<<20), 1<<20)
	p.heal(t, "mib")
	if firstErr != nil || !errors.Is(pastErr, syscall.ENOSPC) {
		t.Errorf("mib 1: 512 KiB write %v, 1 MiB more %v; want nil then ENOSPC", firstErr, pastErr)
	}
}

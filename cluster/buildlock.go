package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// lockBuild takes a host-wide lock on building ref, so that concurrent
// hadrill processes build an image once. The lock is an flock on a file in
// the user's cache folder: the kernel drops it when the process dies, so a
// killed run never leaves a build locked. The file itself stays (it is
// empty) and is reused. Waiting ends with ctx.
func lockBuild(ctx context.Context, ref string) (unlock func(), err error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		dir = os.TempDir()
	}
	dir = filepath.Join(dir, "hadrill", "build-locks")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("make build lock folder: %w", err)
	}
	name := strings.NewReplacer("/", "_", ":", "_").Replace(ref) + ".lock"
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open build lock of %s: %w", ref, err)
	}
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil // closing releases the flock
		}
		if !errors.Is(err, unix.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock build of %s: %w", ref, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("wait for another build of %s: %w", ref, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

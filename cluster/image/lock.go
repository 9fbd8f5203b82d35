package image

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// lockPoll is how often a process waiting for another one's build of the
// same image checks the lock again.
const lockPoll = 200 * time.Millisecond

// lockImage takes an exclusive lock named after ref, shared by every hadrill
// process on the machine (and every goroutine: flock locks belong to the open
// file, not the process). Two drills that start at once then build each
// missing image once: the second waits, finds the image and uses it. The lock
// files stay (removing one would race with a process about to lock it); they
// are empty and one per image tag. Waiting ends with ctx.
func lockImage(ctx context.Context, ref string) (unlock func(), err error) {
	dir := filepath.Join(os.TempDir(), "hadrill-image-locks")
	if err := os.Mkdir(dir, 0o777); err == nil {
		// Shared like /tmp: root may build the base (make images) and a
		// user in the docker group the layers.
		os.Chmod(dir, 0o777|os.ModeSticky)
	} else if !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("lock image %s: %w", ref, err)
	}
	name := strings.NewReplacer("/", "_", ":", "_").Replace(ref) + ".lock"
	// Read-only is enough for flock, so anyone can lock a file another
	// user created.
	f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_RDONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock image %s: %w", ref, err)
	}
	tick := time.NewTicker(lockPoll)
	defer tick.Stop()
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock image %s: %w", ref, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("wait for another build of %s: %w", ref, ctx.Err())
		case <-tick.C:
		}
	}
}

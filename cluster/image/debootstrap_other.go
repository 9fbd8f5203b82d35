//go:build !linux

package image

import (
	"context"
	"errors"
	"os"
)

// debootstrap needs Linux: it chroots into the new system and runs its
// package scripts there.
func (b debianBase) debootstrap(ctx context.Context, root string) error {
	return errors.New("debootstrap needs a Linux host")
}

// removeRootfs removes a temporary root file system.
func removeRootfs(dir string) { os.RemoveAll(dir) }

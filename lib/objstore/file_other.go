//go:build !unix

package objstore

import (
	"errors"
	"os"
)

// The file store needs flock and inode numbers; elsewhere its conditional
// puts fail rather than race.

func lockFile(*os.File) error   { return errors.ErrUnsupported }
func unlockFile(*os.File) error { return errors.ErrUnsupported }
func inode(os.FileInfo) uint64  { return 0 }

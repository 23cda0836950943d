// Package filelock serializes runs that rewrite the same package: two
// cwlpatch (or generate) runs started together take turns instead of
// interleaving their reads and writes.
package filelock

import (
	"fmt"
	"os"
	"syscall"
)

// Lock takes an exclusive advisory lock on path (an existing file, such as
// project.toml, which is only read, so locking it changes nothing on disk) and
// blocks until it is granted. The returned function releases it.
func Lock(path string) (unlock func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

//go:build unix

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// lockDataDir takes an exclusive lock on the embedded store's data dir, so
// only one process runs the embedded store on it at a time: its dispatcher
// owns the store's unfinished deliveries (node "<hostname>/embedded") and
// its writer is the file's one writer, so a second serve, or a CLI command
// while serve runs, must refuse. The lock goes with the process, so a
// crash never leaves it behind. With a MongoDB URI there is nothing to
// lock.
func lockDataDir(mongodbURI, dataDir string) (unlock func(), err error) {
	if mongodbURI != "" {
		return func() {}, nil
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	path := filepath.Join(dataDir, "jqlgate.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("data dir lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("the embedded store in %s is in use by another jqlgate process (a running serve?); stop it first, or share a MongoDB (--mongodb-uri) between serve and the CLI", dataDir)
		}
		return nil, fmt.Errorf("data dir lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}

//go:build !unix

package main

// lockDataDir does nothing where flock is missing: run one process on an
// embedded store's data dir at a time.
func lockDataDir(mongodbURI, dataDir string) (unlock func(), err error) {
	return func() {}, nil
}

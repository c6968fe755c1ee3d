package keys

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
)

// tempPrefix starts the names of files being written; readers skip them.
const tempPrefix = ".tmp-"

// maxFileSize bounds what we read from a store file; real ones are well under 1 KiB.
const maxFileSize = 64 << 10

// checkPrivateMode refuses a file that grants any access to group or others. Windows has no
// such mode bits, so there is nothing to check there.
func checkPrivateMode(path string, mode fs.FileMode) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	if perm := mode.Perm(); perm&0o077 != 0 {
		return fmt.Errorf("keys: %s: permissions %#o give group or others access; run chmod 600 %s", path, perm, path)
	}
	return nil
}

// checkDir refuses a directory that others may write into: they could replace or add key files.
func checkDir(dir string) error {
	info, err := os.Stat(dir)
	if err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	if !info.IsDir() {
		return fmt.Errorf("keys: %s: not a directory", dir)
	}
	if runtime.GOOS == "windows" {
		return nil
	}
	if perm := info.Mode().Perm(); perm&0o022 != 0 {
		return fmt.Errorf("keys: %s: directory permissions %#o let group or others write in it; run chmod go-w %s", dir, perm, dir)
	}
	return nil
}

// readPrivateFile reads a store file after checking, on the opened file itself, that it is a
// regular file no one but the owner can access.
func readPrivateFile(path string) ([]byte, fs.FileInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("keys: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("keys: %w", err)
	}
	if !info.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("keys: %s: not a regular file", path)
	}
	if err := checkPrivateMode(path, info.Mode()); err != nil {
		return nil, nil, err
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("keys: %w", err)
	}
	if len(data) > maxFileSize {
		return nil, nil, fmt.Errorf("keys: %s: larger than %d bytes", path, maxFileSize)
	}
	return data, info, nil
}

// writeFileAtomic writes data to dir/name with mode 0600 so that readers see either the old file
// or the complete new one, and the new one survives a crash once this returns. With replace false
// it fails with fs.ErrExist instead of replacing an existing file (also against another process
// creating it at the same moment).
func writeFileAtomic(dir, name string, data []byte, replace bool) (err error) {
	tmp, err := os.CreateTemp(dir, tempPrefix+"*") // mode 0600
	if err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	tmpName := tmp.Name()
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		return fmt.Errorf("keys: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("keys: %w", err)
	}
	final := filepath.Join(dir, name)
	if replace {
		err = os.Rename(tmpName, final)
	} else {
		// link(2) fails if final exists, which rename(2) would silently replace.
		err = os.Link(tmpName, final)
		if err == nil {
			os.Remove(tmpName)
		}
	}
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("keys: %s: %w", final, fs.ErrExist)
		}
		return fmt.Errorf("keys: %w", err)
	}
	syncDir(dir)
	return nil
}

// syncDir makes a rename in dir durable. Some systems cannot fsync a directory; the rename is
// still atomic there, only its durability across a power cut is up to the file system.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	d.Sync()
	d.Close()
}

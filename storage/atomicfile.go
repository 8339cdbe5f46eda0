package storage

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/vrkeeper/vrkeeper/storage/vfs"
)

// writeFileAtomic replaces path with data durably: it writes a temporary
// file, syncs it, renames it over path and syncs the directory. A crash at
// any point leaves either the old file or the new one, never a mix. Any
// failure is an I/O failure the caller must treat as fatal (fail-stop).
func writeFileAtomic(fsys vfs.FS, path string, data []byte) error {
	tmp := path + tmpSuffix
	f, err := fsys.Create(tmp)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	_, err = f.WriteAt(data, 0)
	if err == nil {
		err = f.Sync()
	}
	if err = errors.Join(err, f.Close()); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err := fsys.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	if err := fsys.SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("sync directory of %s: %w", path, err)
	}
	return nil
}

// readFile reads a whole file; found is false if it does not exist.
func readFile(fsys vfs.FS, path string) (data []byte, found bool, err error) {
	f, err := fsys.OpenFile(path)
	if errors.Is(err, errNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	data, err = readWhole(f, nil)
	return data, true, err
}

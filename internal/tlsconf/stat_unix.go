//go:build unix

package tlsconf

import (
	"os"
	"syscall"
)

// stat returns a file's stamp: a replaced file (written aside and
// renamed, as certificate tools do) has another inode.
func stat(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	st := fileStamp{size: fi.Size(), mtime: fi.ModTime()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.ino = uint64(sys.Ino)
	}
	return st, nil
}

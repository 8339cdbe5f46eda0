package storage

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io/fs"
	"path/filepath"
	"sync"

	"github.com/vrkeeper/vrkeeper/storage/vfs"
)

// errNotExist is the file system's "no such file".
var errNotExist = fs.ErrNotExist

// HardState is the replica state that must survive any crash, apart from
// the log: what the consensus core persists before it sends the messages
// that depend on it.
type HardState struct {
	// Epoch is the configuration epoch.
	Epoch uint64
	// View is the highest view the replica has entered or promised.
	View uint64
	// LastNormalView is the last view in which the replica's status was
	// normal; it is a claim about the log, so the log is made durable
	// before it (see the package documentation).
	LastNormalView uint64
	// Recovering is set while the replica rebuilds after losing its disk:
	// it must not vote, even after a restart, until it has caught up.
	Recovering bool
	// Cluster is the id of the cluster the replica belongs to (0: none
	// yet); a data directory of another cluster is refused.
	Cluster uint64
	// Incarnation is drawn when the replica's state is created.
	Incarnation uint64
	// Seeded marks a replica an operator made the sole source of the
	// cluster's state (vrkeeper reseed); the consensus core clears it.
	Seeded bool
	// Config is the encoded configuration (opaque here).
	Config []byte
	// Extra is any further state the consensus core needs durable (opaque
	// here).
	Extra []byte
}

// MaxStateBlob bounds HardState.Config and HardState.Extra.
const MaxStateBlob = 1 << 20

// stateFileName is the replica state file in the data directory.
const stateFileName = "replica-state"

// stateMagic opens the replica state file.
var stateMagic = [8]byte{'v', 'r', 'k', '-', 's', 't', 'a', 't'}

const (
	stateVersion   = 2
	stateHeaderLen = 64
	// stateRecovering and stateSeeded are the flags bits of
	// HardState.Recovering and HardState.Seeded; the other bits are zero.
	stateRecovering = 1
	stateSeeded     = 2
)

// StateFile keeps the HardState in one file, replaced atomically. It is
// safe for concurrent use.
type StateFile struct {
	fs   vfs.FS
	path string
	mu   sync.Mutex
	stop failStop
}

// openStateFile loads the state in dir. found is false if none was saved.
func openStateFile(fsys vfs.FS, dir string) (*StateFile, HardState, bool, error) {
	s := &StateFile{fs: fsys, path: filepath.Join(dir, stateFileName)}
	data, found, err := readFile(fsys, s.path)
	if err != nil {
		return nil, HardState{}, false, fmt.Errorf("state: read %s: %w", s.path, err)
	}
	if !found {
		return s, HardState{}, false, nil
	}
	st, err := decodeState(s.path, data)
	if err != nil {
		return nil, HardState{}, false, err
	}
	return s, st, true, nil
}

// Save replaces the stored state with st durably: when Save returns nil,
// st survives any crash; if a crash interrupts it, a restart finds either
// st or the state saved before. After an I/O failure every call fails
// (fail-stop).
func (s *StateFile) Save(st HardState) error {
	if len(st.Config) > MaxStateBlob || len(st.Extra) > MaxStateBlob {
		return fmt.Errorf("state: config of %d or extra of %d bytes, limit %d: %w",
			len(st.Config), len(st.Extra), MaxStateBlob, ErrTooLarge)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stop.err != nil {
		return s.stop.err
	}
	if err := writeFileAtomic(s.fs, s.path, encodeState(st)); err != nil {
		return s.stop.set(fmt.Errorf("state: %w", err))
	}
	return nil
}

// encodeState lays out the state file; see doc.go.
func encodeState(st HardState) []byte {
	b := make([]byte, stateHeaderLen, stateHeaderLen+len(st.Config)+len(st.Extra)+4)
	copy(b, stateMagic[:])
	binary.LittleEndian.PutUint32(b[8:], stateVersion)
	var flags uint32
	if st.Recovering {
		flags |= stateRecovering
	}
	if st.Seeded {
		flags |= stateSeeded
	}
	binary.LittleEndian.PutUint32(b[12:], flags)
	binary.LittleEndian.PutUint64(b[16:], st.Epoch)
	binary.LittleEndian.PutUint64(b[24:], st.View)
	binary.LittleEndian.PutUint64(b[32:], st.LastNormalView)
	binary.LittleEndian.PutUint64(b[40:], st.Cluster)
	binary.LittleEndian.PutUint64(b[48:], st.Incarnation)
	binary.LittleEndian.PutUint32(b[56:], uint32(len(st.Config)))
	binary.LittleEndian.PutUint32(b[60:], uint32(len(st.Extra)))
	b = append(b, st.Config...)
	b = append(b, st.Extra...)
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// decodeState parses and checks the state file.
func decodeState(path string, b []byte) (HardState, error) {
	if len(b) >= 12 && [8]byte(b[:8]) == stateMagic && binary.LittleEndian.Uint32(b[8:]) == 1 {
		return HardState{}, fmt.Errorf("state: %s was written by a vrkeeper before replica identities (format 1): %w; "+
			"to rebuild this server from its peers, stop it, empty its data directory (and dataLogDir) and start it again", path, ErrOldFormat)
	}
	if len(b) < stateHeaderLen+4 {
		return HardState{}, corrupt(path, 0, "file of %d bytes is too short", len(b))
	}
	body := b[:len(b)-4]
	if got, want := binary.LittleEndian.Uint32(b[len(b)-4:]), crc32.Checksum(body, castagnoli); got != want {
		return HardState{}, corrupt(path, int64(len(b)-4), "CRC %08x, computed %08x", got, want)
	}
	if [8]byte(b[:8]) != stateMagic {
		return HardState{}, corrupt(path, 0, "bad magic %q", b[:8])
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != stateVersion {
		return HardState{}, corrupt(path, 8, "unknown format version %d", v)
	}
	flags := binary.LittleEndian.Uint32(b[12:])
	if flags&^(stateRecovering|stateSeeded) != 0 {
		return HardState{}, corrupt(path, 12, "unknown flags %#x", flags)
	}
	nc, ne := int(binary.LittleEndian.Uint32(b[56:])), int(binary.LittleEndian.Uint32(b[60:]))
	if nc > MaxStateBlob || ne > MaxStateBlob || stateHeaderLen+nc+ne != len(body) {
		return HardState{}, corrupt(path, 56, "lengths %d and %d do not match the file", nc, ne)
	}
	st := HardState{
		Epoch:          binary.LittleEndian.Uint64(b[16:]),
		View:           binary.LittleEndian.Uint64(b[24:]),
		LastNormalView: binary.LittleEndian.Uint64(b[32:]),
		Recovering:     flags&stateRecovering != 0,
		Seeded:         flags&stateSeeded != 0,
		Cluster:        binary.LittleEndian.Uint64(b[40:]),
		Incarnation:    binary.LittleEndian.Uint64(b[48:]),
	}
	if nc > 0 {
		st.Config = append([]byte(nil), body[stateHeaderLen:stateHeaderLen+nc]...)
	}
	if ne > 0 {
		st.Extra = append([]byte(nil), body[stateHeaderLen+nc:]...)
	}
	return st, nil
}

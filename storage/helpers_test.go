package storage

import (
	"bytes"
	"fmt"
	"io"
	"math/rand"
	"testing"

	"github.com/vrkeeper/vrkeeper/storage/faultfs"
)

// testSegmentSize keeps segments small so tests cross segment boundaries.
const testSegmentSize = 4 << 10

// memOptions returns WAL options on an in-memory file system.
func memOptions(fs *faultfs.FS) WALOptions {
	return WALOptions{FS: fs, SegmentSize: testSegmentSize, spareInline: true}
}

// mkEntries returns entries [from, to) in view, with data derived from op
// and view so that a wrong entry cannot compare equal.
func mkEntries(from, to, view uint64) []Entry {
	var es []Entry
	for op := from; op < to; op++ {
		es = append(es, Entry{Op: op, View: view, Data: entryData(op, view)})
	}
	return es
}

// entryData is the command bytes of the test entry (op, view); their
// length varies with op so frames have different paddings.
func entryData(op, view uint64) []byte {
	return bytes.Repeat([]byte(fmt.Sprintf("<%d.%d>", op, view)), int(op%5)+1)
}

// mustOpen opens the WAL or fails the test.
func mustOpen(t testing.TB, dir string, opts WALOptions) (*WAL, *Recovered) {
	t.Helper()
	w, rec, err := OpenWAL(dir, opts)
	if err != nil {
		t.Fatalf("OpenWAL: %v", err)
	}
	return w, rec
}

// mustDurable appends or replaces and waits for durability.
func mustDurable(t testing.TB, w *WAL, seq uint64, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("mutation: %v", err)
	}
	if err := w.WaitDurable(seq); err != nil {
		t.Fatalf("WaitDurable(%d): %v", seq, err)
	}
}

// sameEntries reports the first difference between two logs, or "".
func sameEntries(got, want []Entry) string {
	if len(got) != len(want) {
		return fmt.Sprintf("got %d entries %s, want %d %s", len(got), span(got), len(want), span(want))
	}
	for i := range got {
		g, w := got[i], want[i]
		if g.Op != w.Op || g.View != w.View || !bytes.Equal(g.Data, w.Data) {
			return fmt.Sprintf("entry %d: got {%d %d %q}, want {%d %d %q}", i, g.Op, g.View, g.Data, w.Op, w.View, w.Data)
		}
	}
	return ""
}

// span renders the op range of a log.
func span(es []Entry) string {
	if len(es) == 0 {
		return "[]"
	}
	return fmt.Sprintf("[%d..%d]", es[0].Op, es[len(es)-1].Op)
}

// writeString returns a snapshot body writer of s.
func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

// newRand returns a seeded source for tearing crashes.
func newRand(seed int64) *rand.Rand { return rand.New(rand.NewSource(seed)) }

package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"path"
	"strings"
	"testing"

	"github.com/vrkeeper/vrkeeper/storage/faultfs"
	"github.com/vrkeeper/vrkeeper/storage/vfs"
)

// builtLog is a closed log on an in-memory disk, one batch per mutation.
type builtLog struct {
	fs *faultfs.FS
	// want is the whole log.
	want []Entry
	// lastBatch is the entries of the final batch.
	lastBatch []Entry
	// segs are the segment file paths, oldest first.
	segs []string
}

// buildLog appends batches of 3 entries, each synced alone, so that the
// log spans segments and the last segment holds several batches.
func buildLog(t *testing.T, batches int) builtLog {
	t.Helper()
	fs := faultfs.New()
	w, _ := mustOpen(t, "log", memOptions(fs))
	var b builtLog
	for i := 0; i < batches; i++ {
		op := uint64(1 + 3*i)
		es := mkEntries(op, op+3, 1)
		seq, err := w.Append(es)
		mustDurable(t, w, seq, err)
		b.want = append(b.want, es...)
		b.lastBatch = es
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	b.fs = fs.Reboot(faultfs.LoseUnsynced, nil)
	names, _ := b.fs.ReadDir("log")
	for _, n := range names {
		if strings.HasSuffix(n, segmentSuffix) {
			b.segs = append(b.segs, path.Join("log", n))
		}
	}
	return b
}

// batchSpans returns the [start, end) of each batch of a segment's bytes.
func batchSpans(data []byte) [][2]int {
	var spans [][2]int
	off := segmentFrameLen
	for off+8 <= len(data) && binary.LittleEndian.Uint64(data[off:]) != 0 {
		n := int(binary.LittleEndian.Uint64(data[off+frameHeaderLen:]))
		spans = append(spans, [2]int{off, off + n})
		off += n
	}
	return spans
}

// image returns a copy of b's disk with the file at p replaced by data.
func (b builtLog) image(p string, data []byte) *faultfs.FS {
	fs := b.fs.Reboot(faultfs.KeepUnsynced, nil)
	fs.WriteFile(p, data)
	return fs
}

func TestTornTailIsCut(t *testing.T) {
	b := buildLog(t, 40)
	lastSeg := b.segs[len(b.segs)-1]
	orig, _ := b.fs.ReadFile(lastSeg)
	spans := batchSpans(orig)
	if len(spans) < 2 {
		t.Fatalf("last segment has %d batches; the test needs several", len(spans))
	}
	start, end := spans[len(spans)-1][0], spans[len(spans)-1][1]
	survivors := b.want[:len(b.want)-len(b.lastBatch)]

	// Every way the last write can be torn: each sector of it lost alone,
	// and each suffix of its sectors lost (as a power cut mid-write does).
	type tear struct {
		name  string
		apply func([]byte)
	}
	var tears []tear
	firstSector := start - start%vfs.SectorSize
	for s := firstSector; s < end; s += vfs.SectorSize {
		lo, hi := max(s, start), min(s+vfs.SectorSize, end)
		tears = append(tears,
			tear{fmt.Sprintf("sector %d lost", s), func(d []byte) { clear(d[lo:hi]) }},
			tear{fmt.Sprintf("sectors from %d lost", s), func(d []byte) { clear(d[lo:end]) }})
	}
	for cut := start + 1; cut < end; cut += 37 {
		tears = append(tears, tear{fmt.Sprintf("file ends at %d", cut), nil})
	}
	for _, tc := range tears {
		t.Run(tc.name, func(t *testing.T) {
			data := bytes.Clone(orig)
			if tc.apply != nil {
				tc.apply(data)
			} else {
				var cut int
				fmt.Sscanf(tc.name, "file ends at %d", &cut)
				data = data[:cut]
			}
			fs := b.image(lastSeg, data)
			w, rec, err := OpenWAL("log", memOptions(fs))
			if err != nil {
				t.Fatalf("torn tail refused: %v", err)
			}
			if d := sameEntries(rec.Entries, survivors); d != "" {
				t.Fatalf("after the cut: %s", d)
			}
			if allZero(data[start:]) {
				// The whole write was lost: the log just ends earlier.
				if rec.Torn != nil {
					t.Fatalf("Torn = %+v for a write that left no trace", rec.Torn)
				}
				w.Close()
				return
			}
			if rec.Torn == nil || rec.Torn.Offset != int64(start) || rec.Torn.Segment != lastSeg {
				t.Fatalf("Torn = %+v, want a cut of %s at %d", rec.Torn, lastSeg, start)
			}
			saved, ok := fs.ReadFile(rec.Torn.SavedAs)
			if !ok || !bytes.Equal(saved, bytes.TrimRight(data[start:], "\x00")) {
				t.Fatalf("kept-aside bytes (%d) are not the torn write (%d)", len(saved), len(bytes.TrimRight(data[start:], "\x00")))
			}
			// The log continues cleanly where the torn write began.
			seq, err := w.Append(mkEntries(survivors[len(survivors)-1].Op+1, survivors[len(survivors)-1].Op+2, 2))
			mustDurable(t, w, seq, err)
			w.Close()
			w, rec, err = OpenWAL("log", memOptions(fs.Reboot(faultfs.LoseUnsynced, nil)))
			if err != nil {
				t.Fatalf("reopen after repair: %v", err)
			}
			defer w.Close()
			if rec.Torn != nil || len(rec.Entries) != len(survivors)+1 {
				t.Fatalf("reopen after repair: %d entries, torn %+v", len(rec.Entries), rec.Torn)
			}
		})
	}
}

func TestBitFlipsAreCorruption(t *testing.T) {
	b := buildLog(t, 24)
	if len(b.segs) < 2 {
		t.Fatalf("need 2 segments, have %d", len(b.segs))
	}
	// One image, each segment damaged and restored in turn: a corrupt log
	// is refused before anything is written to it.
	fs := b.fs.Reboot(faultfs.KeepUnsynced, nil)
	for i, seg := range b.segs {
		orig, _ := b.fs.ReadFile(seg)
		spans := batchSpans(orig)
		end := spans[len(spans)-1][1]
		last := i == len(b.segs)-1
		data := bytes.Clone(orig)
		for off := 0; off < end; off++ {
			data[off] ^= 1 << (off % 8)
			fs.WriteFile(seg, data)
			data[off] ^= 1 << (off % 8)
			_, _, err := OpenWAL("log", memOptions(fs))
			var ce *CorruptionError
			if !errors.As(err, &ce) || !errors.Is(err, ErrCorrupt) {
				t.Fatalf("%s: bit flip at %d (last segment %v) not reported as corruption: %v", seg, off, last, err)
			}
			// The error names the file and an offset at or before the flip
			// (a broken chain is found at the next segment's header).
			if !strings.Contains(err.Error(), ce.Path) || !strings.Contains(err.Error(), "rebuild") {
				t.Fatalf("error %q does not name the file and the way out", err)
			}
			if ce.Path == seg && ce.Offset > int64(off) {
				t.Fatalf("flip at %d reported at %d", off, ce.Offset)
			}
		}
		fs.WriteFile(seg, orig)
	}
}

func TestGarbageAfterCleanEnd(t *testing.T) {
	b := buildLog(t, 40)
	tests := []struct {
		name      string
		seg       int // index into b.segs; -1 is the last
		wantTorn  bool
		wantError bool
	}{
		{"last segment: a lost first sector of an unsynced write", -1, true, false},
		{"completed segment: corruption", 0, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seg := b.segs[(tc.seg+len(b.segs))%len(b.segs)]
			data, _ := b.fs.ReadFile(seg)
			spans := batchSpans(data)
			end := spans[len(spans)-1][1]
			// Garbage in the second sector after the end, the first left
			// zero; in a full segment, in its last bytes.
			g := min(end-end%vfs.SectorSize+2*vfs.SectorSize, len(data)-8)
			if g < end+8 {
				t.Fatalf("segment %s has no room after its end %d", seg, end)
			}
			copy(data[g:], "garbage!")
			w, rec, err := OpenWAL("log", memOptions(b.image(seg, data)))
			if tc.wantError {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("err %v, want corruption", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer w.Close()
			if d := sameEntries(rec.Entries, b.want); d != "" {
				t.Fatal(d)
			}
			if (rec.Torn != nil) != tc.wantTorn || rec.Torn.Offset != int64(end) {
				t.Fatalf("Torn = %+v", rec.Torn)
			}
		})
	}
}

func TestStructuralDamageIsCorruption(t *testing.T) {
	b := buildLog(t, 40)
	if len(b.segs) < 3 {
		t.Fatalf("need 3 segments, have %d", len(b.segs))
	}
	tests := []struct {
		name   string
		damage func(fs *faultfs.FS)
	}{
		{"middle segment missing", func(fs *faultfs.FS) { fs.Remove(b.segs[1]) }},
		{"segment renamed to another seq", func(fs *faultfs.FS) {
			data, _ := fs.ReadFile(b.segs[1])
			fs.Remove(b.segs[1])
			fs.WriteFile(path.Join("log", segmentName(99, 0)), data)
		}},
		{"segment emptied", func(fs *faultfs.FS) { fs.WriteFile(b.segs[0], nil) }},
		{"a batch repeated", func(fs *faultfs.FS) {
			data, _ := fs.ReadFile(b.segs[0])
			spans := batchSpans(data)
			a, c := spans[0], spans[1]
			copy(data[c[0]:], data[a[0]:a[1]]) // overwrite batch 2 with batch 1
			fs.WriteFile(b.segs[0], data)
		}},
		{"not a segment name", func(fs *faultfs.FS) { fs.WriteFile(path.Join("log", "junk.wal"), []byte("x")) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := b.fs.Reboot(faultfs.KeepUnsynced, nil)
			tc.damage(fs)
			_, _, err := OpenWAL("log", memOptions(fs))
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err %v, want corruption", err)
			}
		})
	}
}

func TestReadEntriesDetectsLaterCorruption(t *testing.T) {
	fs := faultfs.New()
	w, _ := mustOpen(t, "log", memOptions(fs))
	defer w.Close()
	seq, err := w.Append(mkEntries(1, 4, 1))
	mustDurable(t, w, seq, err)
	seg := path.Join("log", segmentName(1, 0))
	data, _ := fs.ReadFile(seg)
	i := bytes.Index(data, entryData(2, 1))
	data[i] ^= 1
	fs.WriteFile(seg, data) // the disk rots under the running log
	if _, err := w.ReadEntries(1, 2, 0); err != nil {
		t.Fatalf("intact entry: %v", err)
	}
	_, err = w.ReadEntries(1, 4, 0)
	var ce *CorruptionError
	if !errors.As(err, &ce) || ce.Path != seg {
		t.Fatalf("err %v, want corruption of %s", err, seg)
	}
}

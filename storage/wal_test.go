package storage

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vrkeeper/vrkeeper/storage/faultfs"
)

func TestWALAppendReopen(t *testing.T) {
	fs := faultfs.New()
	w, rec := mustOpen(t, "log", memOptions(fs))
	if len(rec.Entries) != 0 || rec.NextOp != 0 || rec.Torn != nil {
		t.Fatalf("fresh log recovered %+v", rec)
	}
	var want []Entry
	for op := uint64(1); op <= 200; op += 10 {
		es := mkEntries(op, op+10, 3)
		seq, err := w.Append(es)
		mustDurable(t, w, seq, err)
		want = append(want, es...)
	}
	if m := w.Durable(); m.Seq != 20 || m.LastOp != 200 {
		t.Fatalf("Durable() = %+v, want {20 200}", m)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	names, _ := fs.ReadDir("log")
	if segs := countSuffix(names, segmentSuffix); segs < 3 {
		t.Fatalf("only %d segments for %d entries of a 4 KiB segment size: %v", segs, len(want), names)
	}
	w, rec = mustOpen(t, "log", memOptions(fs))
	defer w.Close()
	if d := sameEntries(rec.Entries, want); d != "" {
		t.Fatal(d)
	}
	if rec.NextOp != 201 || rec.Torn != nil {
		t.Fatalf("NextOp %d Torn %v, want 201 nil", rec.NextOp, rec.Torn)
	}
	seq, err := w.Append(mkEntries(201, 202, 4))
	mustDurable(t, w, seq, err)
	if seq != 1 {
		t.Fatalf("first mutation after reopen numbered %d, want 1", seq)
	}
}

func countSuffix(names []string, suffix string) int {
	n := 0
	for _, name := range names {
		if strings.HasSuffix(name, suffix) {
			n++
		}
	}
	return n
}

func TestWALReplaceFrom(t *testing.T) {
	tests := []struct {
		name     string
		from     uint64 // ReplaceFrom op; the log holds [1, 20] in view 1
		entries  []Entry
		want     []Entry
		wantNext uint64
	}{
		{"cut middle, append", 11, mkEntries(11, 14, 2), append(mkEntries(1, 11, 1), mkEntries(11, 14, 2)...), 14},
		{"cut middle, nothing appended", 15, nil, mkEntries(1, 15, 1), 15},
		{"cut everything", 1, mkEntries(1, 3, 2), mkEntries(1, 3, 2), 3},
		{"replace at the end is an append", 21, mkEntries(21, 23, 2), append(mkEntries(1, 21, 1), mkEntries(21, 23, 2)...), 23},
		{"replace at the end with nothing changes nothing", 21, nil, mkEntries(1, 21, 1), 21},
		{"beyond the end empties the log", 40, nil, nil, 40},
		{"beyond the end, then entries", 40, mkEntries(40, 42, 5), mkEntries(40, 42, 5), 42},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := faultfs.New()
			w, _ := mustOpen(t, "log", memOptions(fs))
			seq, err := w.Append(mkEntries(1, 21, 1))
			mustDurable(t, w, seq, err)
			before := w.batchNo
			seq, err = w.ReplaceFrom(tc.from, tc.entries)
			mustDurable(t, w, seq, err)
			if tc.from == 21 && tc.entries == nil && (seq != 1 || w.batchNo != before) {
				t.Errorf("a no-op ReplaceFrom was a mutation %d and wrote %d batches", seq, w.batchNo-before)
			}
			if m := w.Durable(); m.LastOp != tc.wantNext-1 {
				t.Errorf("Durable().LastOp = %d, want %d", m.LastOp, tc.wantNext-1)
			}
			// The next append must continue exactly at wantNext.
			if _, err := w.Append(mkEntries(tc.wantNext+1, tc.wantNext+2, 9)); !errors.Is(err, ErrOutOfOrder) {
				t.Errorf("append after a gap: err %v, want ErrOutOfOrder", err)
			}
			if len(tc.want) > 0 {
				got, err := w.ReadEntries(tc.want[0].Op, tc.wantNext, 0)
				if err != nil {
					t.Fatal(err)
				}
				if d := sameEntries(got, tc.want); d != "" {
					t.Errorf("ReadEntries: %s", d)
				}
			}
			w.Close()
			w, rec := mustOpen(t, "log", memOptions(fs))
			defer w.Close()
			if d := sameEntries(rec.Entries, tc.want); d != "" {
				t.Errorf("after reopen: %s", d)
			}
			if rec.NextOp != tc.wantNext {
				t.Errorf("NextOp %d, want %d", rec.NextOp, tc.wantNext)
			}
		})
	}
}

func TestWALRejectsBadInput(t *testing.T) {
	fs := faultfs.New()
	w, _ := mustOpen(t, "log", WALOptions{FS: fs, SegmentSize: testSegmentSize, MaxEntrySize: 100})
	defer w.Close()
	seq, err := w.Append(mkEntries(5, 8, 1))
	mustDurable(t, w, seq, err)
	tests := []struct {
		name    string
		call    func() error
		wantErr error
	}{
		{"gap", func() error { _, err := w.Append(mkEntries(9, 10, 1)); return err }, ErrOutOfOrder},
		{"repeat", func() error { _, err := w.Append(mkEntries(7, 8, 1)); return err }, ErrOutOfOrder},
		{"not consecutive", func() error {
			_, err := w.Append([]Entry{{Op: 8}, {Op: 10}})
			return err
		}, ErrOutOfOrder},
		{"replace from 0", func() error { _, err := w.ReplaceFrom(0, nil); return err }, ErrOutOfOrder},
		{"replace with entries elsewhere", func() error { _, err := w.ReplaceFrom(6, mkEntries(7, 8, 2)); return err }, ErrOutOfOrder},
		{"too large", func() error {
			_, err := w.Append([]Entry{{Op: 8, Data: make([]byte, 101)}})
			return err
		}, ErrTooLarge},
	}
	for _, tc := range tests {
		if err := tc.call(); !errors.Is(err, tc.wantErr) {
			t.Errorf("%s: err %v, want %v", tc.name, err, tc.wantErr)
		}
	}
	// Rejected calls changed nothing: the log still continues at 8.
	seq, err = w.Append(mkEntries(8, 9, 1))
	mustDurable(t, w, seq, err)
	if seq != 2 {
		t.Errorf("mutation number %d after rejected calls, want 2", seq)
	}
}

func TestWALFirstAppendPositionsLog(t *testing.T) {
	fs := faultfs.New()
	w, _ := mustOpen(t, "log", memOptions(fs))
	if _, err := w.Append([]Entry{{Op: 0}}); !errors.Is(err, ErrOutOfOrder) {
		t.Fatalf("op 0 accepted: %v", err)
	}
	seq, err := w.Append(mkEntries(5001, 5003, 7))
	mustDurable(t, w, seq, err)
	w.Close()
	w, rec := mustOpen(t, "log", memOptions(fs))
	defer w.Close()
	if d := sameEntries(rec.Entries, mkEntries(5001, 5003, 7)); d != "" || rec.NextOp != 5003 {
		t.Fatalf("%s; NextOp %d", d, rec.NextOp)
	}
}

func TestWALReadEntries(t *testing.T) {
	fs := faultfs.New()
	w, _ := mustOpen(t, "log", memOptions(fs))
	defer w.Close()
	for op := uint64(10); op < 110; op += 7 { // many batches, several segments
		seq, err := w.Append(mkEntries(op, min(op+7, 110), 1))
		mustDurable(t, w, seq, err)
	}
	one := entryFrameLen(len(entryData(50, 1)))
	tests := []struct {
		lo, hi   uint64
		maxBytes int
		want     []Entry
		wantErr  error
	}{
		{10, 110, 0, mkEntries(10, 110, 1), nil},
		{50, 51, 0, mkEntries(50, 51, 1), nil},
		{60, 60, 0, nil, nil},
		{50, 60, 1, mkEntries(50, 51, 1), nil},   // at least one entry
		{50, 60, one, mkEntries(50, 51, 1), nil}, // exactly one fits
		{10, 110, 1 << 20, mkEntries(10, 110, 1), nil},
		{9, 20, 0, nil, ErrCompacted},
		{100, 111, 0, nil, ErrNotDurable},
	}
	for _, tc := range tests {
		got, err := w.ReadEntries(tc.lo, tc.hi, tc.maxBytes)
		if !errors.Is(err, tc.wantErr) {
			t.Errorf("ReadEntries(%d,%d,%d): err %v, want %v", tc.lo, tc.hi, tc.maxBytes, err, tc.wantErr)
			continue
		}
		if d := sameEntries(got, tc.want); d != "" {
			t.Errorf("ReadEntries(%d,%d,%d): %s", tc.lo, tc.hi, tc.maxBytes, d)
		}
	}
	// Paging through the log with a small limit returns every entry once.
	var paged []Entry
	for lo := uint64(10); lo < 110; {
		page, err := w.ReadEntries(lo, 110, 500)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, page...)
		lo = page[len(page)-1].Op + 1
	}
	if d := sameEntries(paged, mkEntries(10, 110, 1)); d != "" {
		t.Fatal(d)
	}
}

func TestWALTruncatePrefix(t *testing.T) {
	fs := faultfs.New()
	w, _ := mustOpen(t, "log", memOptions(fs))
	for op := uint64(1); op <= 300; op += 10 {
		seq, err := w.Append(mkEntries(op, op+10, 1))
		mustDurable(t, w, seq, err)
	}
	segsBefore := len(w.segs)
	if err := w.TruncatePrefix(150); err != nil {
		t.Fatal(err)
	}
	first, ok := w.FirstOp()
	if !ok || first > 150 || first == 1 {
		t.Fatalf("FirstOp() = %d, %v: want above 1 and at most 150", first, ok)
	}
	if len(w.segs) >= segsBefore {
		t.Fatalf("no segment removed (%d before, %d after)", segsBefore, len(w.segs))
	}
	if _, err := w.ReadEntries(first-1, first, 0); !errors.Is(err, ErrCompacted) {
		t.Errorf("reading below the first op: %v, want ErrCompacted", err)
	}
	got, err := w.ReadEntries(first, 301, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d := sameEntries(got, mkEntries(first, 301, 1)); d != "" {
		t.Fatal(d)
	}
	// Truncating everything keeps the active segment.
	if err := w.TruncatePrefix(1 << 40); err != nil {
		t.Fatal(err)
	}
	if len(w.segs) != 1 {
		t.Fatalf("%d segments left, want the active one", len(w.segs))
	}
	seq, err := w.Append(mkEntries(301, 302, 1))
	mustDurable(t, w, seq, err)
	w.Close()
	w, rec := mustOpen(t, "log", memOptions(fs))
	defer w.Close()
	if len(rec.Entries) == 0 || rec.Entries[len(rec.Entries)-1].Op != 301 || rec.NextOp != 302 {
		t.Fatalf("after truncation and reopen: entries %s next %d", span(rec.Entries), rec.NextOp)
	}
	if d := sameEntries(rec.Entries, mkEntries(rec.Entries[0].Op, 302, 1)); d != "" {
		t.Fatal(d)
	}
}

func TestWALTruncateThenReopenEmptyActiveSegment(t *testing.T) {
	// A log whose only remaining segment holds no entry still knows where
	// it continues.
	fs := faultfs.New()
	w, _ := mustOpen(t, "log", memOptions(fs))
	for op := uint64(1); op <= 100; op += 10 {
		seq, err := w.Append(mkEntries(op, op+10, 1))
		mustDurable(t, w, seq, err)
	}
	// Fill until a roll, then truncate everything below the new segment.
	for op := uint64(101); len(w.segs) < 5; op++ {
		seq, err := w.Append(mkEntries(op, op+1, 1))
		mustDurable(t, w, seq, err)
	}
	next := w.Durable().LastOp + 1
	if err := w.TruncatePrefix(next); err != nil {
		t.Fatal(err)
	}
	w.Close()
	w, rec := mustOpen(t, "log", memOptions(fs))
	defer w.Close()
	if rec.NextOp != next {
		t.Fatalf("NextOp %d, want %d", rec.NextOp, next)
	}
}

func TestWALCommittedBound(t *testing.T) {
	fs := faultfs.New()
	w, _ := mustOpen(t, "log", memOptions(fs))
	seq, err := w.Append(mkEntries(1, 11, 1))
	mustDurable(t, w, seq, err)
	w.SetCommitted(7)
	w.SetCommitted(5) // never goes back
	w.SetAccepted(4)
	w.SetAccepted(3)
	seq, err = w.Append(mkEntries(11, 12, 1))
	mustDurable(t, w, seq, err)
	w.Close()
	w, rec := mustOpen(t, "log", memOptions(fs))
	defer w.Close()
	if rec.Committed != 7 || rec.Accepted != 4 {
		t.Fatalf("Committed = %d, Accepted = %d, want 7 and 4", rec.Committed, rec.Accepted)
	}
}

func TestWALConcurrentGroupCommit(t *testing.T) {
	fs := faultfs.New()
	// Segments prepared in the background, rolled several times.
	w, _ := mustOpen(t, "log", WALOptions{FS: fs, SegmentSize: 8 << 10})
	const writers, each = 16, 50
	var mu sync.Mutex // serialises op assignment, as the consensus core does
	next := uint64(1)
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				mu.Lock()
				op := next
				seq, err := w.Append(mkEntries(op, op+1, 1))
				next++
				mu.Unlock()
				if err == nil {
					err = w.WaitDurable(seq)
				}
				if err == nil && w.Durable().Seq < seq {
					err = errors.New("WaitDurable returned before the mark covered the mutation")
				}
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	batches, segs := w.batchNo, len(w.segs)
	w.Close()
	if segs < 3 {
		t.Errorf("only %d segments: the background spare was not exercised", segs)
	}
	if batches >= writers*each {
		t.Errorf("%d batches for %d concurrent appends: no group commit", batches, writers*each)
	}
	w, rec := mustOpen(t, "log", memOptions(fs))
	defer w.Close()
	if d := sameEntries(rec.Entries, mkEntries(1, writers*each+1, 1)); d != "" {
		t.Fatal(d)
	}
}

func TestWALNotify(t *testing.T) {
	fs := faultfs.New()
	w, _ := mustOpen(t, "log", memOptions(fs))
	defer w.Close()
	seq, err := w.Append(mkEntries(1, 4, 1))
	if err != nil {
		t.Fatal(err)
	}
	for w.Durable().Seq < seq {
		<-w.Notify()
	}
	if m := w.Durable(); m.LastOp != 3 {
		t.Fatalf("mark %+v after notification, want LastOp 3", m)
	}
}

func TestWALCloseSyncsAndRefuses(t *testing.T) {
	fs := faultfs.New()
	w, _ := mustOpen(t, "log", memOptions(fs))
	if _, err := w.Append(mkEntries(1, 50, 1)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Append(mkEntries(50, 51, 1)); !errors.Is(err, ErrClosed) {
		t.Errorf("Append after Close: %v, want ErrClosed", err)
	}
	if _, err := w.ReadEntries(1, 2, 0); !errors.Is(err, ErrClosed) {
		t.Errorf("ReadEntries after Close: %v, want ErrClosed", err)
	}
	// Close synced what was appended: a crash now loses nothing.
	w, rec := mustOpen(t, "log", memOptions(fs.Reboot(faultfs.LoseUnsynced, nil)))
	defer w.Close()
	if d := sameEntries(rec.Entries, mkEntries(1, 50, 1)); d != "" {
		t.Fatal(d)
	}
}

func TestWALLockedDirectory(t *testing.T) {
	fs := faultfs.New()
	w, _ := mustOpen(t, "log", memOptions(fs))
	if _, _, err := OpenWAL("log", memOptions(fs)); err == nil {
		t.Fatal("second OpenWAL of a locked directory succeeded")
	}
	w.Close()
	w, _ = mustOpen(t, "log", memOptions(fs))
	w.Close()
}

func TestWALRejectsOversizedMutation(t *testing.T) {
	fs := faultfs.New()
	w, _ := mustOpen(t, "log", memOptions(fs))
	defer w.Close()
	data := make([]byte, 16<<20) // the default MaxEntrySize
	var es []Entry
	for op := uint64(1); len(es)*len(data) <= maxMutation; op++ {
		es = append(es, Entry{Op: op, Data: data})
	}
	if _, err := w.Append(es); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("%d MiB in one Append: %v, want ErrTooLarge", len(es)*16, err)
	}
	if _, err := w.Append(es[:1]); err != nil {
		t.Fatalf("one entry of the maximum size: %v", err)
	}
}

// TestWALReportsEachSync: OnSync sees every group sync with the entries it
// made durable (replace records are not entries).
func TestWALReportsEachSync(t *testing.T) {
	var syncs, entries int
	opts := memOptions(faultfs.New())
	opts.OnSync = func(_ time.Duration, n int) { syncs++; entries += n }
	w, _ := mustOpen(t, "log", opts)
	defer w.Close()
	seq, err := w.Append(mkEntries(1, 11, 3))
	mustDurable(t, w, seq, err)
	seq, err = w.ReplaceFrom(6, mkEntries(6, 8, 3))
	mustDurable(t, w, seq, err)
	if syncs != 2 || entries != 12 {
		t.Fatalf("OnSync saw %d syncs and %d entries, want 2 and 12 (10 appended, 2 replacing)", syncs, entries)
	}
}

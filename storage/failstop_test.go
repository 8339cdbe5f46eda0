package storage

import (
	"errors"
	"path"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/vrkeeper/vrkeeper/storage/faultfs"
)

// failNth returns a hook that fails the nth operation of kind on a file
// whose name ends with suffix, with EIO, and counts the operations after it.
func failNth(kind faultfs.Kind, suffix string, nth int, after *atomic.Int32) faultfs.Hook {
	seen := 0
	failed := false
	return func(op faultfs.Op) error {
		if failed {
			after.Add(1)
			return nil
		}
		if op.Kind == kind && strings.HasSuffix(op.Name, suffix) {
			seen++
			if seen == nth {
				failed = true
				return syscall.EIO
			}
		}
		return nil
	}
}

func TestWALFailStop(t *testing.T) {
	tests := []struct {
		name   string
		kind   faultfs.Kind
		suffix string
		nth    int
	}{
		{"segment sync", faultfs.OpSync, segmentSuffix, 6},
		{"segment write", faultfs.OpWrite, segmentSuffix, 6},
		{"new segment sync", faultfs.OpSync, tmpSuffix, 2},
		{"new segment rename", faultfs.OpRename, tmpSuffix, 2},
		{"new segment directory sync", faultfs.OpSyncDir, "log", 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			fs := faultfs.New()
			w, _ := mustOpen(t, "log", memOptions(fs))
			var after atomic.Int32
			fs.SetHook(failNth(tc.kind, tc.suffix, tc.nth, &after))
			var acked []Entry
			var failure error
			next := uint64(1)
			for i := 0; i < 200 && failure == nil; i++ {
				es := mkEntries(next, next+3, 1)
				seq, err := w.Append(es)
				if err == nil {
					err = w.WaitDurable(seq)
				}
				if err != nil {
					failure = err
					break
				}
				if w.Durable().Seq != seq {
					t.Fatalf("WaitDurable returned but Durable() = %+v", w.Durable())
				}
				acked = append(acked, es...)
				next += 3
			}
			if failure == nil {
				t.Fatal("the injected failure never happened")
			}
			if !errors.Is(failure, ErrStopped) || !errors.Is(failure, syscall.EIO) {
				t.Fatalf("failure %v does not match ErrStopped and EIO", failure)
			}
			durable := w.Durable()
			// Every later call fails with the same first error.
			_, errAppend := w.Append(mkEntries(next+3, next+4, 1))
			_, errReplace := w.ReplaceFrom(1, nil)
			errTrunc := w.TruncatePrefix(2)
			errSync := w.Sync()
			for i, err := range []error{errAppend, errReplace, errTrunc, errSync, w.Err(), w.Close()} {
				if err == nil || err.Error() != failure.Error() {
					t.Errorf("call %d after the failure: %v, want the first error %v", i, err, failure)
				}
			}
			if w.Durable() != durable {
				t.Errorf("Durable moved after the failure: %+v to %+v", durable, w.Durable())
			}
			// Nothing was written, synced or renamed after the failure.
			if n := after.Load(); n != 0 {
				t.Errorf("%d file operations after the failure; fail-stop allows none", n)
			}
			// What was acknowledged survives; the failed write may or may not.
			w, rec := mustOpen(t, "log", memOptions(fs.Reboot(faultfs.LoseUnsynced, nil)))
			defer w.Close()
			if len(rec.Entries) < len(acked) {
				t.Fatalf("lost acknowledged entries: have %s, acknowledged %s", span(rec.Entries), span(acked))
			}
			if d := sameEntries(rec.Entries[:len(acked)], acked); d != "" {
				t.Fatal(d)
			}
		})
	}
}

func TestWALFailStopWakesBlockedAppenders(t *testing.T) {
	fs := faultfs.New()
	w, _ := mustOpen(t, "log", WALOptions{FS: fs, SegmentSize: 1 << 20, MaxBatchBytes: 4096})
	block := make(chan struct{})
	entered := make(chan struct{}, 1)
	fs.SetHook(func(op faultfs.Op) error {
		if op.Kind == faultfs.OpSync && strings.HasSuffix(op.Name, segmentSuffix) {
			entered <- struct{}{}
			<-block // hold the syncer inside its sync
			return syscall.EIO
		}
		return nil
	})
	// The first append is taken by the syncer; the next ones fill the
	// pending batch until an appender blocks for room.
	if _, err := w.Append(mkEntries(1, 2, 1)); err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		next := uint64(2)
		for range 100 {
			if _, err := w.Append([]Entry{{Op: next, Data: make([]byte, 1000)}}); err != nil {
				done <- err
				return
			}
			next++
		}
		done <- errors.New("100 appends of 1000 bytes never blocked on a 4096-byte batch limit")
	}()
	<-entered
	// Wait (without sleeping) until the pending batch is full, so the
	// appender is blocked for room when the sync fails.
	for full := false; !full; runtime.Gosched() {
		w.mu.Lock()
		full = len(w.pending)+entryFrameLen(1000) > 4096
		w.mu.Unlock()
	}
	close(block)
	if err := <-done; !errors.Is(err, ErrStopped) {
		t.Fatalf("blocked appender got %v, want ErrStopped", err)
	}
	w.Close()
}

func TestStateAndSnapshotFailStop(t *testing.T) {
	fs := faultfs.New()
	s, _, err := Open(Options{DataDir: "data", FS: fs, WAL: WALOptions{SegmentSize: testSegmentSize}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	fs.SetHook(func(op faultfs.Op) error {
		if op.Kind == faultfs.OpSync && strings.HasSuffix(op.Name, tmpSuffix) {
			return syscall.EIO
		}
		return nil
	})
	first := s.State.Save(HardState{View: 1})
	if !errors.Is(first, ErrStopped) || !errors.Is(first, syscall.EIO) {
		t.Fatalf("state save: %v", first)
	}
	fs.SetHook(nil)
	if err := s.State.Save(HardState{View: 2}); err == nil || err.Error() != first.Error() {
		t.Fatalf("state save after a failure: %v, want the first error", err)
	}
	fs.SetHook(func(op faultfs.Op) error {
		if op.Kind == faultfs.OpRename {
			return syscall.EIO
		}
		return nil
	})
	first = s.Snapshots.Save(SnapshotMeta{Op: 5}, writeString("body"))
	if !errors.Is(first, ErrStopped) {
		t.Fatalf("snapshot save: %v", first)
	}
	fs.SetHook(nil)
	if err := s.Snapshots.Save(SnapshotMeta{Op: 6}, writeString("body")); err == nil || err.Error() != first.Error() {
		t.Fatalf("snapshot save after a failure: %v, want the first error", err)
	}
}

func TestWALBackgroundSpareFailureStops(t *testing.T) {
	fs := faultfs.New()
	spares := 0
	fs.SetHook(func(op faultfs.Op) error {
		if op.Kind == faultfs.OpSync && op.Name == path.Join("log", spareName) {
			if spares++; spares == 3 { // 1, 2: the first segment, made at open
				return syscall.EIO
			}
		}
		return nil
	})
	// The first segment is made at open; only the spare for the second
	// fails, and the log stops when it needs it.
	w, _, err := OpenWAL("log", WALOptions{FS: fs, SegmentSize: testSegmentSize})
	if err == nil {
		var failure error
		for op := uint64(1); op < 1000 && failure == nil; op++ {
			seq, err := w.Append(mkEntries(op, op+1, 1))
			if err == nil {
				err = w.WaitDurable(seq)
			}
			failure = err
		}
		w.Close()
		err = failure
	}
	if !errors.Is(err, ErrStopped) || !errors.Is(err, syscall.EIO) {
		t.Fatalf("err %v, want the spare's sync failure as a stop", err)
	}
}

func TestWALFailStopNotifies(t *testing.T) {
	fs := faultfs.New()
	w, _ := mustOpen(t, "log", memOptions(fs))
	defer w.Close()
	fs.SetHook(func(op faultfs.Op) error {
		if op.Kind == faultfs.OpSync {
			return syscall.EIO
		}
		return nil
	})
	if _, err := w.Append(mkEntries(1, 2, 1)); err != nil {
		t.Fatal(err)
	}
	for w.Err() == nil {
		<-w.Notify() // must not hang: the failure sends a token
	}
	if w.Durable().Seq != 0 {
		t.Fatalf("failed batch reported durable: %+v", w.Durable())
	}
}

package storage

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vrkeeper/vrkeeper/storage/vfs"
)

// Benchmarks run on the real disk: set TMPDIR to a directory on it (not a
// tmpfs), e.g. TMPDIR=/work/tmp go test ./storage -run XXX -bench .

// benchRecord is the command size of the append benchmarks: a typical
// ZooKeeper write (path, data, ACL) encoded.
const benchRecord = 100

func BenchmarkAppend(b *testing.B) {
	for _, mode := range []Prealloc{PreallocZeros, PreallocFallocate, PreallocNone} {
		for _, writers := range []int{1, 16, 128} {
			b.Run(fmt.Sprintf("prealloc=%s/writers=%d", mode, writers), func(b *testing.B) {
				benchAppend(b, writers, mode)
			})
		}
	}
}

// benchAppend has writers goroutines each append one entry and wait for it
// to be durable, b.N entries in all. Ops are assigned under a lock, as the
// consensus core assigns them in order.
func benchAppend(b *testing.B, writers int, mode Prealloc) {
	w, _, err := OpenWAL(b.TempDir(), WALOptions{Preallocate: mode})
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	data := make([]byte, benchRecord)
	var mu sync.Mutex
	next := uint64(1)
	var wg sync.WaitGroup
	per := (b.N + writers - 1) / writers
	batches0 := w.batchNo
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for g := 0; g < writers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e := []Entry{{View: 1, Data: data}}
			for i := 0; i < per; i++ {
				mu.Lock()
				e[0].Op = next
				next++
				seq, err := w.Append(e)
				mu.Unlock()
				if err == nil {
					err = w.WaitDurable(seq)
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	b.StopTimer()
	syncs := float64(w.batchNo - batches0)
	records := float64(per * writers)
	b.ReportMetric(records/elapsed, "records/s")
	b.ReportMetric(syncs/elapsed, "fsyncs/s")
	b.ReportMetric(records/syncs, "records/fsync")
}

// BenchmarkDiskSerialSync measures the disk itself: 4 KiB written at the
// end of the data and fdatasync'd, one at a time, into a file that is
// preallocated with zeros, with fallocate, or grows.
func BenchmarkDiskSerialSync(b *testing.B) {
	for _, mode := range []Prealloc{PreallocZeros, PreallocFallocate, PreallocNone} {
		b.Run("prealloc="+mode.String(), func(b *testing.B) {
			f, err := os.Create(filepath.Join(b.TempDir(), "sync"))
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			const size = 64 << 20
			switch mode {
			case PreallocZeros:
				_, err = f.WriteAt(make([]byte, size), 0)
			case PreallocFallocate:
				err = syscall.Fallocate(int(f.Fd()), 0, 0, size)
			}
			if err == nil {
				err = f.Sync()
			}
			if err != nil {
				b.Fatal(err)
			}
			buf := make([]byte, 4096)
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				if _, err := f.WriteAt(buf, int64(i%(size/4096))*4096); err != nil {
					b.Fatal(err)
				}
				if err := syscall.Fdatasync(int(f.Fd())); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "fsyncs/s")
		})
	}
}

// coldCache drops the page cache before each timed open (needs root):
// go test ./storage -run XXX -bench Open -coldcache
var coldCache = flag.Bool("coldcache", false, "drop the page cache before each timed Open (root only)")

// dropCaches writes back dirty pages and drops the clean page cache.
func dropCaches(b *testing.B) {
	b.StopTimer()
	syscall.Sync()
	if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("1"), 0); err != nil {
		b.Fatalf("-coldcache: %v", err)
	}
	b.StartTimer()
}

// BenchmarkOpen measures start-up: recovering a log of 100k entries.
func BenchmarkOpen(b *testing.B) {
	for _, size := range []int{100, 1000} {
		b.Run(fmt.Sprintf("entries=100k/bytes=%d", size), func(b *testing.B) {
			dir := b.TempDir()
			w, _, err := OpenWAL(dir, WALOptions{})
			if err != nil {
				b.Fatal(err)
			}
			data := make([]byte, size)
			es := make([]Entry, 1000)
			for op := uint64(1); op <= 100_000; op += uint64(len(es)) {
				for i := range es {
					es[i] = Entry{Op: op + uint64(i), View: 1, Data: data}
				}
				if _, err := w.Append(es); err != nil {
					b.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if *coldCache {
					dropCaches(b)
				}
				w, rec, err := OpenWAL(dir, WALOptions{})
				if err != nil || len(rec.Entries) != 100_000 {
					b.Fatalf("%v, %d entries", err, len(rec.Entries))
				}
				w.Close()
			}
		})
	}
}

// BenchmarkCreateSegment measures making a default-size segment: "whole"
// is what the background preparation costs, "roll" what the syncer pays at
// a roll once the spare is ready (header, sync, rename, directory sync).
func BenchmarkCreateSegment(b *testing.B) {
	for _, mode := range []Prealloc{PreallocZeros, PreallocFallocate} {
		for _, part := range []string{"whole", "roll"} {
			b.Run("prealloc="+mode.String()+"/"+part, func(b *testing.B) {
				dir := b.TempDir()
				for i := 0; i < b.N; i++ {
					if part == "roll" {
						b.StopTimer()
					}
					f, err := makeSpare(vfs.OS{}, dir, 64<<20, mode)
					if err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
					seg, err := installSegment(vfs.OS{}, dir, f, segmentHeader{seq: uint64(i + 1)})
					if err != nil {
						b.Fatal(err)
					}
					b.StopTimer()
					seg.f.Close()
					os.Remove(seg.path)
					b.StartTimer()
				}
			})
		}
	}
}

// BenchmarkSnapshot measures writing and loading a 64 MiB snapshot through
// the store (CRC32C and buffering included), in MB/s.
func BenchmarkSnapshot(b *testing.B) {
	const size = 64 << 20
	chunk := make([]byte, 64<<10)
	for i := range chunk {
		chunk[i] = byte(i * 7)
	}
	write := func(w io.Writer) error {
		for n := 0; n < size; n += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return err
			}
		}
		return nil
	}
	s, _, err := Open(Options{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.Run("save", func(b *testing.B) {
		b.SetBytes(size)
		for i := 0; i < b.N; i++ {
			if err := s.Snapshots.Save(SnapshotMeta{Op: uint64(i + 1)}, write); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("load", func(b *testing.B) {
		if ops, _ := s.Snapshots.Ops(); len(ops) == 0 {
			if err := s.Snapshots.Save(SnapshotMeta{Op: 1}, write); err != nil {
				b.Fatal(err)
			}
		}
		b.SetBytes(size)
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			if *coldCache {
				dropCaches(b)
			}
			_, found, _, err := s.Snapshots.LoadNewest(func(_ SnapshotMeta, r io.Reader) error {
				_, err := io.CopyBuffer(io.Discard, r, chunk)
				return err
			})
			if err != nil || !found {
				b.Fatal(found, err)
			}
		}
	})
}

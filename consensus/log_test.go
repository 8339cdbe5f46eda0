package consensus

import (
	"bytes"
	"testing"
)

// TestMemLogBytes: the running byte sums follow appends, truncations and
// compactions, and firstOpKeeping finds the compaction point a byte bound
// asks for.
func TestMemLogBytes(t *testing.T) {
	var l memLog
	add := func(op uint64, n int) { l.append(Entry{Op: op, View: 1, Cmd: bytes.Repeat([]byte{1}, n)}) }
	for op := uint64(1); op <= 10; op++ {
		add(op, int(op)) // op k holds k bytes
	}
	if got := l.bytesThrough(10); got != 55 {
		t.Fatalf("bytes through 10: %d, want 55", got)
	}
	if got := l.bytesThrough(4); got != 10 {
		t.Fatalf("bytes through 4: %d, want 10", got)
	}
	// Keep at most 30 bytes up to op 10: ops 8, 9, 10 hold 27, so ops up to 7 go.
	if got := l.firstOpKeeping(10, 30); got != 7 {
		t.Fatalf("firstOpKeeping(10, 30) = %d, want 7", got)
	}
	if got := l.firstOpKeeping(10, 100); got != 0 {
		t.Fatalf("firstOpKeeping(10, 100) = %d, want 0 (nothing to drop)", got)
	}
	l.compact(3)
	if got := l.bytesThrough(10); got != 49 {
		t.Fatalf("after compacting to 3: bytes through 10 = %d, want 49", got)
	}
	l.truncateFrom(9)
	add(9, 100)
	if got := l.bytesThrough(9); got != 4+5+6+7+8+100 {
		t.Fatalf("after replacing op 9: %d", got)
	}
	if got := l.firstOpKeeping(9, 100); got != 8 {
		t.Fatalf("firstOpKeeping(9, 100) = %d, want 8", got)
	}
	l.reset(20, 2)
	if got := l.bytesThrough(20); got != 0 {
		t.Fatalf("after reset: %d", got)
	}
}

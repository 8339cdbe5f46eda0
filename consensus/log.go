package consensus

import "fmt"

// memLog is the in-memory log: entries start+1 … lastOp. Entries at or below
// start were garbage collected (they are in a snapshot and accepted by every
// replica). Slices handed out are capped at their length and the log never
// overwrites an element another slice may still reference: a truncated log is
// recapped so that later appends allocate a new array.
type memLog struct {
	start     uint64  // op of the last compacted entry (0: none)
	startView uint64  // view of the entry at start (0 when unknown)
	entries   []Entry // entries[i].Op == start+1+i
	// cum[i] is the command bytes of every entry appended since the log
	// was last reset, up to and including entries[i] (a running sum, so
	// the bytes of any run are one subtraction: see bytesThrough).
	cum []uint64
}

// bytesThrough returns the command bytes of the entries after start up to
// and including op (start < op ≤ lastOp).
func (l *memLog) bytesThrough(op uint64) uint64 {
	if op <= l.start || len(l.cum) == 0 {
		return 0
	}
	base := l.cum[0] - uint64(len(l.entries[0].Cmd))
	return l.cum[op-l.start-1] - base
}

// firstOpKeeping returns the lowest op such that the entries after it up to
// upto hold at most limit bytes (the compaction point a byte bound asks for).
func (l *memLog) firstOpKeeping(upto, limit uint64) uint64 {
	total := l.bytesThrough(upto)
	if total <= limit {
		return l.start
	}
	// The smallest k with bytesThrough(k) >= total-limit, by binary search.
	lo, hi := l.start+1, upto
	for lo < hi {
		mid := lo + (hi-lo)/2
		if l.bytesThrough(mid) >= total-limit {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

func (l *memLog) lastOp() uint64 { return l.start + uint64(len(l.entries)) }

// viewAt returns the view of the entry at op and whether it is known.
func (l *memLog) viewAt(op uint64) (uint64, bool) {
	if op == l.start {
		return l.startView, l.startView != 0 || op == 0
	}
	// (an unknown view at start is reported as not known)
	if op < l.start || op > l.lastOp() {
		return 0, false
	}
	return l.entries[op-l.start-1].View, true
}

// slice returns entries lo..hi (inclusive), by reference and capped.
func (l *memLog) slice(lo, hi uint64) []Entry {
	if lo <= l.start || hi > l.lastOp() || lo > hi {
		if lo > hi {
			return nil
		}
		panic(fmt.Sprintf("consensus: invariant log-bounds: slice %d..%d outside %d..%d", lo, hi, l.start+1, l.lastOp()))
	}
	a, b := lo-l.start-1, hi-l.start
	return l.entries[a:b:b]
}

// truncateFrom removes entries with op ≥ op.
func (l *memLog) truncateFrom(op uint64) {
	if op <= l.start {
		panic(fmt.Sprintf("consensus: invariant log-bounds: truncate from %d at or below start %d", op, l.start))
	}
	if op > l.lastOp() {
		return
	}
	k := op - l.start - 1
	l.entries = l.entries[:k:k]
	l.cum = l.cum[:k:k]
}

func (l *memLog) append(es ...Entry) {
	if len(es) > 0 && es[0].Op != l.lastOp()+1 {
		panic(fmt.Sprintf("consensus: invariant log-contiguous: append op %d after %d", es[0].Op, l.lastOp()))
	}
	l.entries = append(l.entries, es...)
	var sum uint64
	if n := len(l.cum); n > 0 {
		sum = l.cum[n-1]
	}
	for i := range es {
		sum += uint64(len(es[i].Cmd))
		l.cum = append(l.cum, sum)
	}
}

// compact drops entries ≤ op, keeping the view of the entry at op.
func (l *memLog) compact(op uint64) {
	if op <= l.start {
		return
	}
	if op > l.lastOp() {
		panic(fmt.Sprintf("consensus: invariant log-bounds: compact to %d beyond last op %d", op, l.lastOp()))
	}
	v, _ := l.viewAt(op)
	k := op - l.start
	rest, restCum := l.entries[k:], l.cum[k:]
	// Release the dropped prefix's memory once it dominates the array.
	if uint64(cap(l.entries)) > 2*uint64(len(rest))+64 {
		fresh := make([]Entry, len(rest), len(rest)+len(rest)/2+16)
		copy(fresh, rest)
		rest = fresh
		freshCum := make([]uint64, len(restCum), cap(fresh))
		copy(freshCum, restCum)
		restCum = freshCum
	}
	l.entries, l.cum = rest, restCum
	l.start, l.startView = op, v
}

// reset empties the log after installing a snapshot at op.
func (l *memLog) reset(op, view uint64) {
	l.start, l.startView, l.entries, l.cum = op, view, nil, nil
}

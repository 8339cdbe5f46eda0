package storage

import (
	"bytes"
	"fmt"
	"math/rand"
	"testing"

	"github.com/vrkeeper/vrkeeper/storage/faultfs"
)

// crashModel records what a scenario did to the log, so that the log a
// restart finds can be judged: it must be the log after some prefix of the
// accepted mutations that includes every acknowledged one.
type crashModel struct {
	// states[k] is the log after k accepted mutations; nexts[k] its next op.
	states [][]Entry
	nexts  []uint64
	// acked is the number of mutations acknowledged durable.
	acked int
	// truncateAsked is the highest op TruncatePrefix was called with.
	truncateAsked uint64
	// committedAcked is a commit bound set before an acknowledged mutation;
	// committedMax the highest ever set.
	committedAcked, committedMax, committedSet uint64
}

// accept records a mutation that was accepted, producing log state.
func (m *crashModel) accept(state []Entry, next uint64) {
	m.states = append(m.states, append([]Entry(nil), state...))
	m.nexts = append(m.nexts, next)
}

// check judges a recovered log against the model.
func (m *crashModel) check(rec *Recovered) error {
	var why string
	for k := m.acked; k < len(m.states); k++ {
		if why = m.matches(k, rec); why == "" {
			if rec.Committed < m.committedAcked || rec.Committed > m.committedMax {
				return fmt.Errorf("committed bound %d outside [%d, %d]", rec.Committed, m.committedAcked, m.committedMax)
			}
			return nil
		}
	}
	return fmt.Errorf("recovered log %s next %d matches no state after %d..%d mutations (last: %s)",
		span(rec.Entries), rec.NextOp, m.acked, len(m.states)-1, why)
}

// matches reports why rec is not the log after k mutations ("" if it is).
// Truncation may have dropped entries below the op it was asked for.
func (m *crashModel) matches(k int, rec *Recovered) string {
	want, next := m.states[k], m.nexts[k]
	if rec.NextOp != next {
		return fmt.Sprintf("next %d, want %d", rec.NextOp, next)
	}
	drop := 0
	for drop < len(want) && drop < len(want)-len(rec.Entries) {
		drop++
	}
	if drop > 0 && want[drop-1].Op >= m.truncateAsked {
		return fmt.Sprintf("entries from %d lost, truncation only asked below %d", want[drop-1].Op, m.truncateAsked)
	}
	return sameEntries(rec.Entries, want[drop:])
}

// crashEntries returns entries [from, to) with larger commands than
// mkEntries, so the scenario rolls segments often.
func crashEntries(from, to, view uint64) []Entry {
	es := mkEntries(from, to, view)
	for i := range es {
		es[i].Data = bytes.Repeat(es[i].Data, 12)
	}
	return es
}

// crashScenario runs a fixed workload on fs, stopping at the first error
// (the crash), and returns what it did. It covers appends, cuts (also past
// the end), commit bounds, segment rolls, truncation and a clean restart.
func crashScenario(fs *faultfs.FS) *crashModel {
	return crashScenarioWith(memOptions(fs))
}

// crashScenarioWith runs the scenario with the given options.
func crashScenarioWith(opts WALOptions) *crashModel {
	m := &crashModel{}
	m.accept(nil, 0)
	w, _, err := OpenWAL("log", opts)
	if err != nil {
		return m
	}
	defer func() {
		if w != nil {
			w.Close()
		}
	}()
	var log []Entry
	next := uint64(1)
	view := uint64(1)
	mutate := func(cut bool, from uint64, es []Entry) bool {
		var seq uint64
		var err error
		if cut {
			seq, err = w.ReplaceFrom(from, es)
		} else {
			seq, err = w.Append(es)
		}
		if err != nil {
			return false
		}
		if cut {
			keep := 0
			for keep < len(log) && log[keep].Op < from {
				keep++
			}
			if from > next {
				keep = 0
			}
			log = log[:keep]
			next = from
		}
		log = append(log, es...)
		next += uint64(len(es))
		m.accept(log, next)
		if w.WaitDurable(seq) != nil {
			return false
		}
		m.acked = len(m.states) - 1
		m.committedAcked = m.committedSet
		return true
	}
	for step := 0; step < 36; step++ {
		switch {
		case step == 18:
			// A clean restart in the middle.
			if w.Close() != nil {
				return m
			}
			if w, _, err = OpenWAL("log", opts); err != nil {
				w = nil
				return m
			}
		case step == 24:
			m.truncateAsked = next - 6
			if w.TruncatePrefix(next-6) != nil {
				return m
			}
		case step == 30:
			// State transfer: the log restarts past a gap.
			if !mutate(true, next+20, crashEntries(next+20, next+22, view)) {
				return m
			}
		case step%6 == 5:
			view++
			from := next - 3
			if !mutate(true, from, crashEntries(from, from+2, view)) {
				return m
			}
		default:
			if step%4 == 3 {
				m.committedSet = next - 1
				m.committedMax = max(m.committedMax, m.committedSet)
				w.SetCommitted(m.committedSet)
			}
			n := uint64(step%3 + 1)
			if !mutate(false, 0, crashEntries(next, next+n, view)) {
				return m
			}
		}
	}
	return m
}

func TestCrashAtEveryStep(t *testing.T) {
	clean := faultfs.New()
	full := crashScenario(clean)
	total := clean.Ops()
	names, _ := clean.ReadDir("log")
	segs := countSuffix(names, segmentSuffix)
	if full.acked != len(full.states)-1 || segs < 3 {
		t.Fatalf("clean run acknowledged %d of %d mutations and left %d segments", full.acked, len(full.states)-1, segs)
	}
	modes := []struct {
		name string
		mode faultfs.CrashMode
		seed int64
	}{
		{"lose unsynced", faultfs.LoseUnsynced, 0},
		{"keep unsynced", faultfs.KeepUnsynced, 0},
		{"tear 1", faultfs.Tear, 1},
		{"tear 2", faultfs.Tear, 2},
		{"tear 3", faultfs.Tear, 3},
	}
	torn := 0
	for at := 1; at <= total; at++ {
		fs := faultfs.New()
		fs.CrashAt(at)
		m := crashScenario(fs)
		op, crashed := fs.Crashed()
		if !crashed {
			t.Fatalf("crash point %d of %d never reached", at, total)
		}
		for _, mode := range modes {
			img := fs.Reboot(mode.mode, rand.New(rand.NewSource(mode.seed*7919+int64(at))))
			where := fmt.Sprintf("crash at %v, %s", op, mode.name)
			rec := checkRecovery(t, where, img, m)
			if rec != nil && rec.Torn != nil {
				torn++
				checkCrashDuringRepair(t, where, img, m)
			}
		}
	}
	if torn == 0 {
		t.Error("no crash left a torn tail: the tearing modes are not exercised")
	}
	t.Logf("%d crash points × %d modes; %d torn tails repaired", total, len(modes), torn)
}

// checkRecovery opens the log on img, judges it against m, and checks that
// it keeps working: one more entry, durable, survives another restart.
func checkRecovery(t *testing.T, where string, img *faultfs.FS, m *crashModel) *Recovered {
	t.Helper()
	before := img.Reboot(faultfs.KeepUnsynced, nil) // for the repair crash test
	w, rec, err := OpenWAL("log", memOptions(img))
	if err != nil {
		t.Fatalf("%s: recovery failed: %v", where, err)
	}
	if err := m.check(rec); err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	op := rec.NextOp
	if op == 0 {
		op = 1
	}
	seq, err := w.Append(mkEntries(op, op+1, 99))
	if err == nil {
		err = w.WaitDurable(seq)
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		t.Fatalf("%s: log unusable after recovery: %v", where, err)
	}
	w, rec2, err := OpenWAL("log", memOptions(img.Reboot(faultfs.LoseUnsynced, nil)))
	if err != nil {
		t.Fatalf("%s: second recovery failed: %v", where, err)
	}
	w.Close()
	if n := len(rec2.Entries); rec2.Torn != nil || n == 0 || rec2.Entries[n-1].Op != op || rec2.Entries[n-1].View != 99 {
		t.Fatalf("%s: after recovery and one append, reopen found %s torn %+v", where, span(rec2.Entries), rec2.Torn)
	}
	*img = *before.Reboot(faultfs.KeepUnsynced, nil)
	return rec
}

// checkCrashDuringRepair crashes the recovery of img (which repairs a torn
// tail) at each of its steps; the next recovery must still be correct.
func checkCrashDuringRepair(t *testing.T, where string, img *faultfs.FS, m *crashModel) {
	t.Helper()
	probe := img.Reboot(faultfs.KeepUnsynced, nil)
	start := probe.Ops()
	w, _, err := OpenWAL("log", memOptions(probe))
	if err != nil {
		t.Fatalf("%s: %v", where, err)
	}
	steps := probe.Ops() - start
	w.Close()
	for j := 1; j <= steps; j++ {
		fs := img.Reboot(faultfs.KeepUnsynced, nil)
		fs.CrashAt(fs.Ops() + j)
		if w, _, err := OpenWAL("log", memOptions(fs)); err == nil {
			w.Close()
		}
		for _, mode := range []faultfs.CrashMode{faultfs.LoseUnsynced, faultfs.KeepUnsynced} {
			w, rec, err := OpenWAL("log", memOptions(fs.Reboot(mode, nil)))
			if err != nil {
				t.Fatalf("%s, then crash %d steps into the repair: %v", where, j, err)
			}
			w.Close()
			if err := m.check(rec); err != nil {
				t.Fatalf("%s, then crash %d steps into the repair: %v", where, j, err)
			}
		}
	}
}

func TestCrashWithBackgroundSpare(t *testing.T) {
	// The next segment is prepared on its own goroutine here, so crash
	// points shift with scheduling; each seed picks one, and the judgement
	// is the same as in TestCrashAtEveryStep.
	clean := faultfs.New()
	crashScenario(clean)
	total := clean.Ops()
	for seed := int64(1); seed <= 40; seed++ {
		rng := rand.New(rand.NewSource(seed))
		fs := faultfs.New()
		fs.CrashAt(1 + rng.Intn(total))
		m := crashScenarioWith(WALOptions{FS: fs, SegmentSize: testSegmentSize})
		op, _ := fs.Crashed()
		for _, mode := range []faultfs.CrashMode{faultfs.LoseUnsynced, faultfs.KeepUnsynced, faultfs.Tear} {
			checkRecovery(t, fmt.Sprintf("seed %d, crash at %v, mode %d", seed, op, mode), fs.Reboot(mode, rng), m)
		}
	}
}

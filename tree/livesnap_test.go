package tree

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// The live snapshot's property test: random command sequences (the
// property test's generator, over more paths so that child sets outgrow
// their sorted slice), a live snapshot begun at a random point and fed in
// slices of random small budgets between further random commands. Its
// bytes must equal those of a plain Snapshot taken when it began, and the
// tree must keep every invariant meanwhile and after (the hooks change
// nothing but the snapshot's own records). Gathering batches are shrunk to
// a few members so that reading a set takes several steps with changes in
// between, as a big set does at full size.

func TestLiveSnapshotMatchesSnapshot(t *testing.T) {
	seeds := 150
	if testing.Short() {
		seeds = 25
	}
	for seed := 1; seed <= seeds; seed++ {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			runLiveSnapshot(t, uint64(seed))
		})
	}
}

// livePaths are the generator's paths plus two parents with more children
// than a sorted slice holds, some named alike in their first 16 bytes.
func livePaths() []string {
	paths := append([]string{"/w", "/w/3"}, genPaths...)
	for i := range 20 {
		paths = append(paths, fmt.Sprintf("/w/%d", i))
	}
	for i := range 12 {
		paths = append(paths, fmt.Sprintf("/w/3/%d", i))
	}
	// Names longer than the gatherer's key prefix, alike in it: ordered by
	// the rest.
	for i := range 12 {
		paths = append(paths, fmt.Sprintf("/w/_c_0123456789abcdef-lock-%d", i%6), fmt.Sprintf("/w/_c_0123456789abcdef%d", i))
	}
	return paths
}

func runLiveSnapshot(t *testing.T, seed uint64) {
	r := rand.New(rand.NewPCG(seed, 0x5a9))
	g := &gen{r: r, clock: treeClockStart, cxid: map[int64]int32{}, paths: livePaths()}
	tr := New(Config{})
	zxid := int64(0)
	var out Output
	apply := func() {
		cmd := g.next()
		g.lastCmd = cmd
		zxid++
		_ = tr.Apply(zxid, cmd, &out) // malformed commands fail by design
		if out.Opened.ID != 0 {
			g.sessions = append(g.sessions, out.Opened.ID)
		}
		for _, id := range out.Closed {
			g.sessions = without(g.sessions, id)
		}
	}
	for range 200 + r.IntN(400) {
		apply()
	}
	for round := range 4 {
		want := snapshotBytes(t, tr)
		sn := tr.BeginSnapshot()
		if sn.Zxid() != tr.LastZxid() || sn.Digest() != tr.Digest() {
			t.Fatalf("round %d: the snapshot holds zxid %d digest %#x, the tree %d %#x", round, sn.Zxid(), sn.Digest(), tr.LastZxid(), tr.Digest())
		}
		sn.batchSize = 1 + r.IntN(4)
		abortAt := -1
		if r.IntN(6) == 0 {
			abortAt = r.IntN(40)
		}
		var got []byte
		done := false
		for step := 0; !done; step++ {
			for range r.IntN(4) {
				apply()
				checkInvariants(t, tr)
				if t.Failed() {
					t.Fatalf("round %d step %d: invariants broken after %x", round, step, g.lastCmd)
				}
			}
			if step == abortAt {
				sn.Abort()
				break
			}
			if r.IntN(25) == 0 {
				// A plain snapshot meanwhile sees the tree as it is now.
				now := snapshotBytes(t, tr)
				rt, err := Restore(bytes.NewReader(now), tr.Config())
				if err != nil || rt.Digest() != tr.Digest() {
					t.Fatalf("round %d step %d: a plain snapshot during a live one: %v", round, step, err)
				}
			}
			before := len(got)
			got, done = sn.Next(got, 1+r.IntN(300))
			if !done && len(got) == before && sn.collecting == nil && sn.phase != phaseSessionsGather {
				t.Fatalf("round %d step %d: Next wrote nothing and gathered nothing", round, step)
			}
		}
		if tr.snap != nil || tr.acls.holding || len(tr.acls.held) != 0 {
			t.Fatalf("round %d: the tree still serves the snapshot after it ended", round)
		}
		checkInvariants(t, tr)
		if abortAt >= 0 && !done {
			continue
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("round %d: the live snapshot differs from the state at its start (%d bytes, want %d) at byte %d",
				round, len(got), len(want), firstDifference(got, want))
		}
		if rest, _ := sn.Next(nil, 100); len(rest) != 0 {
			t.Fatalf("round %d: Next after done wrote %d bytes", round, len(rest))
		}
		for range r.IntN(150) {
			apply()
		}
	}
}

func firstDifference(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// TestLiveSnapshotBigSets runs the live snapshot over sets bigger than a
// gathering batch at full size: a parent with thousands of children and
// thousands of sessions, most of them changed, removed or joined by new
// ones while the snapshot is under way.
func TestLiveSnapshotBigSets(t *testing.T) {
	h := newHarness(t, Config{})
	const kids, sessions = 3 * liveBatch, 2 * liveBatch
	var ids []int64
	for range sessions {
		ids = append(ids, h.open())
	}
	h.mustCreate(ids[0], "/p", nil, 0)
	for i := range kids {
		h.mustCreate(ids[i%sessions], fmt.Sprintf("/p/%05d", i), []byte("x"), 0)
	}
	want := snapshotBytes(t, h.tree)
	sn := h.tree.BeginSnapshot()
	var got []byte
	done := false
	writer := ids[0] // never closed
	for step := 0; !done; step++ {
		i := step * 7
		switch step % 4 {
		case 0:
			h.write(writer, nil, zkproto.OpDelete, &zkproto.DeleteRequest{Path: fmt.Sprintf("/p/%05d", i%kids), Version: -1})
		case 1:
			h.mustCreate(writer, fmt.Sprintf("/p/new%05d", i), nil, 0)
		case 2:
			h.write(ids[i%sessions], nil, zkproto.OpSetData,
				&zkproto.SetDataRequest{Path: fmt.Sprintf("/p/%05d", (i+1)%kids), Data: []byte("changed"), Version: -1})
		case 3:
			h.write(ids[1+i%(sessions-1)], nil, zkproto.OpCloseSession, nil)
		}
		got, done = sn.Next(got, 4096)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("the live snapshot differs from the state at its start at byte %d", firstDifference(got, want))
	}
	checkInvariants(t, h.tree)
}

// TestComparePaths checks the order of paths against the order in which a
// snapshot writes the nodes of a tree holding them.
func TestComparePaths(t *testing.T) {
	paths := []string{"/", "/a", "/a-b", "/a/b", "/a/b/c", "/a!", "/ab", "/a/b-", "/a/b/c/d", "/b", "/a.", "/a/a", "/a\x00"}
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "/", 0},
		{"/", "/a", -1},
		{"/a/b", "/a-b", -1}, // component "a" before "a-b", although '-' < '/'
		{"/a-b", "/a/b", 1},
		{"/a/b", "/ab", -1},
		{"/a", "/a/b", -1},
		{"/a/b/c", "/a!", -1},
		{"/a/z", "/a0", -1},
		{"/a\x00", "/a/b", 1},
		{"/b", "/a/b/c", 1},
		{"/a/b", "/a/b", 0},
	} {
		if got := comparePaths(tc.a, []byte(tc.b)); got != tc.want {
			t.Errorf("comparePaths(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	// The order of a depth-first walk with children by name.
	var walk []string
	var visit func(prefix string)
	visit = func(prefix string) {
		var names []string
		seen := map[string]bool{}
		for _, p := range paths {
			if rest, ok := strings.CutPrefix(p, prefix+"/"); ok && p != "/" {
				name, _, _ := strings.Cut(rest, "/")
				if !seen[name] {
					seen[name] = true
					names = append(names, name)
				}
			}
		}
		slices.Sort(names)
		for _, name := range names {
			walk = append(walk, prefix+"/"+name)
			visit(prefix + "/" + name)
		}
	}
	walk = append(walk, "")
	visit("")
	sorted := slices.Clone(walk)
	slices.SortFunc(sorted, func(a, b string) int { return comparePaths(a, b) })
	if !slices.Equal(sorted, walk) {
		t.Errorf("sorted by comparePaths:\n%q\nwalk order:\n%q", sorted, walk)
	}
}

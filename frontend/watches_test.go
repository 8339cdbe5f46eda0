package frontend

import (
	"maps"
	"math/rand/v2"
	"reflect"
	"testing"

	zk "github.com/vrkeeper/vrkeeper/zkproto"
)

func fire(r *Registry, path string, ev zk.EventType) []WatcherID {
	var got []WatcherID
	r.Trigger(path, ev, func(w WatcherID) { got = append(got, w) })
	return got
}

// TestTriggerRules checks which watches each event reaches, one watcher per
// kind of watch, each on /a/b unless the name says otherwise.
func TestTriggerRules(t *testing.T) {
	const (
		data WatcherID = iota + 1
		child
		persistent
		recursiveHere
		recursiveAncestor
		recursiveRoot
		dataOnParent
		childOnParent
		persistentOnParent
		unrelated
	)
	setup := func() *Registry {
		r := NewRegistry()
		r.AddData("/a/b", data)
		r.AddChild("/a/b", child)
		r.AddPersistent("/a/b", persistent, false)
		r.AddPersistent("/a/b", recursiveHere, true)
		r.AddPersistent("/a", recursiveAncestor, true)
		r.AddPersistent("/", recursiveRoot, true)
		r.AddData("/a", dataOnParent)
		r.AddChild("/a", childOnParent)
		r.AddPersistent("/a", persistentOnParent, false)
		r.AddData("/x", unrelated)
		return r
	}
	tests := []struct {
		path string
		ev   zk.EventType
		want []WatcherID
	}{
		{"/a/b", zk.EventNodeCreated, []WatcherID{data, persistent, recursiveHere, recursiveAncestor, recursiveRoot}},
		{"/a/b", zk.EventNodeDataChanged, []WatcherID{data, persistent, recursiveHere, recursiveAncestor, recursiveRoot}},
		{"/a/b", zk.EventNodeDeleted, []WatcherID{data, child, persistent, recursiveHere, recursiveAncestor, recursiveRoot}},
		// The parent's NodeChildrenChanged reaches child and persistent
		// watches on the parent, never recursive ones.
		{"/a", zk.EventNodeChildrenChanged, []WatcherID{childOnParent, persistentOnParent}},
		{"/a/b/c", zk.EventNodeCreated, []WatcherID{recursiveHere, recursiveAncestor, recursiveRoot}},
		{"/zz", zk.EventNodeDeleted, []WatcherID{recursiveRoot}},
		{"/a/b", zk.EventNone, nil},
	}
	for _, tc := range tests {
		if got := fire(setup(), tc.path, tc.ev); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v on %s reached %v, want %v", tc.ev, tc.path, got, tc.want)
		}
	}
}

// TestOneShotConsumed: one-shot watches fire once; persistent ones stay,
// even after the node is deleted.
func TestOneShotConsumed(t *testing.T) {
	r := NewRegistry()
	r.AddData("/n", 1)
	r.AddChild("/n", 2)
	r.AddPersistent("/n", 3, false)
	if got := fire(r, "/n", zk.EventNodeDataChanged); !reflect.DeepEqual(got, []WatcherID{1, 3}) {
		t.Fatalf("first change reached %v", got)
	}
	if got := fire(r, "/n", zk.EventNodeDataChanged); !reflect.DeepEqual(got, []WatcherID{3}) {
		t.Fatalf("second change reached %v", got)
	}
	if got := fire(r, "/n", zk.EventNodeDeleted); !reflect.DeepEqual(got, []WatcherID{2, 3}) {
		t.Fatalf("delete reached %v", got)
	}
	if got := fire(r, "/n", zk.EventNodeCreated); !reflect.DeepEqual(got, []WatcherID{3}) {
		t.Fatalf("re-create reached %v", got)
	}
	if r.Has("/n", 1, zk.WatcherData) || r.Has("/n", 2, zk.WatcherChildren) {
		t.Fatal("fired one-shot watches are still registered")
	}
}

// TestOneShotOverPersistent: a getData watch on a path the connection
// watches persistently makes the data side one-shot (ZooKeeper keeps one
// mode per table), while child events keep coming.
func TestOneShotOverPersistent(t *testing.T) {
	r := NewRegistry()
	r.AddPersistent("/n", 1, false)
	r.AddData("/n", 1)
	if got := fire(r, "/n", zk.EventNodeDataChanged); !reflect.DeepEqual(got, []WatcherID{1}) {
		t.Fatalf("first change reached %v", got)
	}
	if got := fire(r, "/n", zk.EventNodeDataChanged); got != nil {
		t.Fatalf("second change reached %v", got)
	}
	for range 2 {
		if got := fire(r, "/n", zk.EventNodeChildrenChanged); !reflect.DeepEqual(got, []WatcherID{1}) {
			t.Fatalf("child change reached %v", got)
		}
	}
}

// TestDeleteDeduplicates: a connection with data, child and persistent
// watches on a deleted node gets one NodeDeleted, and all its one-shot
// watches are gone.
func TestDeleteDeduplicates(t *testing.T) {
	r := NewRegistry()
	r.AddData("/n", 7)
	r.AddChild("/n", 7)
	r.AddPersistent("/n", 7, false)
	r.AddPersistent("/", 7, true)
	if got := fire(r, "/n", zk.EventNodeDeleted); !reflect.DeepEqual(got, []WatcherID{7}) {
		t.Fatalf("reached %v, want one delivery", got)
	}
	if r.Has("/n", 7, zk.WatcherData) || r.Has("/n", 7, zk.WatcherChildren) || !r.Has("/n", 7, zk.WatcherPersistent) {
		t.Fatal("wrong watches left after delete")
	}
}

func TestRemoveAndHas(t *testing.T) {
	tests := []struct {
		name    string
		add     func(r *Registry)
		typ     zk.WatcherType
		removed bool
		left    []zk.WatcherType // types Has must still report afterwards
	}{
		{"data removes data", func(r *Registry) { r.AddData("/p", 1) }, zk.WatcherData, true, nil},
		{"children leaves data", func(r *Registry) { r.AddData("/p", 1) }, zk.WatcherChildren, false, []zk.WatcherType{zk.WatcherData, zk.WatcherAny}},
		{"any removes all", func(r *Registry) {
			r.AddData("/p", 1)
			r.AddChild("/p", 1)
			r.AddPersistent("/p", 1, true)
		}, zk.WatcherAny, true, nil},
		// A later watch replaces an earlier one in its table, as in
		// ZooKeeper: the persistent watch took over the data side.
		{"persistent replaced the data watch", func(r *Registry) {
			r.AddData("/p", 1)
			r.AddPersistent("/p", 1, false)
		}, zk.WatcherData, false, []zk.WatcherType{zk.WatcherPersistent, zk.WatcherAny}},
		{"data watch over persistent", func(r *Registry) {
			r.AddPersistent("/p", 1, false)
			r.AddData("/p", 1)
		}, zk.WatcherData, true, []zk.WatcherType{zk.WatcherAny}},
		{"persistent is not recursive", func(r *Registry) { r.AddPersistent("/p", 1, true) }, zk.WatcherPersistent, false, []zk.WatcherType{zk.WatcherPersistentRecursive, zk.WatcherAny}},
		{"recursive", func(r *Registry) { r.AddPersistent("/p", 1, true) }, zk.WatcherPersistentRecursive, true, nil},
		{"nothing", func(r *Registry) {}, zk.WatcherAny, false, nil},
		{"bad type", func(r *Registry) { r.AddData("/p", 1) }, zk.WatcherType(9), false, []zk.WatcherType{zk.WatcherData, zk.WatcherAny}},
	}
	all := []zk.WatcherType{zk.WatcherChildren, zk.WatcherData, zk.WatcherAny, zk.WatcherPersistent, zk.WatcherPersistentRecursive}
	for _, tc := range tests {
		r := NewRegistry()
		tc.add(r)
		if got := r.Remove("/p", 1, tc.typ); got != tc.removed {
			t.Errorf("%s: Remove = %v, want %v", tc.name, got, tc.removed)
		}
		for _, typ := range all {
			want := false
			for _, l := range tc.left {
				want = want || l == typ
			}
			if got := r.Has("/p", 1, typ); got != want {
				t.Errorf("%s: Has(%v) = %v, want %v", tc.name, typ, got, want)
			}
		}
	}
}

// TestRemoveAll clears a closed connection's watches, including the
// recursive count that lets triggers skip the ancestor walk.
func TestRemoveAll(t *testing.T) {
	r := NewRegistry()
	r.AddData("/a", 1)
	r.AddPersistent("/", 1, true)
	r.AddData("/a", 2)
	r.RemoveAll(1)
	if r.recursive != 0 {
		t.Fatalf("recursive count %d after removing the only recursive watch", r.recursive)
	}
	if got := fire(r, "/a", zk.EventNodeDataChanged); !reflect.DeepEqual(got, []WatcherID{2}) {
		t.Fatalf("reached %v", got)
	}
	if s := r.Summary(); s != (WatchSummary{}) {
		t.Fatalf("summary after all fired and removed: %+v", s)
	}
}

// TestSummary: the reports count only the data-watch table, as ZooKeeper
// 3.8's do: child watches are not listed.
func TestSummary(t *testing.T) {
	r := NewRegistry()
	r.AddData("/a", 1)
	r.AddChild("/a", 1)
	r.AddPersistent("/b", 1, false)
	r.AddPersistent("/c", 2, true)
	r.AddChild("/d", 3) // a connection with child watches only is not listed
	want := WatchSummary{Connections: 2, Paths: 3, Total: 3}
	if s := r.Summary(); s != want {
		t.Fatalf("summary %+v, want %+v", s, want)
	}
	if got := r.PathsOf(1); !reflect.DeepEqual(got, []string{"/a", "/b"}) {
		t.Fatalf("PathsOf(1) = %v", got)
	}
	if got := r.Watchers()["/c"]; !reflect.DeepEqual(got, []WatcherID{2}) {
		t.Fatalf("Watchers()[/c] = %v", got)
	}
	if _, listed := r.Watchers()["/d"]; listed {
		t.Fatal("a child-only path is listed")
	}
	if got := r.WatcherIDs(); !reflect.DeepEqual(got, []WatcherID{1, 2}) {
		t.Fatalf("WatcherIDs() = %v", got)
	}
}

func BenchmarkTriggerNoWatchers(b *testing.B) {
	r := NewRegistry()
	for i := range 1000 {
		r.AddData("/other", WatcherID(i))
	}
	b.ReportAllocs()
	for b.Loop() {
		r.Trigger("/app/services/web/member-0000000042", zk.EventNodeCreated, func(WatcherID) {})
	}
}

// TestPathWatchersAgainstMap: the inline-first set of a path's watchers
// behaves as a map of watcher to modes under random puts and removals.
func TestPathWatchersAgainstMap(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var pw pathWatchers
	model := map[WatcherID]modes{}
	for i := range 20000 {
		w := WatcherID(rng.IntN(5))
		m := modes{data: watchMode(rng.IntN(4)), child: watchMode(rng.IntN(2))}
		if rng.IntN(3) == 0 {
			m = modes{}
		}
		pw.put(w, m)
		if m == (modes{}) {
			delete(model, w)
		} else {
			model[w] = m
		}
		got := map[WatcherID]modes{}
		pw.each(func(w WatcherID, m modes) {
			if _, dup := got[w]; dup {
				t.Fatalf("step %d: watcher %d listed twice", i, w)
			}
			got[w] = m
		})
		if !maps.Equal(got, model) || pw.empty() != (len(model) == 0) {
			t.Fatalf("step %d: have %v, want %v", i, got, model)
		}
		for w := range WatcherID(5) {
			_, ok := model[w]
			if pw.has(w) != ok || pw.get(w) != model[w] {
				t.Fatalf("step %d: watcher %d: has %v get %v, want %v", i, w, pw.has(w), pw.get(w), model[w])
			}
		}
	}
}

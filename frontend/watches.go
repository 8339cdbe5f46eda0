package frontend

import (
	"slices"
	"sort"
	"strings"
	"sync"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// WatcherID names one watcher: a client connection. Watches belong to a
// connection, not a session: a client that reconnects re-registers them
// with setWatches.
type WatcherID uint64

// watchMode is how a watcher watches a path in one of the two tables,
// as in ZooKeeper's WatchManager (3.6+).
type watchMode uint8

const (
	modeNone       watchMode = iota
	modeOneShot              // getData, exists (data table); getChildren (child table)
	modePersistent           // addWatch PERSISTENT: in both tables
	modeRecursive            // addWatch PERSISTENT_RECURSIVE: in the data table only
)

// modes is one watcher's modes on one path. ZooKeeper keeps one mode per
// (path, watcher) in each table, so a later watch replaces an earlier one
// in its table: a getData watch where the connection has a persistent
// watch makes the data side one-shot, while child events keep coming.
type modes struct {
	data, child watchMode
}

// Registry holds the watches of a server's connections and decides which
// watchers an event reaches, with ZooKeeper's (3.6+) rules. It is safe for
// concurrent use. A watch registered by a read and the events of later
// writes are ordered by the tree lock: the apply goroutine triggers while
// it holds the lock for writing, a connection's reader registers the watch
// of a read it serves while it holds the lock for reading (bridge.Node).
type Registry struct {
	mu     sync.Mutex
	byPath map[string]pathWatchers
	byConn map[WatcherID]map[string]struct{}
	// recursive counts recursive watches, so that a trigger walks the
	// path's ancestors only when one exists somewhere.
	recursive int
	// fired and order are Trigger's scratch space, kept to spare the apply
	// loop an allocation per event.
	fired   map[WatcherID]struct{}
	order   []WatcherID
	changed []watcherModes
}

// watcherModes is a watcher's new modes, for Trigger.
type watcherModes struct {
	w WatcherID
	m modes
}

// pathWatchers are the watchers of one path. Most paths have one watcher:
// it is kept inline (a million watches cost a million small map entries,
// not a million maps); more go to a map.
type pathWatchers struct {
	hasOne bool
	one    WatcherID // the inline watcher, if hasOne
	oneM   modes
	more   map[WatcherID]modes // the others, or nil
}

// get returns w's modes.
func (pw *pathWatchers) get(w WatcherID) modes {
	if pw.hasOne && pw.one == w {
		return pw.oneM
	}
	return pw.more[w]
}

// has reports whether w has modes here.
func (pw *pathWatchers) has(w WatcherID) bool {
	if pw.hasOne && pw.one == w {
		return true
	}
	_, ok := pw.more[w]
	return ok
}

// put sets w's modes; empty modes remove w.
func (pw *pathWatchers) put(w WatcherID, m modes) {
	empty := m == (modes{})
	switch {
	case pw.hasOne && pw.one == w:
		if empty {
			pw.hasOne, pw.one, pw.oneM = false, 0, modes{}
		} else {
			pw.oneM = m
		}
	case empty:
		delete(pw.more, w)
	case !pw.hasOne && !pw.has(w):
		pw.hasOne, pw.one, pw.oneM = true, w, m
	default:
		if pw.more == nil {
			pw.more = make(map[WatcherID]modes, 1)
		}
		pw.more[w] = m
	}
}

// empty reports whether no watcher is left.
func (pw *pathWatchers) empty() bool { return !pw.hasOne && len(pw.more) == 0 }

// each calls f for every watcher and its modes.
func (pw *pathWatchers) each(f func(WatcherID, modes)) {
	if pw.hasOne {
		f(pw.one, pw.oneM)
	}
	for w, m := range pw.more {
		f(w, m)
	}
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{
		byPath: make(map[string]pathWatchers),
		byConn: make(map[WatcherID]map[string]struct{}),
		fired:  make(map[WatcherID]struct{}),
	}
}

// set stores w's modes on path, keeping the indexes and the recursive
// count right.
func (r *Registry) set(path string, w WatcherID, m modes) {
	p := r.byPath[path]
	old := p.get(w)
	if old.data == modeRecursive {
		r.recursive--
	}
	if m.data == modeRecursive {
		r.recursive++
	}
	p.put(w, m)
	if p.empty() {
		delete(r.byPath, path)
	} else {
		r.byPath[path] = p
	}
	if m == (modes{}) {
		if c := r.byConn[w]; c != nil {
			delete(c, path)
			if len(c) == 0 {
				delete(r.byConn, w)
			}
		}
		return
	}
	c := r.byConn[w]
	if c == nil {
		c = make(map[string]struct{}, 1)
		r.byConn[w] = c
	}
	c[path] = struct{}{}
}

// AddData registers a one-shot data watch (getData or exists with watch set).
func (r *Registry) AddData(path string, w WatcherID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	pw := r.byPath[path]
	m := pw.get(w)
	m.data = modeOneShot
	r.set(path, w, m)
}

// AddChild registers a one-shot child watch (getChildren with watch set).
func (r *Registry) AddChild(path string, w WatcherID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	pw := r.byPath[path]
	m := pw.get(w)
	m.child = modeOneShot
	r.set(path, w, m)
}

// AddPersistent registers an addWatch watch; recursive selects
// PERSISTENT_RECURSIVE, which lives in the data table only.
func (r *Registry) AddPersistent(path string, w WatcherID, recursive bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	pw := r.byPath[path]
	m := pw.get(w)
	if recursive {
		m.data = modeRecursive
	} else {
		m.data, m.child = modePersistent, modePersistent
	}
	r.set(path, w, m)
}

// matches reports whether mode m is covered by removeWatches or
// checkWatches of type t in a table (ZooKeeper's DataTree.removeWatch and
// containsWatcher): Data and Children mean the one-shot watches only,
// Persistent and PersistentRecursive their own modes, Any every mode.
func matches(t zkproto.WatcherType, m watchMode, dataTable bool) bool {
	if m == modeNone {
		return false
	}
	switch t {
	case zkproto.WatcherAny:
		return true
	case zkproto.WatcherData:
		return dataTable && m == modeOneShot
	case zkproto.WatcherChildren:
		return !dataTable && m == modeOneShot
	case zkproto.WatcherPersistent:
		return m == modePersistent
	case zkproto.WatcherPersistentRecursive:
		return dataTable && m == modeRecursive
	}
	return false
}

// Remove removes watcher w's watches of type t on path (removeWatches) and
// reports whether there were any; ZooKeeper answers NOWATCHER when not.
func (r *Registry) Remove(path string, w WatcherID, t zkproto.WatcherType) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	pw, ok := r.byPath[path]
	if !ok || !pw.has(w) {
		return false
	}
	m := pw.get(w)
	removed := false
	if matches(t, m.data, true) {
		m.data, removed = modeNone, true
	}
	if matches(t, m.child, false) {
		m.child, removed = modeNone, true
	}
	if removed {
		r.set(path, w, m)
	}
	return removed
}

// Has reports whether watcher w holds a watch of type t on path
// (checkWatches). For Persistent ZooKeeper looks at the data table.
func (r *Registry) Has(path string, w WatcherID, t zkproto.WatcherType) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	pw := r.byPath[path]
	m := pw.get(w)
	if t == zkproto.WatcherPersistent {
		return m.data == modePersistent
	}
	return matches(t, m.data, true) || matches(t, m.child, false)
}

// RemoveAll drops every watch of a closed connection.
func (r *Registry) RemoveAll(w WatcherID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for path := range r.byConn[w] {
		r.set(path, w, modes{})
	}
}

// Trigger finds the watchers an event reaches, calls deliver once for each
// (never twice for one event: ZooKeeper de-duplicates a watcher that holds
// several matching watches), and consumes the one-shot watches that fired.
// NodeCreated and NodeDataChanged fire the data table, NodeChildrenChanged
// (path is the parent) the child table, NodeDeleted both. In a table, a
// watch on path itself fires, and so does a recursive watch on an ancestor
// of path; recursive watches never see NodeChildrenChanged.
func (r *Registry) Trigger(path string, ev zkproto.EventType, deliver func(WatcherID)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var data, child bool
	switch ev {
	case zkproto.EventNodeCreated, zkproto.EventNodeDataChanged:
		data = true
	case zkproto.EventNodeDeleted:
		data, child = true, true
	case zkproto.EventNodeChildrenChanged:
		child = true
	default:
		return
	}
	clear(r.fired)
	r.changed = r.changed[:0]
	pw := r.byPath[path]
	pw.each(func(w WatcherID, m modes) {
		fire := false
		if data && m.data != modeNone {
			fire = true
			if m.data == modeOneShot {
				m.data = modeNone
			}
		}
		if child && m.child != modeNone {
			fire = true
			if m.child == modeOneShot {
				m.child = modeNone
			}
		}
		if fire {
			r.fired[w] = struct{}{}
			r.changed = append(r.changed, watcherModes{w, m})
		}
	})
	for _, c := range r.changed {
		r.set(path, c.w, c.m)
	}
	if data && r.recursive > 0 {
		for p := parentOf(path); p != ""; p = parentOf(p) {
			pw := r.byPath[p]
			pw.each(func(w WatcherID, m modes) {
				if m.data == modeRecursive {
					r.fired[w] = struct{}{}
				}
			})
		}
	}
	if len(r.fired) == 0 {
		return
	}
	// Deliver in a fixed order so that a server's behaviour does not depend
	// on map iteration.
	r.order = r.order[:0]
	for w := range r.fired {
		r.order = append(r.order, w)
	}
	slices.Sort(r.order)
	for _, w := range r.order {
		deliver(w)
	}
}

// parentOf returns the parent of a path ("/" for "/a"), or "" for the root.
func parentOf(path string) string {
	if path == "/" || path == "" {
		return ""
	}
	i := strings.LastIndexByte(path, '/')
	if i <= 0 {
		return "/"
	}
	return path[:i]
}

// The watch reports (wchs, wchc, wchp) list only the data table, as
// ZooKeeper 3.8's do: a connection holding nothing but child watches does
// not appear in them (observed on the reference server).

// WatchSummary counts watches as the wchs word reports them.
type WatchSummary struct {
	Connections int // connections holding a data-table watch
	Paths       int // paths with a data-table watch
	Total       int // data-table watches: one per (connection, path)
}

// Summary returns the counts for wchs.
func (r *Registry) Summary() WatchSummary {
	r.mu.Lock()
	defer r.mu.Unlock()
	var s WatchSummary
	for _, watchers := range r.byPath {
		counted := false
		watchers.each(func(_ WatcherID, m modes) {
			if m.data != modeNone {
				s.Total++
				counted = true
			}
		})
		if counted {
			s.Paths++
		}
	}
	for w, paths := range r.byConn {
		for p := range paths {
			if pw := r.byPath[p]; pw.get(w).data != modeNone {
				s.Connections++
				break
			}
		}
	}
	return s
}

// PathsOf returns the paths watcher w holds a data-table watch on, sorted
// (wchc).
func (r *Registry) PathsOf(w WatcherID) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var paths []string
	for p := range r.byConn[w] {
		if pw := r.byPath[p]; pw.get(w).data != modeNone {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	return paths
}

// Watchers returns, for every path with a data-table watch, its watchers
// sorted (wchp).
func (r *Registry) Watchers() map[string][]WatcherID {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string][]WatcherID, len(r.byPath))
	for p, ws := range r.byPath {
		ws.each(func(w WatcherID, m modes) {
			if m.data != modeNone {
				out[p] = append(out[p], w)
			}
		})
		slices.Sort(out[p])
	}
	return out
}

// WatcherIDs returns the watchers holding a data-table watch, sorted (wchc).
func (r *Registry) WatcherIDs() []WatcherID {
	r.mu.Lock()
	defer r.mu.Unlock()
	var ids []WatcherID
	for w, paths := range r.byConn {
		for p := range paths {
			if pw := r.byPath[p]; pw.get(w).data != modeNone {
				ids = append(ids, w)
				break
			}
		}
	}
	slices.Sort(ids)
	return ids
}

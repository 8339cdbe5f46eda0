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
	byPath map[string]map[WatcherID]modes
	byConn map[WatcherID]map[string]struct{}
	// recursive counts recursive watches, so that a trigger walks the
	// path's ancestors only when one exists somewhere.
	recursive int
	// fired and order are Trigger's scratch space, kept to spare the apply
	// loop an allocation per event.
	fired map[WatcherID]struct{}
	order []WatcherID
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{
		byPath: make(map[string]map[WatcherID]modes),
		byConn: make(map[WatcherID]map[string]struct{}),
		fired:  make(map[WatcherID]struct{}),
	}
}

// set stores w's modes on path, keeping the indexes and the recursive
// count right.
func (r *Registry) set(path string, w WatcherID, m modes) {
	p := r.byPath[path]
	old := p[w]
	if old.data == modeRecursive {
		r.recursive--
	}
	if m.data == modeRecursive {
		r.recursive++
	}
	if m == (modes{}) {
		if p != nil {
			delete(p, w)
			if len(p) == 0 {
				delete(r.byPath, path)
			}
		}
		if c := r.byConn[w]; c != nil {
			delete(c, path)
			if len(c) == 0 {
				delete(r.byConn, w)
			}
		}
		return
	}
	if p == nil {
		p = make(map[WatcherID]modes, 1)
		r.byPath[path] = p
	}
	p[w] = m
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
	m := r.byPath[path][w]
	m.data = modeOneShot
	r.set(path, w, m)
}

// AddChild registers a one-shot child watch (getChildren with watch set).
func (r *Registry) AddChild(path string, w WatcherID) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.byPath[path][w]
	m.child = modeOneShot
	r.set(path, w, m)
}

// AddPersistent registers an addWatch watch; recursive selects
// PERSISTENT_RECURSIVE, which lives in the data table only.
func (r *Registry) AddPersistent(path string, w WatcherID, recursive bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	m := r.byPath[path][w]
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
	m, ok := r.byPath[path][w]
	if !ok {
		return false
	}
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
	m := r.byPath[path][w]
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
	for w, m := range r.byPath[path] {
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
			r.set(path, w, m)
		}
	}
	if data && r.recursive > 0 {
		for p := parentOf(path); p != ""; p = parentOf(p) {
			for w, m := range r.byPath[p] {
				if m.data == modeRecursive {
					r.fired[w] = struct{}{}
				}
			}
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
		for _, m := range watchers {
			if m.data != modeNone {
				s.Total++
				counted = true
			}
		}
		if counted {
			s.Paths++
		}
	}
	for w, paths := range r.byConn {
		for p := range paths {
			if r.byPath[p][w].data != modeNone {
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
		if r.byPath[p][w].data != modeNone {
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
		for w, m := range ws {
			if m.data != modeNone {
				out[p] = append(out[p], w)
			}
		}
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
			if r.byPath[p][w].data != modeNone {
				ids = append(ids, w)
				break
			}
		}
	}
	slices.Sort(ids)
	return ids
}

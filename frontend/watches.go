package frontend

import (
	"slices"
	"sort"
	"strings"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// WatcherID names one watcher: a client connection. Watches belong to a
// connection, not a session: a client that reconnects re-registers them
// with setWatches.
type WatcherID uint64

// watchKind is a set of watch kinds one watcher holds on one path.
//
// ZooKeeper keeps data and exist watches in one table (an exists call on a
// missing node registers a data watch), so there is one kind for both. A
// persistent watch is in its data and child tables; a persistent-recursive
// watch only in its data table, which is why it never sees
// NodeChildrenChanged.
type watchKind uint8

const (
	kindData                watchKind = 1 << iota // one-shot: getData, exists
	kindChild                                     // one-shot: getChildren
	kindPersistent                                // addWatch PERSISTENT
	kindPersistentRecursive                       // addWatch PERSISTENT_RECURSIVE
)

// Registry holds the watches of a server's connections and decides which
// watchers an event reaches, with ZooKeeper's (3.6+) rules. It is not safe
// for concurrent use: one goroutine (the one applying the tree) owns it, so
// that a watch registered by a read and the events of later writes are
// ordered by that goroutine.
type Registry struct {
	byPath map[string]map[WatcherID]watchKind
	byConn map[WatcherID]map[string]watchKind
	// recursive counts persistent-recursive watches, so that a trigger walks
	// the path's ancestors only when one exists somewhere.
	recursive int
	// fired and order are Trigger's scratch space, kept to spare the apply
	// loop an allocation per event.
	fired map[WatcherID]struct{}
	order []WatcherID
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{
		byPath: make(map[string]map[WatcherID]watchKind),
		byConn: make(map[WatcherID]map[string]watchKind),
		fired:  make(map[WatcherID]struct{}),
	}
}

func (r *Registry) add(path string, w WatcherID, k watchKind) {
	p := r.byPath[path]
	if p == nil {
		p = make(map[WatcherID]watchKind, 1)
		r.byPath[path] = p
	}
	c := r.byConn[w]
	if c == nil {
		c = make(map[string]watchKind, 1)
		r.byConn[w] = c
	}
	old := p[w]
	if k&kindPersistentRecursive != 0 && old&kindPersistentRecursive == 0 {
		r.recursive++
	}
	p[w] = old | k
	c[path] = old | k
}

// remove clears kinds k of watcher w on path and reports whether any was set.
func (r *Registry) remove(path string, w WatcherID, k watchKind) bool {
	p := r.byPath[path]
	old, ok := p[w]
	if !ok || old&k == 0 {
		return false
	}
	if old&k&kindPersistentRecursive != 0 {
		r.recursive--
	}
	left := old &^ k
	if left == 0 {
		delete(p, w)
		if len(p) == 0 {
			delete(r.byPath, path)
		}
		c := r.byConn[w]
		delete(c, path)
		if len(c) == 0 {
			delete(r.byConn, w)
		}
		return true
	}
	p[w] = left
	r.byConn[w][path] = left
	return true
}

// AddData registers a one-shot data watch (getData or exists with watch set).
func (r *Registry) AddData(path string, w WatcherID) { r.add(path, w, kindData) }

// AddChild registers a one-shot child watch (getChildren with watch set).
func (r *Registry) AddChild(path string, w WatcherID) { r.add(path, w, kindChild) }

// AddPersistent registers an addWatch watch; recursive selects
// PERSISTENT_RECURSIVE.
func (r *Registry) AddPersistent(path string, w WatcherID, recursive bool) {
	if recursive {
		r.add(path, w, kindPersistentRecursive)
	} else {
		r.add(path, w, kindPersistent)
	}
}

// kindsOf maps removeWatches/checkWatches' WatcherType to the kinds it
// covers: Children and Data mean the one-shot watches only, Any means every
// kind.
func kindsOf(t zkproto.WatcherType) (watchKind, bool) {
	switch t {
	case zkproto.WatcherChildren:
		return kindChild, true
	case zkproto.WatcherData:
		return kindData, true
	case zkproto.WatcherPersistent:
		return kindPersistent, true
	case zkproto.WatcherPersistentRecursive:
		return kindPersistentRecursive, true
	case zkproto.WatcherAny:
		return kindData | kindChild | kindPersistent | kindPersistentRecursive, true
	}
	return 0, false
}

// Remove removes watcher w's watches of type t on path (removeWatches) and
// reports whether there were any; ZooKeeper answers NOWATCHER when not.
func (r *Registry) Remove(path string, w WatcherID, t zkproto.WatcherType) bool {
	k, ok := kindsOf(t)
	return ok && r.remove(path, w, k)
}

// Has reports whether watcher w holds a watch of type t on path
// (checkWatches).
func (r *Registry) Has(path string, w WatcherID, t zkproto.WatcherType) bool {
	k, ok := kindsOf(t)
	return ok && r.byPath[path][w]&k != 0
}

// RemoveAll drops every watch of a closed connection.
func (r *Registry) RemoveAll(w WatcherID) {
	for path, k := range r.byConn[w] {
		if k&kindPersistentRecursive != 0 {
			r.recursive--
		}
		p := r.byPath[path]
		delete(p, w)
		if len(p) == 0 {
			delete(r.byPath, path)
		}
	}
	delete(r.byConn, w)
}

// Trigger finds the watchers an event reaches, calls deliver once for each
// (never twice for one event, as ZooKeeper de-duplicates a watcher that
// holds several matching watches), and consumes the one-shot watches that
// fired. Which watches match:
//
//	NodeCreated, NodeDataChanged: data and persistent watches on path
//	NodeDeleted: data, child and persistent watches on path
//	NodeChildrenChanged (path is the parent): child and persistent watches
//	every event but NodeChildrenChanged: persistent-recursive watches on
//	path and on each of its ancestors
func (r *Registry) Trigger(path string, ev zkproto.EventType, deliver func(WatcherID)) {
	var match, consume watchKind
	switch ev {
	case zkproto.EventNodeCreated, zkproto.EventNodeDataChanged:
		match, consume = kindData|kindPersistent|kindPersistentRecursive, kindData
	case zkproto.EventNodeDeleted:
		match, consume = kindData|kindChild|kindPersistent|kindPersistentRecursive, kindData|kindChild
	case zkproto.EventNodeChildrenChanged:
		match, consume = kindChild|kindPersistent, kindChild
	default:
		return
	}
	clear(r.fired)
	for w, k := range r.byPath[path] {
		if k&match == 0 {
			continue
		}
		r.fired[w] = struct{}{}
		if k&consume != 0 {
			r.remove(path, w, k&consume)
		}
	}
	if match&kindPersistentRecursive != 0 && r.recursive > 0 {
		for p := parentOf(path); p != ""; p = parentOf(p) {
			for w, k := range r.byPath[p] {
				if k&kindPersistentRecursive != 0 {
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

// dataTable is the kinds ZooKeeper keeps in its data-watch table. Its
// watch reports (wchs, wchc, wchp) list only that table, so a connection
// holding nothing but child watches does not appear in them (observed on
// ZooKeeper 3.8).
const dataTable = kindData | kindPersistent | kindPersistentRecursive

// WatchSummary counts watches as the wchs word reports them.
type WatchSummary struct {
	Connections int // connections holding a data-table watch
	Paths       int // paths with a data-table watch
	Total       int // data-table watches: one per (connection, path)
}

// Summary returns the counts for wchs.
func (r *Registry) Summary() WatchSummary {
	var s WatchSummary
	for _, watchers := range r.byPath {
		counted := false
		for _, k := range watchers {
			if k&dataTable != 0 {
				s.Total++
				counted = true
			}
		}
		if counted {
			s.Paths++
		}
	}
	for _, paths := range r.byConn {
		for _, k := range paths {
			if k&dataTable != 0 {
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
	var paths []string
	for p, k := range r.byConn[w] {
		if k&dataTable != 0 {
			paths = append(paths, p)
		}
	}
	sort.Strings(paths)
	return paths
}

// Watchers returns, for every path with a data-table watch, its watchers
// sorted (wchp).
func (r *Registry) Watchers() map[string][]WatcherID {
	out := make(map[string][]WatcherID, len(r.byPath))
	for p, ws := range r.byPath {
		for w, k := range ws {
			if k&dataTable != 0 {
				out[p] = append(out[p], w)
			}
		}
		slices.Sort(out[p])
	}
	return out
}

// WatcherIDs returns the watchers holding a data-table watch, sorted (wchc).
func (r *Registry) WatcherIDs() []WatcherID {
	var ids []WatcherID
	for w, paths := range r.byConn {
		for _, k := range paths {
			if k&dataTable != 0 {
				ids = append(ids, w)
				break
			}
		}
	}
	slices.Sort(ids)
	return ids
}

package tree

import "github.com/vrkeeper/vrkeeper/zkproto"

// WatchKind is the kind of a one-shot watch a reconnecting client re-sends
// in setWatches.
type WatchKind uint8

// The watch kinds of setWatches.
const (
	WatchData  WatchKind = iota + 1 // set by getData
	WatchExist                      // set by exists
	WatchChild                      // set by getChildren
)

// CatchUp decides, as ZooKeeper's DataTree.setWatches does, what a watch
// re-sent by a reconnecting client with its last seen zxid relZxid needs:
// an event now (fire true: the watch is consumed and ev is to be sent), or
// registration as a normal watch (fire false).
//   - data watch: node gone: NodeDeleted; mzxid > relZxid: NodeDataChanged;
//   - exist watch: node present: NodeCreated (whenever it was created);
//   - child watch: node gone: NodeDeleted; pzxid > relZxid: NodeChildrenChanged.
//
// Persistent and persistent-recursive watches are re-registered with no
// catch-up. No permission is checked, as in ZooKeeper.
func (t *Tree) CatchUp(kind WatchKind, path string, relZxid int64) (ev zkproto.EventType, fire bool) {
	n := t.lookup(path)
	switch kind {
	case WatchData:
		switch {
		case n == nil:
			return zkproto.EventNodeDeleted, true
		case n.mzxid > relZxid:
			return zkproto.EventNodeDataChanged, true
		}
	case WatchExist:
		if n != nil {
			return zkproto.EventNodeCreated, true
		}
	case WatchChild:
		switch {
		case n == nil:
			return zkproto.EventNodeDeleted, true
		case n.pzxid > relZxid:
			return zkproto.EventNodeChildrenChanged, true
		}
	}
	return zkproto.EventNone, false
}

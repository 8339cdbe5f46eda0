package tree

import (
	"slices"
	"strings"
)

// childSet holds a node's children. A few children live in a slice sorted by
// name (a lookup scans at most smallChildren names); beyond that a map takes
// over, so a parent with a million children still finds one in O(1). The map
// is kept once made, until the last child goes and the set is dropped.
type childSet struct {
	sorted []*node          // by name; used while byName is nil
	byName map[string]*node // all children, once there were more than smallChildren
}

// smallChildren is the most children kept in the sorted slice.
const smallChildren = 8

// childOf returns n's child called name, or nil.
func childOf[P byteString](n *node, name P) *node {
	c := n.kids
	if c == nil {
		return nil
	}
	if c.byName != nil {
		return c.byName[string(name)]
	}
	for _, k := range c.sorted {
		if k.name == string(name) {
			return k
		}
	}
	return nil
}

func (c *childSet) len() int {
	if c.byName != nil {
		return len(c.byName)
	}
	return len(c.sorted)
}

// addChild adds k to n's children; the caller has checked that no child of
// that name exists.
func addChild(n, k *node) {
	c := n.kids
	if c == nil {
		c = &childSet{sorted: make([]*node, 0, 1)}
		n.kids = c
	}
	if c.byName != nil {
		c.byName[k.name] = k
		return
	}
	if len(c.sorted) < smallChildren {
		i, _ := slices.BinarySearchFunc(c.sorted, k.name, byName)
		c.sorted = slices.Insert(c.sorted, i, k)
		return
	}
	c.byName = make(map[string]*node, 2*smallChildren)
	for _, s := range c.sorted {
		c.byName[s.name] = s
	}
	c.byName[k.name] = k
	c.sorted = nil
}

// removeChild removes n's child k.
func removeChild(n, k *node) {
	c := n.kids
	if c.byName != nil {
		delete(c.byName, k.name)
	} else {
		i, found := slices.BinarySearchFunc(c.sorted, k.name, byName)
		if !found || c.sorted[i] != k {
			panic("tree: invariant violated: removing a child that is not in its parent's set")
		}
		c.sorted = slices.Delete(c.sorted, i, i+1)
	}
	if c.len() == 0 {
		n.kids = nil
	}
}

// sortedChildren appends n's children to dst in byte-wise order of name.
func sortedChildren(n *node, dst []*node) []*node {
	c := n.kids
	if c == nil {
		return dst
	}
	if c.byName == nil {
		return append(dst, c.sorted...)
	}
	start := len(dst)
	for _, k := range c.byName {
		dst = append(dst, k)
	}
	slices.SortFunc(dst[start:], func(a, b *node) int { return strings.Compare(a.name, b.name) })
	return dst
}

// eachChild calls f for every child of n in no particular order.
func eachChild(n *node, f func(*node)) {
	c := n.kids
	if c == nil {
		return
	}
	if c.byName != nil {
		for _, k := range c.byName {
			f(k)
		}
		return
	}
	for _, k := range c.sorted {
		f(k)
	}
}

func byName(k *node, name string) int { return strings.Compare(k.name, name) }

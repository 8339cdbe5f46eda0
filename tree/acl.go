package tree

import (
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// aclTable interns ACL lists: nodes that share a list (nearly all of them,
// in practice) share one entry and hold its index. Entries are reference
// counted and their slots reused, so the indexes depend on history; the
// snapshot therefore numbers lists afresh in tree order.
//
// Invariant: for every live entry e at index i, byKey[e.key] == i and e.refs
// equals the number of nodes whose aclIndex is i (plus one for each pinned
// list); a free slot has refs == 0 and acl == nil; a held slot has refs == 0,
// is not in byKey and keeps its list.
type aclTable struct {
	lists []aclList         // by index
	byKey map[string]uint32 // the list's jute encoding -> index
	free  []uint32          // free slots, reused last-in first-out

	// While a live snapshot is in progress (holding), a slot whose last
	// reference goes is held instead of freed: the snapshot may still write
	// a node as it was, with that index.
	holding bool
	held    []uint32
}

// aclList is one interned ACL list.
type aclList struct {
	acl  []zkproto.ACL // never modified once interned; safe to hand out
	key  string        // the list's jute encoding
	refs int64
	hash uint64 // hashBytes(0, key), for the digest
}

func newACLTable() aclTable {
	return aclTable{byKey: make(map[string]uint32)}
}

// internKey returns the index of the list whose jute encoding is key, adding
// it (decoded from key) if absent, and takes a reference to it. key must be
// a well-formed ACL vector; it is not retained.
func (t *aclTable) internKey(key []byte) uint32 {
	if i, ok := t.byKey[string(key)]; ok {
		t.lists[i].refs++
		return i
	}
	d := zkproto.NewDecoder(key)
	acl := d.ACLs(nil)
	if d.Err() != nil {
		panic("tree: invariant violated: interning a malformed ACL encoding: " + d.Err().Error())
	}
	e := aclList{acl: acl, key: string(key), refs: 1, hash: hashBytes(0, key)}
	var i uint32
	if n := len(t.free); n > 0 {
		i = t.free[n-1]
		t.free = t.free[:n-1]
		t.lists[i] = e
	} else {
		i = uint32(len(t.lists))
		if i >= dataNullBit {
			panic("tree: invariant violated: more than 2^31 distinct ACL lists")
		}
		t.lists = append(t.lists, e)
	}
	t.byKey[e.key] = i
	return i
}

// ref takes another reference to the list at i and returns i.
func (t *aclTable) ref(i uint32) uint32 {
	t.lists[i].refs++
	return i
}

// release drops a reference to the list at i, freeing it at zero.
func (t *aclTable) release(i uint32) {
	e := &t.lists[i]
	e.refs--
	if e.refs > 0 {
		return
	}
	if e.refs < 0 {
		panic("tree: invariant violated: ACL reference count below zero")
	}
	delete(t.byKey, e.key)
	if t.holding {
		t.held = append(t.held, i)
		return
	}
	*e = aclList{}
	t.free = append(t.free, i)
}

// releaseHeld frees the held slots and stops holding.
func (t *aclTable) releaseHeld() {
	for _, i := range t.held {
		t.lists[i] = aclList{}
		t.free = append(t.free, i)
	}
	clear(t.held)
	t.held, t.holding = t.held[:0], false
}

func (t *aclTable) get(i uint32) []zkproto.ACL { return t.lists[i].acl }

func (t *aclTable) hash(i uint32) uint64 { return t.lists[i].hash }

// checkPerm reports whether a requester with the identities auth holds perm
// on a node with the given ACL, by ZooKeeper's rules (ZooKeeperServer.checkACL):
// an empty ACL allows everything; a "super" identity allows everything; else
// some entry granting a bit of perm must name world:anyone or match one of
// the identities (digest, x509: equal ids; sasl: equal ids, or the sasl
// identity "super", as SASLAuthenticationProvider.matches; ip: address or
// CIDR match). Entries of other schemes never match.
func checkPerm(acl []zkproto.ACL, perm int32, auth []zkproto.Id) bool {
	if len(acl) == 0 {
		return true
	}
	for i := range auth {
		if auth[i].Scheme == SchemeSuper {
			return true
		}
	}
	for i := range acl {
		a := &acl[i]
		if a.Perms&perm == 0 {
			continue
		}
		switch a.ID.Scheme {
		case SchemeWorld:
			if a.ID.ID == worldAnyone {
				return true
			}
		case SchemeDigest:
			for j := range auth {
				if auth[j].Scheme == SchemeDigest && auth[j].ID == a.ID.ID {
					return true
				}
			}
		case SchemeIP:
			for j := range auth {
				if auth[j].Scheme == SchemeIP && ipMatches(auth[j].ID, a.ID.ID) {
					return true
				}
			}
		case SchemeX509:
			for j := range auth {
				if auth[j].Scheme == SchemeX509 && auth[j].ID == a.ID.ID {
					return true
				}
			}
		case SchemeSASL:
			for j := range auth {
				if auth[j].Scheme == SchemeSASL && (auth[j].ID == a.ID.ID || auth[j].ID == "super") {
					return true
				}
			}
		}
	}
	return false
}

// WritePolicy is what a server's own configuration says about how the
// writes it accepts apply: which ACL schemes its authentication providers
// make valid, whether it checks permissions at all, and whether TTL nodes
// are enabled. The server that accepts a client write decides it and the
// command carries it (ClientWrite.Policy): applying a write depends on the
// command and the state alone, never on the configuration of the replica
// that applies it, so replicas configured differently (during a rolling
// change of configuration, say) cannot diverge.
type WritePolicy uint8

// The policy bits.
const (
	// PolicyX509 makes x509 a valid ACL scheme and x509 identities
	// authenticated ones (they expand "auth"): the accepting server has
	// ZooKeeper's X509AuthenticationProvider.
	PolicyX509 WritePolicy = 1 << iota
	// PolicySASL does the same for the sasl scheme
	// (SASLAuthenticationProvider).
	PolicySASL
	// PolicySkipACL turns every permission check of the write off
	// (ZooKeeper's skipACL=yes); ACLs are still validated when set.
	PolicySkipACL
	// PolicyExtendedTypes enables TTL nodes (ZooKeeper's
	// zookeeper.extendedTypesEnabled): without it a create of a TTL mode,
	// alone or inside a multi, fails with UNIMPLEMENTED.
	PolicyExtendedTypes

	policyKnown = PolicyX509 | PolicySASL | PolicySkipACL | PolicyExtendedTypes
)

// allows is checkPerm unless the write's policy turned checks off.
func (w *writeCtx) allows(acl []zkproto.ACL, perm int32) bool {
	return w.policy&PolicySkipACL != 0 || checkPerm(acl, perm, w.auth)
}

// CheckPerm reports whether a requester with the identities auth holds perm
// (zkproto.PermRead, ...) on a node with the given ACL, by ZooKeeper's rules.
// The frontend uses it to drop watch events for watchers without READ on the
// node (Event.ACL), as ZooKeeper does since CVE-2024-23944.
func CheckPerm(acl []zkproto.ACL, perm int32, auth []zkproto.Id) bool {
	return checkPerm(acl, perm, auth)
}

// The schemes ZooKeeper knows without extra providers.
const (
	SchemeWorld  = "world"
	SchemeAuth   = "auth"
	SchemeDigest = "digest"
	SchemeIP     = "ip"
	SchemeSuper  = "super"
	SchemeX509   = "x509"
	SchemeSASL   = "sasl"

	worldAnyone = "anyone"
)

// aclEntryView is one ACL entry decoded without copying its strings.
type aclEntryView struct {
	perms  int32
	scheme []byte
	id     []byte
}

// fixACL validates and expands a requested ACL list as ZooKeeper's fixupACL
// does, and appends the jute encoding of the result to key:
//   - duplicates (same perms, scheme and id) are dropped, the first kept;
//   - an empty list is invalid;
//   - world must name "anyone";
//   - auth expands to one entry per authenticated identity of the requester
//     (its digest identities, and x509 and sasl ones where the policy has
//     their provider; ip and super are not authenticated ones), and is
//     invalid if there is none;
//   - digest and ip ids must be well formed, x509 ids X.500 names and sasl
//     ids Kerberos-style names where the policy has those providers; any
//     other scheme is invalid.
//
// ok is false for an invalid list (INVALIDACL). acl is scratch storage.
func fixACL(key []byte, acl []aclEntryView, auth []zkproto.Id, policy WritePolicy) (_ []byte, ok bool) {
	start := len(key)
	key = zkproto.AppendInt32(key, 0) // count, patched below
	count := int32(0)
	for i := range acl {
		a := &acl[i]
		if isDuplicateACL(acl[:i], a) {
			continue
		}
		switch string(a.scheme) {
		case SchemeWorld:
			if string(a.id) != worldAnyone {
				return key[:start], false
			}
		case SchemeAuth:
			n := 0
			forAuthenticated(auth, policy, func(id *zkproto.Id) {
				key = appendACL(key, a.perms, id.Scheme, id.ID)
				n++
			})
			if n == 0 {
				return key[:start], false
			}
			count += int32(n)
			continue
		case SchemeDigest:
			if !validDigestID(a.id) {
				return key[:start], false
			}
		case SchemeIP:
			if !validIPExpr(string(a.id)) {
				return key[:start], false
			}
		case SchemeX509:
			if policy&PolicyX509 == 0 || !validX500Name(a.id) {
				return key[:start], false
			}
		case SchemeSASL:
			if policy&PolicySASL == 0 || !validKerberosName(a.id) {
				return key[:start], false
			}
		default:
			return key[:start], false
		}
		key = appendACL(key, a.perms, a.scheme, a.id)
		count++
	}
	if count == 0 {
		return key[:start], false
	}
	zkproto.AppendInt32(key[start:start], count)
	return key, true
}

func isDuplicateACL(before []aclEntryView, a *aclEntryView) bool {
	for i := range before {
		b := &before[i]
		if b.perms == a.perms && string(b.scheme) == string(a.scheme) && string(b.id) == string(a.id) {
			return true
		}
	}
	return false
}

func appendACL[S byteString](b []byte, perms int32, scheme, id S) []byte {
	b = zkproto.AppendInt32(b, perms)
	b = zkproto.AppendInt32(b, int32(len(scheme)))
	b = append(b, scheme...)
	b = zkproto.AppendInt32(b, int32(len(id)))
	return append(b, id...)
}

// decodeACLViews reads a jute ACL vector from d into dst without copying
// strings. A null vector reads as empty.
func decodeACLViews(d *zkproto.Decoder, dst []aclEntryView) []aclEntryView {
	dst = dst[:0]
	n := d.Int32()
	if d.Err() != nil || n <= 0 {
		return dst
	}
	// Each entry takes at least 12 bytes; a count beyond that is a lie that
	// the reads below will catch without our allocating for it.
	for i := int32(0); i < n && d.Err() == nil; i++ {
		var a aclEntryView
		a.perms = d.Int32()
		a.scheme = d.BytesView()
		a.id = d.BytesView()
		dst = append(dst, a)
	}
	return dst
}

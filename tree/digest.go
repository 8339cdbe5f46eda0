package tree

// The digest summarises the whole state in 64 bits so replicas can compare
// their states at an op-number. It is the sum (mod 2^64) of one hash per node
// (its path, data, stat, ACL and null flag), one per session (id, timeout,
// password, last renewal and duplicate-table entry) and one of the counters,
// so equal states have equal digests whatever their histories, and each
// change updates it in O(1): subtract the old hash, add the new.

// nodeContrib is a node's share of the digest. The path and data enter
// through n.h, so a stat change costs no rehashing of the data.
func (t *Tree) nodeContrib(n *node) uint64 {
	return hashWords(n.h,
		uint64(n.czxid), uint64(n.mzxid), uint64(n.pzxid),
		uint64(n.ctime), uint64(n.mtime), uint64(n.owner),
		uint64(uint32(n.version))|uint64(uint32(n.creates))<<32,
		uint64(uint32(n.aversion))|uint64(uint32(n.numChildren()))<<32,
		t.acls.hash(n.aclIndex())^uint64(n.aclRef&dataNullBit))
}

// nodeHash is the hash of a node's path and data that n.h caches.
func nodeHash[P, D byteString](path P, data D) uint64 {
	return hashBytes(hashBytes(0, path), data)
}

// Digest returns the digest of the whole state: equal for equal states.
func (t *Tree) Digest() uint64 {
	return t.nodeSum + t.sessionSum + hashWords(0,
		uint64(t.lastZxid), uint64(t.now), uint64(t.lastSessionID), uint64(t.nodeCount))
}

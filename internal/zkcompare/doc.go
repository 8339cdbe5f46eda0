// Package zkcompare compares two recordings of the same client scenario
// (golden files of internal/zkrecord), one against Apache ZooKeeper and one
// against vrkeeper, after normalising what legitimately differs between two
// servers and two runs.
//
// Every frame is decoded with zkproto and rendered as text. The rendering
// normalises: reply-header zxids (to "z"), the zxids in a Stat (renamed Z1,
// Z2, … in order of first appearance, so equalities between them are kept),
// times, session ids (S1, S2, …, wherever they appear: handshakes and
// ephemeral owners), session passwords (P1, P2, …), lastZxidSeen and
// setWatches' relative zxid, a client's xids when they start from the clock
// (the C client), the random part of go-zookeeper's protected names, and
// the order of children and ephemerals lists (ZooKeeper returns its hash
// set's order, vrkeeper sorts them; a documented difference). Pings are
// left out: when they happen depends on time.
//
// Each connection's frames are then compared in order, since within a
// connection the order is the protocol's promise (replies in request order,
// an event before the reply that reflects it). Frames of different
// connections are not ordered against each other. The clients' printed
// output is compared per call with every number masked, as a check that no
// client saw an error the frames do not show. See docs/compat.md.
package zkcompare

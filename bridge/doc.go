// Package bridge is a vrkeeper server's node runtime: it drives the
// consensus replica (ticks from a real clock, persistence through storage,
// messages over the peer transport), applies committed commands to the
// tree, and turns ZooKeeper requests into replicated commands and back,
// with quorum-confirmed reads.
package bridge

// Package zkrecord records ZooKeeper client conversations as golden files.
//
// A [Proxy] listens on a local port, forwards every connection to a real
// ZooKeeper server and hands each frame, in both directions, to a
// [Recorder] before forwarding it, so that a frame is in the record before
// the peer can react to it. The Recorder labels each frame without decoding
// its body: a connection's first frame in each direction is the handshake
// ("connect"); a request is labelled with the opcode of its RequestHeader
// and its xid; a reply is labelled with the opcode of the request that had
// its xid (the Recorder keeps an xid -> opcode map per connection for this)
// and with its error code when it is not OK; xid -1 is a notification.
//
// The record is written in a line-oriented text format ([Write]) and read
// back by [Parse]; the format is described in zkproto/testdata/golden/README.md.
// The package knows nothing about the bodies of records on purpose: the
// golden files exist to test the codec, so the tool that makes them must
// not depend on it being right. It uses zkproto only for the names of
// opcodes and error codes in labels.
package zkrecord

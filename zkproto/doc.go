// Package zkproto is ZooKeeper's client wire protocol ("jute") written by hand:
// every record and opcode a client may send up to ZooKeeper 3.9, the error
// codes, and bounded framing.
//
// Encoding follows jute's binary archive: big-endian int32 and int64, a bool
// is one byte, a buffer or string is an int32 length and the bytes, a vector
// is an int32 count and the elements, and a length or count of -1 means null.
//
// Every record type implements [Record]: Append encodes it onto a byte slice
// and Decode reads it from a [Decoder]. A Decoder never trusts a length: each
// length and count is checked against the bytes left in the frame before
// anything is allocated, so a hostile frame costs at most a small constant
// multiple of its own size, and a malformed one returns an error, never a
// panic. Decoding into a record that is reused keeps its slices' capacity, so
// a steady stream of requests decodes without allocating beyond the strings
// the caller keeps.
//
// Null and empty: a null buffer (-1) decodes to a nil []byte and an empty one
// to a non-nil empty slice, and both encode back as they came, because
// ZooKeeper stores and returns the difference (a node created with null data
// reads back as -1). Strings and vectors have no null in Go: -1 decodes to ""
// or nil, and "" and nil encode as length 0, as go-zookeeper writes them.
// The exception is ReconfigRequest, whose strings carry a null flag because
// clients send null there and ZooKeeper reads meaning into it.
package zkproto

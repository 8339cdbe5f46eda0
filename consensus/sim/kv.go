package sim

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"maps"
)

// opKind is a client operation of the key-value model.
type opKind uint8

const (
	opPut    opKind = iota + 1 // set key to value
	opAppend                   // append value to key
	opGet                      // read key (quorum-read path, never logged)
)

func (k opKind) String() string {
	switch k {
	case opPut:
		return "put"
	case opAppend:
		return "append"
	case opGet:
		return "get"
	}
	return "?"
}

// command is a client write; it carries its own id (client, seq) so the
// state machine can drop re-submitted duplicates.
type command struct {
	client uint32
	seq    uint32
	kind   opKind
	key    uint8
	value  string
}

func (c command) encode() []byte {
	b := make([]byte, 10, 10+len(c.value))
	binary.BigEndian.PutUint32(b[0:], c.client)
	binary.BigEndian.PutUint32(b[4:], c.seq)
	b[8], b[9] = byte(c.kind), c.key
	return append(b, c.value...)
}

func decodeCommand(b []byte) (command, error) {
	if len(b) < 10 {
		return command{}, fmt.Errorf("sim: command of %d bytes", len(b))
	}
	return command{
		client: binary.BigEndian.Uint32(b[0:]),
		seq:    binary.BigEndian.Uint32(b[4:]),
		kind:   opKind(b[8]),
		key:    b[9],
		value:  string(b[10:]),
	}, nil
}

// kvState is the replicated state machine: keys, per-client last applied seq
// (duplicate suppression), the last applied op and a digest chained over
// every applied op and its effect.
type kvState struct {
	data    map[uint8]string
	lastSeq map[uint32]uint32
	op      uint64
	digest  uint64
}

func newKV() *kvState {
	return &kvState{data: map[uint8]string{}, lastSeq: map[uint32]uint32{}}
}

func (s *kvState) clone() *kvState {
	return &kvState{data: maps.Clone(s.data), lastSeq: maps.Clone(s.lastSeq), op: s.op, digest: s.digest}
}

// apply executes the command at op and reports whether it took effect (false
// for a duplicate).
func (s *kvState) apply(op uint64, c command) bool {
	if op != s.op+1 {
		panic(fmt.Sprintf("sim: apply op %d after %d", op, s.op))
	}
	s.op = op
	fresh := c.seq > s.lastSeq[c.client]
	if fresh {
		s.lastSeq[c.client] = c.seq
		switch c.kind {
		case opPut:
			s.data[c.key] = c.value
		case opAppend:
			s.data[c.key] += c.value
		}
	}
	h := fnv.New64a()
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], s.digest)
	h.Write(b[:])
	binary.BigEndian.PutUint64(b[:], op)
	h.Write(b[:])
	h.Write(c.encode())
	if fresh {
		h.Write([]byte{1})
	}
	s.digest = h.Sum64()
	return fresh
}

package sim

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"slices"
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

// encode is the snapshot of the state: op, digest, then the keys and the
// clients' last sequence numbers in increasing order (deterministic bytes).
func (s *kvState) encode() []byte {
	b := binary.BigEndian.AppendUint64(nil, s.op)
	b = binary.BigEndian.AppendUint64(b, s.digest)
	keys := slices.Sorted(maps.Keys(s.data))
	b = binary.BigEndian.AppendUint32(b, uint32(len(keys)))
	for _, k := range keys {
		b = append(b, k)
		b = binary.BigEndian.AppendUint32(b, uint32(len(s.data[k])))
		b = append(b, s.data[k]...)
	}
	clients := slices.Sorted(maps.Keys(s.lastSeq))
	b = binary.BigEndian.AppendUint32(b, uint32(len(clients)))
	for _, c := range clients {
		b = binary.BigEndian.AppendUint32(b, c)
		b = binary.BigEndian.AppendUint32(b, s.lastSeq[c])
	}
	return b
}

// decodeKV reads a snapshot written by encode.
func decodeKV(r io.Reader) (*kvState, error) {
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	bad := fmt.Errorf("sim: malformed key-value snapshot of %d bytes", len(b))
	take := func(n int) []byte {
		if n > len(b) {
			b = nil
			return nil
		}
		v := b[:n]
		b = b[n:]
		return v
	}
	u32 := func() (uint32, bool) {
		v := take(4)
		if v == nil {
			return 0, false
		}
		return binary.BigEndian.Uint32(v), true
	}
	head := take(16)
	if head == nil {
		return nil, bad
	}
	s := newKV()
	s.op, s.digest = binary.BigEndian.Uint64(head), binary.BigEndian.Uint64(head[8:])
	nk, ok := u32()
	for i := uint32(0); ok && i < nk; i++ {
		k := take(1)
		var n uint32
		if n, ok = u32(); k == nil || !ok {
			return nil, bad
		}
		v := take(int(n))
		if v == nil && n > 0 {
			return nil, bad
		}
		s.data[k[0]] = string(v)
	}
	nc, ok2 := u32()
	if !ok || !ok2 {
		return nil, bad
	}
	for i := uint32(0); i < nc; i++ {
		c, ok1 := u32()
		q, ok2 := u32()
		if !ok1 || !ok2 {
			return nil, bad
		}
		s.lastSeq[c] = q
	}
	if len(b) != 0 {
		return nil, bad
	}
	return s, nil
}

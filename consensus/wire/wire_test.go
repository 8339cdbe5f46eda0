package wire

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/vrkeeper/vrkeeper/consensus"
)

func wireSamples() []consensus.Message {
	h := consensus.Header{Epoch: 2, View: 7}
	es := []consensus.Entry{{Op: 11, View: 6, Cmd: []byte("a")}, {Op: 12, View: 7, Cmd: []byte{}}, {Op: 13, View: 7, Cmd: []byte("ccc")}}
	snap := &consensus.Snapshot{Op: 10, View: 5, Data: SnapshotRef{Op: 10, View: 5}}
	return []consensus.Message{
		&consensus.Prepare{Header: h, After: 10, Entries: es, Commit: 9, GlobalMinAccept: 8, ReadRound: 3,
			Lease: consensus.LeaseGrant{Req: 5, Nanos: 100e6}},
		&consensus.Prepare{Header: h, After: 13, Entries: []consensus.Entry{}, Commit: 13},
		&consensus.PrepareOk{Header: h, Op: 13, Gap: true, ReadRound: 3, LeaseReq: 6, Promise: 4e9},
		&consensus.Commit{Header: h, Commit: 13, GlobalMinAccept: 12, ReadRound: 4, Lease: consensus.LeaseGrant{Req: 6, Nanos: 99e6}},
		&consensus.CommitOk{Header: h, Op: 13, Commit: 13, ReadRound: 4, LeaseReq: 7, Promise: 4e9},
		&consensus.StartViewChange{Header: h},
		&consensus.PreViewChange{Header: h},
		&consensus.PreViewChangeOk{Header: h},
		&consensus.DoViewChange{Header: h, LastNormalView: 6, Op: 13, Commit: 9, GlobalMinAccept: 8, After: 10, AfterView: 6, Entries: es},
		&consensus.StartView{Header: h, Op: 13, Commit: 9, GlobalMinAccept: 8, After: 10, AfterView: 6, Entries: es},
		// The first part of a StartView whose suffix runs to op 20.
		&consensus.StartView{Header: h, Op: 20, Commit: 9, GlobalMinAccept: 8, After: 10, AfterView: 6, Bytes: 40, Sum: 0xfeedface, Entries: es},
		&consensus.DoViewChange{Header: h, LastNormalView: 6, Op: 20, Commit: 9, GlobalMinAccept: 8, After: 8, AfterView: 6, Bytes: 40, Sum: 0xfeedface, Entries: es},
		&consensus.GetState{Header: h, Op: 9},
		&consensus.NewState{Header: h, Snapshot: snap, Op: 13, Commit: 13, GlobalMinAccept: 10, After: 10, AfterView: 5, Entries: es},
		&consensus.NewState{Header: h, Op: 13, Commit: 13, After: 10, Entries: es},
		&consensus.Recovery{Header: h, Nonce: 0xdeadbeef},
		&consensus.RecoveryResponse{Header: h, Nonce: 0xdeadbeef, Primary: true, Snapshot: snap, Op: 13, Commit: 12, GlobalMinAccept: 10, After: 10, Entries: es},
		&consensus.RecoveryResponse{Header: h, Nonce: 1},
		&consensus.Forward{Header: h, Cmds: [][]byte{[]byte("x"), {}, []byte("yz")}},
		&consensus.ReadIndexRequest{Header: h, Seq: 99},
		&consensus.ReadIndexResponse{Header: h, Seq: 99, Op: 13},
	}
}

func TestWireRoundTrip(t *testing.T) {
	for _, m := range wireSamples() {
		frame, err := Encode(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(frame)
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		if !reflect.DeepEqual(normalize(got), normalize(m)) {
			t.Fatalf("round trip of %s gave %s", m, got)
		}
	}
}

// normalize makes nil and empty entry lists and commands compare equal.
func normalize(m consensus.Message) string { return m.String() + "|" + detail(m) }

func detail(m consensus.Message) string {
	es := EntriesOf(m)
	switch m := m.(type) {
	case *consensus.Forward:
		s := ""
		for _, c := range m.Cmds {
			s += string(c) + ","
		}
		return s
	}
	s := ""
	for _, e := range es {
		s += string(rune('0'+e.Op%10)) + string(e.Cmd) + ","
	}
	return s
}

// TestWireHostile: every truncation and every byte flip of every sample
// decodes to an error or a message, never a panic.
func TestWireHostile(t *testing.T) {
	for _, m := range wireSamples() {
		frame, _ := Encode(nil, m)
		for cut := 0; cut < len(frame); cut++ {
			if _, err := Decode(frame[:cut]); err == nil {
				t.Fatalf("%s truncated to %d bytes decoded", m, cut)
			}
		}
		for i := range frame {
			b := append([]byte(nil), frame...)
			b[i] ^= 0xff
			Decode(b)
		}
	}
	if _, err := Decode(append([]byte{msgForward}, make([]byte, 16)...)[:17]); err == nil {
		// a Forward with no count field
		t.Fatal("short forward decoded")
	}
}

func FuzzDecodeMessage(f *testing.F) {
	for _, m := range wireSamples() {
		frame, _ := Encode(nil, m)
		f.Add(frame)
	}
	f.Fuzz(func(t *testing.T, frame []byte) {
		m, err := Decode(frame)
		if err != nil {
			return
		}
		again, err := Encode(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Decode(again); err != nil {
			t.Fatalf("re-encoded %s does not decode: %v", m, err)
		}
	})
}

// fill sets every exported field of v (recursively) to a random non-zero
// value, so that a field the codec forgets shows up in the round trip.
func fill(rng *rand.Rand, v reflect.Value) {
	switch v.Kind() {
	case reflect.Pointer:
		if v.Type() == reflect.TypeOf(&consensus.Snapshot{}) {
			op, view := rng.Uint64(), rng.Uint64()
			v.Set(reflect.ValueOf(&consensus.Snapshot{Op: op, View: view, Data: SnapshotRef{Op: op, View: view}}))
			return
		}
		v.Set(reflect.New(v.Type().Elem()))
		fill(rng, v.Elem())
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				fill(rng, v.Field(i))
			}
		}
	case reflect.Uint64:
		v.SetUint(rng.Uint64() | 1)
	case reflect.Int, reflect.Int64:
		v.SetInt(rng.Int64N(1<<40) + 1)
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Slice:
		n := 3
		s := reflect.MakeSlice(v.Type(), n, n)
		for i := range n {
			fill(rng, s.Index(i))
		}
		v.Set(s)
	}
}

// TestWireCoversEveryField: every field of every message type, set to a
// random value, survives the round trip. The entries of a run are made
// consecutive first, as the core requires.
func TestWireCoversEveryField(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, sample := range wireSamples() {
		typ := reflect.TypeOf(sample).Elem()
		m := reflect.New(typ)
		fill(rng, m.Elem())
		if f := m.Elem().FieldByName("Entries"); f.IsValid() {
			after := m.Elem().FieldByName("After").Uint()
			for i := 0; i < f.Len(); i++ {
				f.Index(i).FieldByName("Op").SetUint(after + 1 + uint64(i))
			}
		}
		msg := m.Interface().(consensus.Message)
		frame, err := Encode(nil, msg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := Decode(frame)
		if err != nil {
			t.Fatalf("%T: %v", msg, err)
		}
		if !reflect.DeepEqual(got, msg) {
			t.Fatalf("%T lost a field:\n got %+v\nwant %+v", msg, got, msg)
		}
	}
}

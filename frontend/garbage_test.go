package frontend

import (
	"math/rand/v2"
	"testing"
	"time"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// TestGarbageRequests sends many mutated requests of every opcode (valid
// frames, hostile bodies: flipped bytes, huge lengths, truncations) and
// checks that every one is answered in order or the connection is closed,
// and that the server keeps serving.
func TestGarbageRequests(t *testing.T) {
	addr := startServer(t, nil)
	rng := rand.New(rand.NewPCG(7, 11))
	valid := map[zkproto.OpCode]zkproto.Record{
		zkproto.OpCreate:      &zkproto.CreateRequest{Path: "/g", Data: []byte("x"), ACL: open},
		zkproto.OpCreate2:     &zkproto.CreateRequest{Path: "/g2", ACL: open, Flags: zkproto.ModeEphemeral},
		zkproto.OpCreateTTL:   &zkproto.CreateTTLRequest{Path: "/t", ACL: open, Flags: zkproto.ModePersistentWithTTL, TTL: 100},
		zkproto.OpDelete:      &zkproto.DeleteRequest{Path: "/g", Version: -1},
		zkproto.OpSetData:     &zkproto.SetDataRequest{Path: "/g", Data: []byte("y"), Version: -1},
		zkproto.OpGetData:     &zkproto.GetDataRequest{Path: "/g", Watch: true},
		zkproto.OpGetChildren: &zkproto.GetChildrenRequest{Path: "/", Watch: true},
		zkproto.OpSetACL:      &zkproto.SetACLRequest{Path: "/g", ACL: open, Version: -1},
		zkproto.OpMulti: &zkproto.MultiRequest{Ops: []zkproto.MultiOp{
			{Type: zkproto.OpCreate, Body: &zkproto.CreateRequest{Path: "/m", ACL: open}},
			{Type: zkproto.OpDelete, Body: &zkproto.DeleteRequest{Path: "/m", Version: -1}},
		}},
		zkproto.OpMultiRead:   &zkproto.MultiRequest{Ops: []zkproto.MultiOp{{Type: zkproto.OpGetData, Body: &zkproto.GetDataRequest{Path: "/"}}}},
		zkproto.OpSetWatches2: &zkproto.SetWatches2{DataWatches: []string{"/a"}, PersistentWatches: []string{"/"}},
		zkproto.OpAddWatch:    &zkproto.AddWatchRequest{Path: "/", Mode: zkproto.AddWatchPersistentRecursive},
		zkproto.OpAuth:        &zkproto.AuthPacket{Scheme: "digest", Auth: []byte("u:p")},
		zkproto.OpReconfig:    &zkproto.ReconfigRequest{CurConfigID: -1},
		zkproto.OpCheck:       &zkproto.CheckVersionRequest{Path: "/g", Version: 1},
	}
	var ops []zkproto.OpCode
	for op := range valid {
		ops = append(ops, op)
	}
	for round := 0; round < 40; round++ {
		r := newSession(t, addr)
		r.nc.SetDeadline(time.Now().Add(30 * time.Second))
		var sent []int32
		for i := 0; i < 50; i++ {
			op := ops[rng.IntN(len(ops))]
			body := zkproto.Marshal(valid[op])
			switch rng.IntN(4) {
			case 0: // flip bytes
				for k := 0; k < 1+rng.IntN(4) && len(body) > 0; k++ {
					body[rng.IntN(len(body))] ^= byte(1 + rng.IntN(255))
				}
			case 1: // a hostile length somewhere
				if len(body) >= 4 {
					p := rng.IntN(len(body) - 3)
					copy(body[p:], []byte{0x7f, 0xff, 0xff, 0xff})
				}
			case 2: // truncate
				body = body[:rng.IntN(len(body)+1)]
			}
			r.xid++
			frame := zkproto.AppendRequestFrame(nil, &zkproto.RequestHeader{Xid: r.xid, Type: op}, nil)
			frame = append(frame, body...)
			frame = zkproto.FinishFrame(frame, 0)
			if _, err := r.nc.Write(frame); err != nil {
				break // the server closed the connection: allowed
			}
			sent = append(sent, r.xid)
		}
		// Every reply that comes must be in order; the connection may close.
		next := 0
		for next < len(sent) {
			f, err := r.fr.ReadFrame()
			if err != nil {
				break
			}
			var h zkproto.ReplyHeader
			zkproto.Unmarshal(f, &h)
			if h.Xid == zkproto.NotificationXid || h.Xid == zkproto.AuthXid {
				continue
			}
			if h.Xid != sent[next] {
				t.Fatalf("round %d: reply xid %d, want %d", round, h.Xid, sent[next])
			}
			next++
		}
		r.nc.Close()
	}
	ok := newSession(t, addr)
	if code, _ := ok.call(zkproto.OpExists, &zkproto.ExistsRequest{Path: "/"}, nil); code != zkproto.OK {
		t.Fatalf("server after garbage: %v", code)
	}
}

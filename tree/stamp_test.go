package tree

import (
	"bytes"
	"testing"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// TestStampTime: the primary's stamp replaces the time of every kind of
// command, in both formats, and changes nothing else.
func TestStampTime(t *testing.T) {
	write := &ClientWrite{SessionID: 7, Cxid: 3, Owner: 9, Seq: 4, Time: 111, Op: zkproto.OpCreate, Body: []byte("body"),
		Auth: []zkproto.Id{{Scheme: "ip", ID: "127.0.0.1"}}}
	format1 := AppendClientWrite(nil, write)
	format1 = append([]byte{commandFormat1, byte(KindClientWrite)}, format1[2:2+12]...)
	format1 = append(format1, AppendClientWrite(nil, write)[2+12+16:]...)
	cmds := map[string][]byte{
		"client write":            AppendClientWrite(nil, write),
		"client write (format 1)": format1,
		"open":                    AppendOwnedOpenSession(nil, 111, 5000, []byte("0123456789abcdef"), 9),
		"expire":                  AppendExpireSessions(nil, 111, []int64{1, 2}),
		"renew":                   AppendRenewSessions(nil, 111, []int64{1}),
		"attach":                  AppendAttachSession(nil, 111, 7, 9),
		"cleanup":                 AppendCleanup(nil, 111, 5000),
	}
	for name, cmd := range cmds {
		orig := bytes.Clone(cmd)
		var before, after Command
		if err := DecodeCommand(cmd, &before); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		stamped := StampTime(cmd, 222)
		if !bytes.Equal(cmd, orig) {
			t.Fatalf("%s: the original command was modified", name)
		}
		if err := DecodeCommand(stamped, &after); err != nil {
			t.Fatalf("%s stamped: %v", name, err)
		}
		if before.Time != 111 || after.Time != 222 {
			t.Fatalf("%s: time %d, stamped %d", name, before.Time, after.Time)
		}
		if !bytes.Equal(StampTime(stamped, 111), orig) {
			t.Fatalf("%s: stamping back does not give the original", name)
		}
	}
	if got := StampTime([]byte{9, 9}, 1); !bytes.Equal(got, []byte{9, 9}) {
		t.Fatalf("a malformed command changed: %v", got)
	}
}

package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vrkeeper/vrkeeper/internal/zkraw"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// ZooKeeper's request size limit, recorded from Apache ZooKeeper 3.8.0
// (Debian's package, default jute.maxbuffer, no -D settings) standalone and
// on a follower and the leader of a three-server ensemble, with a raw
// client that sends setData and create requests of every frame length
// around the limit:
//
//   - a request whose frame (header and body, without the 4-byte length)
//     is at most jute.maxbuffer = 0xfffff = 1,048,575 bytes is served, on
//     every server: a setData of 1,047,555 bytes on a 1000-byte path, or
//     1,048,553 bytes on "/x", is the largest;
//   - one byte more and the server closes the connection without an
//     answer ("Len error"), and goes on serving everyone else;
//   - identities added by digest auth do not count against the limit:
//     after four auth packets of 400,000-byte user names the largest
//     setData is still served through a follower (vrkeeper bounds a
//     connection's identities at jute.maxbuffer bytes; see docs/compat.md).
const (
	zkMaxFrame         = 0xfffff
	zkLargestOn1000    = 1_047_555 // setData bytes on a 1000-byte path
	zkLargestOnShort   = 1_048_553 // setData bytes on "/x"
	issueExampleOn1000 = 1_047_534 // issue 10's examples, both within the limit
	issueExampleBackup = 1_048_531
)

// setDataFrame returns the frame length of a setData of n bytes on path.
func setDataFrame(path string, n int) int {
	return zkproto.RequestHeaderSize + 4 + len(path) + 4 + n + 4
}

// TestLargestRequestServed: every request ZooKeeper serves is served, on one
// server and on every server of three (a backup forwards it to the
// primary), and a frame one byte over the limit closes only its own
// connection.
func TestLargestRequestServed(t *testing.T) {
	long := "/" + strings.Repeat("p", 999)
	if setDataFrame(long, zkLargestOn1000) != zkMaxFrame || setDataFrame("/x", zkLargestOnShort) != zkMaxFrame {
		t.Fatal("the recorded sizes do not fill a frame of jute.maxbuffer bytes")
	}
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d_servers", n), func(t *testing.T) {
			c := startCluster(t, n)
			vias := map[string]int{"standalone": 0}
			if n == 3 {
				vias = map[string]int{"backup": c.withMode("follower"), "primary": c.withMode("leader")}
			}
			for via, i := range vias {
				addr := c.servers[i].clientAddr
				for _, tc := range []struct {
					path string
					n    int
				}{
					{long, issueExampleOn1000},
					{"/x", issueExampleBackup},
					{long, zkLargestOn1000},
					{"/x", zkLargestOnShort},
				} {
					setLarge(t, via, addr, tc.path, tc.n)
				}
				tooLargeClosesOnlyItsConnection(t, via, addr)
			}
		})
	}
}

// setLarge sets n bytes on path through addr and checks the stored length.
func setLarge(t *testing.T, via, addr, path string, n int) {
	t.Helper()
	withRetries(t, via, addr, func(s *zkraw.Conn) (string, error) {
		create := zkproto.CreateRequest{Path: path, ACL: worldAll}
		if r, err := s.Call(zkproto.OpCreate, &create); err != nil || (r.Header.Err != zkproto.OK && r.Header.Err != zkproto.ErrNodeExists) {
			return fmt.Sprintf("create %d-byte path: %+v", len(path), r.Header), err
		}
		r, err := s.Call(zkproto.OpSetData, &zkproto.SetDataRequest{Path: path, Data: make([]byte, n), Version: -1})
		if err != nil || r.Header.Err != zkproto.OK {
			return fmt.Sprintf("setData of %d bytes on a %d-byte path (frame %d): %+v", n, len(path), setDataFrame(path, n), r.Header), err
		}
		r, err = s.Call(zkproto.OpExists, &zkproto.ExistsRequest{Path: path})
		var st zkproto.ExistsResponse
		if err != nil || r.Header.Err != zkproto.OK || zkproto.Unmarshal(r.Body, &st) != nil || st.Stat.DataLength != int32(n) {
			return fmt.Sprintf("after setData of %d bytes: %+v, length %d", n, r.Header, st.Stat.DataLength), err
		}
		return "", nil
	})
}

// withRetries runs step on a new session through addr until it succeeds
// (it returns ""), fails on an answer (it returns what failed with a nil
// error), or a minute has passed. A lost connection (an error) is retried,
// as a ZooKeeper client does: a view change on a loaded machine closes the
// connections that have reads or writes in flight.
func withRetries(t *testing.T, via, addr string, step func(*zkraw.Conn) (string, error)) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		s, err := zkraw.Dial(addr, 10*time.Second)
		var failed string
		if err == nil {
			failed, err = step(s)
			s.Close()
		}
		switch {
		case err == nil && failed == "":
			return
		case err == nil:
			t.Fatalf("%s: %s", via, failed)
		case time.Now().After(deadline):
			t.Fatalf("%s: %s: connection lost for a minute: %v", via, failed, err)
		}
		t.Logf("%s: %s: connection lost (%v), trying again", via, failed, err)
	}
}

// tooLargeClosesOnlyItsConnection sends a frame one byte over the limit
// behind a pending write of another session: the big one's connection is
// closed unanswered, and everything else is served.
func tooLargeClosesOnlyItsConnection(t *testing.T, via, addr string) {
	t.Helper()
	big, err := zkraw.Dial(addr, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer big.Close()
	r, err := big.Call(zkproto.OpSetData, &zkproto.SetDataRequest{Path: "/x", Data: make([]byte, zkLargestOnShort+1), Version: -1})
	if err == nil {
		t.Fatalf("%s: a frame of %d bytes was answered: %+v", via, zkMaxFrame+1, r.Header)
	}
	withRetries(t, via, addr, func(s *zkraw.Conn) (string, error) {
		if r, err := s.Call(zkproto.OpSetData, &zkproto.SetDataRequest{Path: "/x", Data: []byte("small"), Version: -1}); err != nil || r.Header.Err != zkproto.OK {
			return fmt.Sprintf("a write after the too-large request: %+v", r.Header), err
		}
		return "", nil
	})
}

// worldAll is the open ACL in zkproto's types.
var worldAll = []zkproto.ACL{{Perms: zkproto.PermAll, ID: zkproto.Id{Scheme: "world", ID: "anyone"}}}

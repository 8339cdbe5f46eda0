package integration

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// zkCliStep is one zkCli command and the lines it prints, masked by
// maskIDs. want nil means the output is not checked (it is shown on a
// failure).
type zkCliStep struct {
	cmd  string
	want []string
}

// zkCliSentinel is a command that needs no server and prints a line to
// wait for: zkCli runs one command at a time, so once this line is out,
// the command before it has finished.
const zkCliSentinel = "printwatches"

// runZkCli runs the steps in one zkCli.sh session against addr and
// returns each step's masked output lines, then the lines printed after
// the last step (by quit).
func runZkCli(t *testing.T, addr string, steps []zkCliStep) [][]string {
	t.Helper()
	return runZkCliEnv(t, nil, addr, steps)
}

// runZkCliEnv is runZkCli with more environment for zkCli.sh
// (CLIENT_JVMFLAGS for TLS and SASL).
func runZkCliEnv(t *testing.T, env []string, addr string, steps []zkCliStep) [][]string {
	t.Helper()
	needFile(t, zkCliPath, "zookeeper")
	sh := startInteractiveEnv(t, env, zkCliPath, "-server", addr)
	var outs [][]string
	for _, s := range steps {
		sh.send(s.cmd)
		sh.send(zkCliSentinel)
		lines := sh.readUntil("the end of "+s.cmd, func(l string) bool { return strings.HasPrefix(l, "printwatches is ") })
		outs = append(outs, zkCliOutput(lines))
	}
	sh.send("quit")
	sh.stdin.Close()
	var rest []string
	for l := range sh.lines {
		rest = append(rest, l)
	}
	return append(outs, zkCliOutput(rest))
}

// zkCliOutput masks a command's output lines and drops what is not output:
// zkCli's banner, logging and empty lines.
func zkCliOutput(lines []string) []string {
	var kept []string
	for _, l := range lines {
		if t := strings.TrimSpace(l); t == "" || strings.HasPrefix(t, "SLF4J:") || strings.HasPrefix(t, "Connecting to ") ||
			strings.HasPrefix(t, "Welcome to ZooKeeper") || strings.HasPrefix(t, "JLine support") {
			continue
		}
		kept = append(kept, maskIDs(l))
	}
	return kept
}

// TestZkCli runs zkCli.sh commands, as an operator types them, and checks
// what it prints: create in every mode (-s -e -c -t), get/set/stat with
// versions, ls -s/-R, ACLs with setAcl/getAcl/addauth and digest, whoami,
// getEphemerals, getAllChildrenNumber, deleteall, sync, addWatch and
// one-shot watches firing, close and connect, and the errors of each. The
// expected lines were taken from a run against ZooKeeper 3.8.
func TestZkCli(t *testing.T) {
	forSizes(t, func(t *testing.T, c *cluster) {
		steps := zkCliSteps
		outs := runZkCli(t, c.servers[len(c.servers)-1].clientAddr, steps)
		// Watch events are printed by zkCli's event thread, during whichever
		// command runs then: they are checked apart, in their order.
		var events []string
		for i, out := range outs {
			var rest []string
			for _, l := range out {
				switch {
				case strings.HasPrefix(l, "WatchedEvent "):
					events = append(events, l)
				case l != "WATCHER::":
					rest = append(rest, l)
				}
			}
			if i == len(steps) {
				break // what quit printed
			}
			if !slices.Equal(rest, steps[i].want) {
				t.Errorf("%s:\n  got  %q\n  want %q", steps[i].cmd, rest, steps[i].want)
			}
		}
		if !slices.Equal(events, zkCliEvents) {
			t.Errorf("watch events:\n  got  %q\n  want %q", events, zkCliEvents)
		}
		// zkCli's close ended its session: its ephemerals are gone, for
		// every client of every server.
		s := connect(t, 10*time.Second, c.servers[0].clientAddr)
		syncForZooKeeper(s, "/zc")
		children, _, err := s.Children("/zc")
		slices.Sort(children)
		want := []string{"acl", "box", "later", "nodata", "seq-0000000000", "seq-0000000001", "ttl", "ttls-0000000006", "w"}
		if err != nil || !slices.Equal(children, want) {
			t.Errorf("children of /zc after zkCli's close: %v %v, want %v", children, err, want)
		}
	})
}

// statLines is how zkCli prints a stat, masked.
func statLines(cversion, dataVersion, aclVersion, dataLength, numChildren int) []string {
	return []string{"cZxid = 0x#", "ctime = DATE", "mZxid = 0x#", "mtime = DATE", "pZxid = 0x#",
		fmt.Sprintf("cversion = %d", cversion), fmt.Sprintf("dataVersion = %d", dataVersion),
		fmt.Sprintf("aclVersion = %d", aclVersion), "ephemeralOwner = 0x#",
		fmt.Sprintf("dataLength = %d", dataLength), fmt.Sprintf("numChildren = %d", numChildren)}
}

func lines(l ...string) []string { return l }

var zkCliSteps = []zkCliStep{
	{"create /zc root", lines("Created /zc")},
	{"create /zc root", lines("Node already exists: /zc")},
	{"create /zc/missing/child x", lines("Node does not exist: /zc/missing/child")},
	{"create -s /zc/seq- a", lines("Created /zc/seq-0000000000")},
	{"create -s /zc/seq- b", lines("Created /zc/seq-0000000001")},
	{"create -e /zc/eph e", lines("Created /zc/eph")},
	{"create -e /zc/eph/kid k", lines("Ephemerals cannot have children: /zc/eph/kid")},
	{"create -s -e /zc/es- x", lines("Created /zc/es-0000000003")},
	{"create -c /zc/box b", lines("Created /zc/box")},
	{"create -c /zc/box/item i", lines("Created /zc/box/item")},
	{"create -t 60000 /zc/ttl t", lines("Created /zc/ttl")},
	{"create -t 0 /zc/ttl0 t", lines("ttl must be positive and cannot be larger than: MS")},
	{"create -s -t 60000 /zc/ttls- t", lines("Created /zc/ttls-0000000006")},
	{"create /zc/nodata", lines("Created /zc/nodata")},
	{"get /zc/nodata", lines("null")},
	{"get /zc", lines("root")},
	{"set /zc v1", nil},
	{"set -v 1 /zc v2", nil},
	{"set -v 1 /zc v3", lines("version No is not valid : /zc")},
	{"get -s /zc", append(lines("v2"), statLines(8, 2, 0, 2, 8)...)},
	{"stat /zc/eph", statLines(0, 0, 0, 1, 0)},
	{"stat /zc/none", lines("Node does not exist: /zc/none")},
	{"get /zc/none", lines("Node does not exist: /zc/none")},
	{"ls /zc", lines("[box, eph, es-0000000003, nodata, seq-0000000000, seq-0000000001, ttl, ttls-0000000006]")},
	{"ls -s /zc/box", append(lines("[item]"), statLines(1, 0, 0, 1, 1)...)},
	{"create /zc/tree/a/b x", lines("Node does not exist: /zc/tree/a/b")},
	{"create /zc/tree t", lines("Created /zc/tree")},
	{"create /zc/tree/a a", lines("Created /zc/tree/a")},
	{"create /zc/tree/a/b b", lines("Created /zc/tree/a/b")},
	{"create /zc/tree/c c", lines("Created /zc/tree/c")},
	{"ls -R /zc/tree", lines("/zc/tree", "/zc/tree/a", "/zc/tree/c", "/zc/tree/a/b")},
	{"getAllChildrenNumber /zc/tree", lines("3")},
	{"getEphemerals /zc", lines("[/zc/eph, /zc/es-0000000003]")},
	{"delete /zc/tree", lines("Node not empty: /zc/tree")},
	{"delete -v 5 /zc/tree/c", lines("version No is not valid : /zc/tree/c")},
	{"deleteall /zc/tree", nil},
	{"ls /zc/tree", lines("Node does not exist: /zc/tree")},
	{"whoami", lines("Auth scheme: User", "ip: 127.0.0.1")},
	{"getAcl /zc", lines("'world,'anyone", ": cdrwa")},
	{"addauth digest alice:secret", nil},
	{"whoami", lines("Auth scheme: User", "digest: alice", "ip: 127.0.0.1")},
	{"create /zc/acl secret", lines("Created /zc/acl")},
	{"setAcl /zc/acl auth:alice:secret:cdrwa", nil},
	{"getAcl -s /zc/acl", append(lines("'digest,'alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=", ": cdrwa"), statLines(0, 0, 1, 6, 0)...)},
	{"setAcl -v 0 /zc/acl world:anyone:r", lines("version No is not valid : /zc/acl")},
	{"setAcl /zc/acl digest:alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=:r,ip:127.0.0.1:cdrwa", nil},
	{"getAcl /zc/acl", lines("'digest,'alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=", ": r", "'ip,'127.0.0.1", ": cdrwa")},
	{"setAcl /zc/acl world:anyone:r", nil},
	{"set /zc/acl nope", lines("Insufficient permission : /zc/acl")},
	{"setAcl /zc/acl world:anyone:cdrwa", lines("Insufficient permission : /zc/acl")},
	{"setAcl /zc/eph ip:999.1.1.1:r", lines("Acl is not valid : /zc/eph")},
	{"sync /zc", lines("Sync is OK")},
	{"create /zc/w w", lines("Created /zc/w")},
	{"get -w /zc/w", lines("w")},
	{"set /zc/w w2", nil},                          // NodeDataChanged /zc/w
	{"ls -w /zc/w", lines("[]")},                   //
	{"create /zc/w/c c", lines("Created /zc/w/c")}, // NodeChildrenChanged /zc/w
	{"stat -w /zc/later", lines("Node does not exist: /zc/later")},
	{"create /zc/later l", lines("Created /zc/later")}, // NodeCreated /zc/later
	{"addWatch -m PERSISTENT_RECURSIVE /zc/w", nil},
	{"set /zc/w/c c2", nil},      // NodeDataChanged /zc/w/c
	{"delete /zc/w/c", nil},      // NodeDeleted /zc/w/c
	{"removewatches /zc/w", nil}, // PersistentWatchRemoved /zc/w (from the client itself)
	{"removewatches /zc/nowatch", lines("KeeperErrorCode = No such watcher for /zc/nowatch")},
	{"set /zc/w w3", nil}, // no watch left: no event
	{"close", nil},        // Closed; the session's ephemerals go
}

// zkCliEvents are the watch events zkCliSteps print, in order.
var zkCliEvents = []string{
	"WatchedEvent state:SyncConnected type:None path:null",
	"WatchedEvent state:SyncConnected type:NodeDataChanged path:/zc/w",
	"WatchedEvent state:SyncConnected type:NodeChildrenChanged path:/zc/w",
	"WatchedEvent state:SyncConnected type:NodeCreated path:/zc/later",
	"WatchedEvent state:SyncConnected type:NodeDataChanged path:/zc/w/c",
	"WatchedEvent state:SyncConnected type:NodeDeleted path:/zc/w/c",
	"WatchedEvent state:SyncConnected type:PersistentWatchRemoved path:/zc/w",
	"WatchedEvent state:Closed type:None path:null",
}

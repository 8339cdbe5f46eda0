package integration

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestKazoo drives kazoo (Python) through CRUD with versions and every
// error, sequential and ephemeral nodes, one-shot watches and kazoo's
// DataWatch/ChildrenWatch, transactions, digest ACLs with a second client,
// and kazoo's Lock and Counter recipes, and compares each observation with
// what Apache ZooKeeper gives (the expected lines below were taken from a
// run against it; VRK_TARGET=zookeeper checks them again).
func TestKazoo(t *testing.T) {
	needFile(t, systemPy, "python3")
	runClient(t, systemPy, "-c", "import kazoo") // fails naming python3-kazoo's module if missing
	forSizes(t, func(t *testing.T, c *cluster) {
		out := runClient(t, systemPy, filepath.Join("testdata", "kazoo_check.py"), strings.Join(c.addrs(), ","), "/kazoo")
		checkObservations(t, observations(out), kazooWant)
	})
}

// kazooWant is what kazoo_check.py prints against ZooKeeper 3.8.
var kazooWant = []string{
	"create: /kazoo/crud",
	"create again: NodeExistsError",
	"create under a missing parent: NoNodeError",
	"create makepath: /kazoo/deep/er/node",
	"get: b'one' version=0 dataLength=3 numChildren=0",
	"set version 0: 1",
	"set stale version 0: BadVersionError",
	"set any version: 2",
	"get after sets: b'eins'",
	"exists missing: None",
	"get missing: NoNodeError",
	"delete not empty: NotEmptyError",
	"delete bad version: BadVersionError",
	"delete missing: NoNodeError",
	"delete kid: True",
	"parent after a child came and went: cversion=2 numChildren=0",
	"get_children include_data: ['er'] numChildren=1",
	"delete recursive: None",
	"exists after recursive delete: None",
	"sync: /kazoo",
	"sequential 0: /kazoo/seq/n-0000000000",
	"sequential 1: /kazoo/seq/n-0000000001",
	"sequential 2: /kazoo/seq/n-0000000002",
	"ephemeral sequential: /kazoo/seq/e-0000000003",
	"children: ['e-0000000003', 'n-0000000000', 'n-0000000001', 'n-0000000002']",
	"ephemeral owner is this session: True",
	"create under an ephemeral: NoChildrenForEphemeralsError",
	"seen by this session: True",
	"watch on the other session's ephemeral: DELETED /kazoo/eph/mine",
	"after the other session closed: None",
	"one-shot events: ['CHANGED /kazoo/watch', 'CHILD /kazoo/watch', 'CREATED /kazoo/watch/later', 'DELETED /kazoo/watch/later']",
	"events after a second change: 4",
	"DataWatch: [(b'2', None), (b'3', 'CHANGED')]",
	"ChildrenWatch: [['c'], ['c', 'd']]",
	"transaction: ['/kazoo/txn/a', 'stat version=1', True, '/kazoo/txn/b', True]",
	"failed transaction: ['RolledBackError', 'BadVersionError', 'RuntimeInconsistency']",
	"nothing of it applied: (None, b'a2')",
	"get_acls: [(31, 'digest', 'alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=')]",
	"owner reads: b'private'",
	"stranger reads: NoAuthError",
	"stranger writes: NoAuthError",
	"stranger lists (no read permission): NoAuthError",
	"stranger deletes a child it cannot see: NoAuthError",
	"with the wrong password: NoAuthError",
	"with the right password: b'private'",
	"aversion after set_acls: 1",
	"owner writes a read-only node: NoAuthError",
	"set_acls with a stale version: NoAuthError",
	"lock errors: []",
	"value after 20 locked increments: b'20'",
	"lock nodes left: []",
	"counter: 3",
	"done: True",
}

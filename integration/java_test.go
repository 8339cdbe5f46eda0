package integration

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// javaClasspath is ZooKeeper's Java client and Curator, with what they
// need at run time, from Debian's packages.
func javaClasspath() string {
	var cp []string
	for _, j := range []string{"zookeeper", "zookeeper-jute", "curator-client", "curator-framework", "curator-recipes",
		"guava", "jackson-databind", "jackson-core", "jackson-annotations", "slf4j-api", "slf4j-nop",
		"netty-handler", "netty-common", "netty-buffer", "netty-transport", "netty-transport-native-epoll",
		"netty-transport-native-unix-common", "netty-codec", "netty-resolver", "metrics-core", "snappy-java"} {
		cp = append(cp, filepath.Join(javaLibPath, j+".jar"))
	}
	return strings.Join(cp, ":")
}

// TestJavaClients compiles testdata/ClientCheck.java against Debian's
// ZooKeeper and Curator jars and runs it: ZooKeeper's own client through
// every call, its errors, its watches (one-shot, persistent recursive,
// removed), ACLs with a second session and a session resumed by a new
// handle, on one server and on three; and Curator's recipes
// (InterProcessMutex, DistributedAtomicLong, LeaderLatch, CuratorCache)
// with clients spread over three servers. The expected lines were taken
// from runs against ZooKeeper 3.8.
func TestJavaClients(t *testing.T) {
	for _, f := range []struct{ path, pkg string }{
		{filepath.Join(javaLibPath, "zookeeper.jar"), "libzookeeper-java"},
		{filepath.Join(javaLibPath, "curator-recipes.jar"), "libcurator-recipes-java"},
	} {
		needFile(t, f.path, f.pkg)
	}
	if _, err := exec.LookPath("javac"); err != nil {
		t.Fatal("javac is missing: install Debian's default-jdk-headless (scripts/test does)")
	}
	classes := t.TempDir()
	runClient(t, "javac", "-nowarn", "-cp", javaClasspath(), "-d", classes, filepath.Join("testdata", "ClientCheck.java"))
	cp := classes + ":" + javaClasspath()
	java := func(t *testing.T, hosts []string, mode string) []string {
		return observations(runClient(t, "java", "-Xss512k", "-XX:TieredStopAtLevel=1", "-cp", cp, "ClientCheck", strings.Join(hosts, ","), mode))
	}
	t.Run("client", func(t *testing.T) {
		forSizes(t, func(t *testing.T, c *cluster) {
			checkObservations(t, java(t, c.addrs(), "client"), javaClientWant)
		})
	})
	t.Run("curator on 3 servers", func(t *testing.T) {
		c := startCluster(t, 3)
		checkObservations(t, java(t, c.addrs(), "curator"), curatorWant)
	})
}

// javaClientWant is what ClientCheck client prints against ZooKeeper 3.8.
var javaClientWant = []string{
	"create: /jc",
	"create again: NODEEXISTS",
	"create2: /jc/c2 version=0 dataLength=3 czxid=mzxid=pzxid true",
	"getData: root",
	"setData version 0: 1",
	"setData version 0 again: BADVERSION",
	"delete with a bad version: BADVERSION",
	"delete a parent: NOTEMPTY",
	"sequential: /jc/s-0000000001",
	"ephemeral sequential: /jc/e-0000000002",
	"child of an ephemeral: NOCHILDRENFOREPHEMERALS",
	"container: /jc/box",
	"ttl: /jc/ttl",
	"getChildren: [box, c2, e-0000000002, s-0000000001, ttl]",
	"getEphemerals: [/jc/e-0000000002]",
	"getAllChildrenNumber: 5",
	"null data: null",
	"exists missing: null",
	"multi: create(/jc/m) setData(version=1) CheckResult create(/jc/m/kid) DeleteResult",
	"failed multi: BADVERSION error(OK) error(BADVERSION) error(RUNTIMEINCONSISTENCY)",
	"nothing of it applied: true",
	"multiRead: getData(m2) getChildren([]) error(NONODE)",
	"sync: 0",
	"exists watch: NodeCreated /jc/w",
	"data watch: NodeDataChanged /jc/w",
	"child watch: NodeChildrenChanged /jc/w",
	"delete watch: NodeDeleted /jc/w/a",
	"persistent recursive watch: NodeCreated /jc/w/b, NodeDataChanged /jc/w/b, NodeDeleted /jc/w/b",
	"events after removeWatches: [PersistentWatchRemoved /jc/w]",
	"removeWatches again: NOWATCHER",
	"whoAmI: 1",
	"create with CREATOR_ALL_ACL: /jc/private",
	"getACL: 31 digest:alice:aYXlLOpEooaV1cRAvUL1fp9Qt7E=",
	"another session reads: NOAUTH",
	"another session writes: NOAUTH",
	"another session sets an ACL: NOAUTH",
	"CREATOR_ALL_ACL without auth: INVALIDACL",
	"another session with alice's password: p",
	"the other session sees the ephemeral: true",
	"resumed session id: true",
	"resumed handle creates: /jc/resumed",
	"resumed handle sets: 4",
	"ephemerals after the session closed: [box, c2, m, private, s-0000000001, ttl, w]",
	"done: true",
}

// curatorWant is what ClientCheck curator prints against ZooKeeper 3.8.
var curatorWant = []string{
	"creatingParentsIfNeeded: /cur/a/b",
	"transaction: CREATE(/cur/t 0) SET_DATA(/cur/t 0) CHECK(/cur/t 0)",
	"mutex errors: []",
	"mutex holders at once: 1",
	"value after locked increments: 40",
	"lock nodes left: []",
	"counter errors: []",
	"counter: 20",
	"leaders: 1",
	"leader seen by all: true",
	"leaders after the leader left: 1",
	"new leader: true",
	"cache after a burst: [/cur/cache/x=2, /cur/cache=c]",
	"cache event: create /cur/cache/z z",
	"cache event: change /cur/cache/z z2",
	"cache event: create /cur/cache/z/deeper d",
	"cache event: delete /cur/cache/z/deeper",
	"cache event: delete /cur/cache/z",
	"events left: []",
	"done: true",
}

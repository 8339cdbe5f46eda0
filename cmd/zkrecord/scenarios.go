package main

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/vrkeeper/vrkeeper/internal/zkrecord"
)

// scenarios are the golden files, in the order they are captured.
var scenarios = []scenario{
	{
		name:   "zkcli",
		client: "zkCli.sh (ZooKeeper's Java client, 3.8.0), one command at a time",
		about: "create in every mode (-s -e -c -t, null data), get/set/stat/ls/ls -s/ls -R, ACLs and auth,\n" +
			"getEphemerals, getAllChildrenNumber, whoami, sync, addWatch, watches firing, removewatches,\n" +
			"deleteall (multi of deletes), quotas, config, reconfig, close and connect,\n" +
			"errors NODEEXISTS NONODE NOCHILDRENFOREPHEMERALS BADVERSION NOAUTH INVALIDACL NOTEMPTY NOWATCHER RECONFIGDISABLED AUTHFAILED\n" +
			"(zkCli checks a TTL of 0 itself and sends nothing)",
		run: func(ctx context.Context, env *env, p *zkrecord.Proxy, rec *zkrecord.Recorder) error {
			cmds := make([]string, len(zkCliCommands))
			for i, c := range zkCliCommands {
				cmds[i] = strings.ReplaceAll(c, "{proxy}", p.Addr())
			}
			return runZkCli(ctx, p, rec, cmds)
		},
	},
	{
		name:   "java-ops",
		client: "ZooKeeper's Java client 3.8.0 (cmd/zkrecord/clients/GoldenClient.java ops)",
		about: "create2, createContainer, createTTL, getChildren vs getChildren2, multi (success with container and TTL ops,\n" +
			"failure with per-op results 0/code/-2), multiRead with per-op errors, getEphemerals, getAllChildrenNumber,\n" +
			"whoAmI, sync, checkWatches, removeWatches (and NOWATCHER), watches firing, addWatch, getConfig,\n" +
			"setACL/getACL, reconfig with null strings (RECONFIGDISABLED), closeSession",
		run: func(ctx context.Context, env *env, p *zkrecord.Proxy, rec *zkrecord.Recorder) error {
			return runJava(ctx, env, p, rec, "/java-ops", "ops")
		},
	},
	{
		name:   "java-session",
		client: "ZooKeeper's Java client 3.8.0 (cmd/zkrecord/clients/GoldenClient.java session)",
		about: "reconnect after a cut connection: ConnectRequest with the session id, password and lastZxidSeen,\n" +
			"auth re-sent, setWatches then setWatches2; persistent watches firing; a second handle resuming\n" +
			"the session; an unknown session id answered with timeOut 0 and sessionId 0; auth failure",
		run: func(ctx context.Context, env *env, p *zkrecord.Proxy, rec *zkrecord.Recorder) error {
			return runJava(ctx, env, p, rec, "/java-session", "session")
		},
	},
	{
		name:   "gozk",
		client: "go-zookeeper github.com/go-zookeeper/zk v1.0.4 (44-byte ConnectRequest, no readOnly byte)",
		about: "create (all flags, protected ephemeral sequential), CreateContainer, CreateTTL, get/set/exists/children,\n" +
			"ACLs, auth with a client xid, sync, multi success and failure, reconfig with null buffers,\n" +
			"watches firing, setWatches after a cut connection, createTTL with ttl 0 (BADARGUMENTS),\n" +
			"create with the container flag under opcode create, ping, close",
		run: runGoZK,
	},
	{
		name:   "kazoo",
		client: "kazoo 2.8.0 (Python, /usr/bin/python3; cmd/zkrecord/clients/kazoo_client.py)",
		about: "create (makepath, ephemeral sequence, include_data=create2, digest ACL), get/set/exists,\n" +
			"get_children with and without data, watches, transactions (success and failure), sync,\n" +
			"recursive delete, a resumed unknown session (expired)",
		run: func(ctx context.Context, env *env, p *zkrecord.Proxy, rec *zkrecord.Recorder) error {
			return runNoteClient(ctx, p, rec, "/usr/bin/python3",
				filepath.Join(clientsDir, "kazoo_client.py"), p.Addr(), "/kazoo")
		},
	},
	{
		name:   "climt",
		client: "the C client's shell cli_mt (ZooKeeper 3.8.0 C binding, Debian zookeeper-bin)",
		about: "create and create2 in every mode (+e +s +c +t=ttl), get, set, ls, ls2, exists, wexists,\n" +
			"sync, addauth, config, delete, NONODE",
		run: func(ctx context.Context, env *env, p *zkrecord.Proxy, rec *zkrecord.Recorder) error {
			return runCliMT(ctx, p, rec, cliMTCommands)
		},
	},
	{
		// Last: the absolute zxids the scenarios before it see stay as
		// they were (cli_mt prints them in hex).
		name:   "assumptions",
		client: "raw frames (cmd/zkrecord/raw.go): what ZooKeeper serves that no client library sends",
		about: "xids backwards, repeated, zero, negative, wrapped, restarted at 1 by a resumed session; ping with a client xid;\n" +
			"requests pipelined behind the handshake; handshakes with protocolVersion 7, readOnly true and trailing bytes,\n" +
			"a short password, timeout 0 and negative, lastZxidSeen ahead; setWatches split, unsorted, repeated, relativeZxid\n" +
			"0 and ahead; multi with no ops, only a check, a read inside; multiRead with no ops, a write inside",
		run:            runAssumptions,
		crossCheckOnly: true,
	},
}

// zkCliCommands is the zkCli session of the "zkcli" scenario; {proxy} is
// replaced by the proxy's address.
var zkCliCommands = []string{
	"create /zkcli root",
	"create /zkcli/p p",
	"create -e /zkcli/eph e",
	"create -s /zkcli/seq- s1",
	"create -s /zkcli/seq- s2",
	"create -e -s /zkcli/es- es",
	"create -c /zkcli/box box",
	"create -t 60000 /zkcli/ttl t",
	"create -s -t 60000 /zkcli/ttls- ts",
	"create /zkcli/nodata",
	"get /zkcli/nodata",
	"create /zkcli/p again",
	"create /zkcli/missing/child x",
	"create /zkcli/eph/child x",
	"create -t 0 /zkcli/badttl x",
	"get /zkcli/p",
	"get -s /zkcli/p",
	"get /zkcli/none",
	"set /zkcli/p v2",
	"set -s /zkcli/p v3",
	"set -v 99 /zkcli/p v4",
	"stat /zkcli/p",
	"stat /zkcli/none",
	"ls /zkcli",
	"ls -s /zkcli",
	"create /zkcli/tree t",
	"create /zkcli/tree/a a",
	"create /zkcli/tree/b b",
	"create /zkcli/tree/a/x x",
	"ls -R /zkcli/tree",
	"getAcl /zkcli/p",
	"getAcl -s /zkcli/p",
	"addauth digest golden:secret",
	"create /zkcli/acl a",
	"setAcl /zkcli/acl auth:golden:secret:cdrwa",
	"getAcl /zkcli/acl",
	"setAcl -s /zkcli/acl digest:golden:xWIAyp+iipmRz+wIMl/M3rwWQD4=:cdrwa,world:anyone:r,ip:127.0.0.1:rw",
	"getAcl -s /zkcli/acl",
	"setAcl -v 99 /zkcli/acl world:anyone:cdrwa",
	"setAcl /zkcli/p world:anyone:r",
	"set /zkcli/p nope",
	"setAcl /zkcli/tree ip:999.1.1.1:r",
	"setAcl -R /zkcli/tree world:anyone:cdrwa",
	"getEphemerals /zkcli",
	"getAllChildrenNumber /zkcli",
	"whoami",
	"sync /zkcli",
	"create /zkcli/w w",
	"addWatch /zkcli/w",
	"addWatch -m PERSISTENT /zkcli/box",
	"get -w /zkcli/w",
	"ls -w /zkcli/w",
	"stat -w /zkcli/later",
	"create /zkcli/later l",
	"set /zkcli/w w2",
	"create /zkcli/w/c c",
	"removewatches /zkcli/box -a",
	"removewatches /zkcli/later -d",
	"delete /zkcli/w",
	"delete -v 99 /zkcli/w/c",
	"delete /zkcli/w/c",
	"delete /zkcli/none",
	"deleteall /zkcli/tree -b 2",
	"setquota -n 10 /zkcli/p",
	"listquota /zkcli/p",
	"delquota /zkcli/p",
	"config",
	"reconfig -add server.5=127.0.0.1:2888:3888;2181",
	"version",
	"close",
	"connect {proxy}",
	"ls /zkcli",
	"addauth nosuchscheme whatever",
}

// cliMTCommands is the cli_mt session of the "climt" scenario: each sends
// exactly one request.
var cliMTCommands = []string{
	"create /climt",
	"create +e /climt/e",
	"create +s /climt/s-",
	"create +es /climt/es-",
	"create +c /climt/c",
	"create +t=60000 /climt/t",
	"create2 /climt/c2",
	"create2 +s /climt/c2s-",
	"create2 +t=60000 /climt/c2t",
	"create /climt",
	"get /climt",
	"set /climt hello",
	"get /climt",
	"ls /climt",
	"ls2 /climt",
	"exists /climt",
	"exists /climt/none",
	"wexists /climt/later",
	"create /climt/later",
	"sync /climt",
	"addauth digest golden:secret",
	"config",
	"delete /climt/c2",
	"delete /climt/none",
}

// clientsDir holds the client programs the scenarios run, relative to the
// repository root (the capture script runs from there).
var clientsDir = filepath.Join("cmd", "zkrecord", "clients")

// javaClasspath is ZooKeeper's client jar and what it needs at run time.
func javaClasspath() string {
	cp := []string{"/usr/share/java/zookeeper.jar", "/usr/share/java/zookeeper-jute.jar"}
	for _, j := range []string{"slf4j-api", "slf4j-nop", "netty-handler", "netty-common", "netty-buffer",
		"netty-transport", "netty-transport-native-epoll", "netty-transport-native-unix-common",
		"netty-codec", "netty-resolver", "commons-cli", "metrics-core", "snappy-java"} {
		cp = append(cp, "/usr/share/java/"+j+".jar")
	}
	return strings.Join(cp, ":")
}

// runJava compiles GoldenClient.java (once per env) and runs one of its
// scenarios through the proxy.
func runJava(ctx context.Context, env *env, p *zkrecord.Proxy, rec *zkrecord.Recorder, root, which string) error {
	classes := filepath.Join(env.work, "java")
	if !env.javaBuilt {
		out, err := exec.CommandContext(ctx, "javac", "-cp", javaClasspath(), "-d", classes,
			filepath.Join(clientsDir, "GoldenClient.java")).CombinedOutput()
		if err != nil {
			return fmt.Errorf("javac GoldenClient.java: %w\n%s", err, out)
		}
		env.javaBuilt = true
	}
	return runNoteClient(ctx, p, rec, "java", "-cp", classes+":"+javaClasspath(),
		"GoldenClient", p.Addr(), root, which)
}

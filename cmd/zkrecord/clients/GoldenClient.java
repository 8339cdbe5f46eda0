// GoldenClient drives ZooKeeper's own Java client through the recording
// proxy of cmd/zkrecord, for the calls zkCli.sh cannot make (multi,
// multiRead, create2, getChildren without a stat, removeWatches of one
// watcher, reconfig, session resume and expiry, auth failure).
//
// It talks to cmd/zkrecord over stdin/stdout: "NOTE <text>" asks the driver
// to write <text> into the record as a comment, "SEVER" asks the proxy to
// cut every connection; both wait for a line on stdin before going on, so
// a comment lands exactly before the frames of the call it describes. Any
// other line it prints is the call's outcome, kept as an output comment.
//
// Usage: java -cp zookeeper.jar:... GoldenClient <host:port> <root> ops|session
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.admin.ZooKeeperAdmin;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;

public class GoldenClient {
    static final BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    static final List<ACL> OPEN = Ids.OPEN_ACL_UNSAFE;

    static void ask(String line) throws Exception {
        System.out.println(line);
        System.out.flush();
        if (in.readLine() == null) {
            throw new IllegalStateException("driver went away");
        }
    }

    static void note(String text) throws Exception { ask("NOTE " + text); }

    static void out(String text) { System.out.println(text); System.out.flush(); }

    static byte[] b(String s) { return s.getBytes(StandardCharsets.UTF_8); }

    /** A watcher that reports every event and lets the program wait for a state. */
    static class Events implements Watcher {
        final String name;
        final LinkedBlockingQueue<WatchedEvent> states = new LinkedBlockingQueue<>();
        Events(String name) { this.name = name; }
        public void process(WatchedEvent e) {
            out("event " + name + ": " + e.getType() + " " + e.getState() + " " + e.getPath());
            if (e.getType() == Event.EventType.None) states.add(e);
        }
        void await(Event.KeeperState want) throws Exception {
            while (true) {
                WatchedEvent e = states.poll(30, TimeUnit.SECONDS);
                if (e == null) throw new IllegalStateException(name + ": no " + want + " within 30 s");
                if (e.getState() == want) return;
            }
        }
    }

    static ZooKeeper open(String addr, Events w) throws Exception {
        ZooKeeper zk = new ZooKeeper(addr, 30000, w);
        w.await(Watcher.Event.KeeperState.SyncConnected);
        return zk;
    }


    interface Call { Object run() throws Exception; }

    static void call(String what, Call c) throws Exception {
        note(what);
        try {
            Object r = c.run();
            out("ok: " + (r instanceof byte[] ? new String((byte[]) r, StandardCharsets.UTF_8) : r));
        } catch (KeeperException e) {
            out("error: " + e.code() + " " + e.getMessage());
            if (e.getResults() != null) {
                for (OpResult r : e.getResults()) out("  result: " + describe(r));
            }
        }
    }

    static String describe(OpResult r) {
        if (r instanceof OpResult.ErrorResult) return "error " + ((OpResult.ErrorResult) r).getErr();
        if (r instanceof OpResult.CreateResult) return "create " + ((OpResult.CreateResult) r).getPath();
        if (r instanceof OpResult.GetDataResult) {
            byte[] d = ((OpResult.GetDataResult) r).getData();
            return "getData " + (d == null ? "null" : new String(d, StandardCharsets.UTF_8));
        }
        if (r instanceof OpResult.GetChildrenResult) return "getChildren " + ((OpResult.GetChildrenResult) r).getChildren();
        return r.getClass().getSimpleName();
    }

    static String results(List<OpResult> rs) {
        StringBuilder sb = new StringBuilder();
        for (OpResult r : rs) sb.append("[").append(describe(r)).append("]");
        return sb.toString();
    }

    public static void main(String[] args) throws Exception {
        String addr = args[0], root = args[1];
        switch (args[2]) {
            case "ops": ops(addr, root); break;
            case "session": session(addr, root); break;
            default: throw new IllegalArgumentException("unknown scenario " + args[2]);
        }
    }

    /** Calls that zkCli cannot make, on one session. */
    static void ops(String addr, String root) throws Exception {
        Events w = new Events("zk");
        note("new ZooKeeper(" + addr + ", 30000): connect");
        ZooKeeper zk = open(addr, w);

        call("create " + root + " (persistent, null data)", () -> zk.create(root, null, OPEN, CreateMode.PERSISTENT));
        call("getData " + root + " (null data reads back as null)", () -> zk.getData(root, false, null));
        call("create2 " + root + "/c2 with stat", () -> {
            Stat st = new Stat();
            String p = zk.create(root + "/c2", b("two"), OPEN, CreateMode.PERSISTENT, st);
            return p + " czxid=" + st.getCzxid();
        });
        call("create2 ephemeral sequential " + root + "/es-", () -> zk.create(root + "/es-", b("e"), OPEN, CreateMode.EPHEMERAL_SEQUENTIAL, new Stat()));
        call("createContainer " + root + "/box", () -> zk.create(root + "/box", b("box"), OPEN, CreateMode.CONTAINER));
        call("createTTL " + root + "/ttl ttl=60000", () -> zk.create(root + "/ttl", b("t"), OPEN, CreateMode.PERSISTENT_WITH_TTL, new Stat(), 60000));
        call("createTTL sequential " + root + "/ttls- ttl=5000", () -> zk.create(root + "/ttls-", b("t"), OPEN, CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, new Stat(), 5000));
        call("create2 " + root + "/c2 again: NODEEXISTS", () -> zk.create(root + "/c2", b("x"), OPEN, CreateMode.PERSISTENT, new Stat()));
        call("getChildren " + root + " (no stat: opcode getChildren)", () -> zk.getChildren(root, false));
        call("getChildren " + root + " with stat (getChildren2)", () -> zk.getChildren(root, false, new Stat()));
        call("multi success: create, create container, createTTL, setData, check, delete", () -> results(zk.multi(Arrays.asList(
                Op.create(root + "/m1", b("m1"), OPEN, CreateMode.PERSISTENT),
                Op.create(root + "/mbox", b("mb"), OPEN, CreateMode.CONTAINER),
                Op.create(root + "/mttl", b("mt"), OPEN, CreateMode.PERSISTENT_WITH_TTL, 60000),
                Op.setData(root + "/m1", b("m1b"), 0),
                Op.check(root + "/m1", 1),
                Op.delete(root + "/m1", 1)))));
        call("multi failing at op 2 (delete of a missing node): results 0, NONODE, RUNTIMEINCONSISTENCY", () -> results(zk.multi(Arrays.asList(
                Op.create(root + "/f1", b("f"), OPEN, CreateMode.PERSISTENT),
                Op.delete(root + "/missing", -1),
                Op.setData(root + "/c2", b("never"), -1)))));
        call("multi failing at op 1 (check with a bad version): BADVERSION then RUNTIMEINCONSISTENCY", () -> results(zk.multi(Arrays.asList(
                Op.check(root + "/c2", 42),
                Op.create(root + "/f2", null, OPEN, CreateMode.PERSISTENT_SEQUENTIAL)))));
        call("multiRead: getData, getChildren, getData of a missing node", () -> results(zk.multi(Arrays.asList(
                Op.getData(root + "/c2"),
                Op.getChildren(root),
                Op.getData(root + "/missing")))));
        call("multiRead: getData of a null-data node, getChildren of a missing node", () -> results(zk.multi(Arrays.asList(
                Op.getData(root),
                Op.getChildren(root + "/missing")))));
        call("getEphemerals " + root, () -> zk.getEphemerals(root));
        call("getEphemerals (all)", () -> zk.getEphemerals());
        call("getAllChildrenNumber " + root, () -> zk.getAllChildrenNumber(root));
        call("whoAmI (no auth)", () -> zk.whoAmI());
        call("addAuthInfo digest golden:secret", () -> { zk.addAuthInfo("digest", b("golden:secret")); return zk.whoAmI(); });
        call("sync " + root, () -> {
            CountDownLatch done = new CountDownLatch(1);
            final int[] rc = new int[1];
            zk.sync(root, (code, path, ctx) -> { rc[0] = code; done.countDown(); }, null);
            done.await(30, TimeUnit.SECONDS);
            return "rc=" + rc[0];
        });
        Watcher dataWatcher = e -> out("event data-watcher: " + e.getType() + " " + e.getPath());
        call("getData " + root + "/c2 with a watcher", () -> zk.getData(root + "/c2", dataWatcher, null));
        call("removeWatches of that watcher (checkWatches)", () -> { zk.removeWatches(root + "/c2", dataWatcher, Watcher.WatcherType.Data, false); return "removed"; });
        call("getChildren " + root + " with a watcher", () -> zk.getChildren(root, dataWatcher));
        call("removeAllWatches " + root + " children (removeWatches)", () -> { zk.removeAllWatches(root, Watcher.WatcherType.Children, false); return "removed"; });
        call("removeAllWatches " + root + "/c2 any, none set: the server answers OK, the Java client raises NOWATCHER itself", () -> { zk.removeAllWatches(root + "/c2", Watcher.WatcherType.Any, false); return "removed"; });
        call("exists " + root + "/later with watch (missing node)", () -> zk.exists(root + "/later", true));
        call("create " + root + "/later: NodeCreated fires", () -> zk.create(root + "/later", b("l"), OPEN, CreateMode.PERSISTENT));
        call("getData " + root + "/later with watch", () -> zk.getData(root + "/later", true, null));
        call("setData " + root + "/later: NodeDataChanged fires", () -> zk.setData(root + "/later", b("l2"), -1));
        call("addWatch " + root + " persistent recursive", () -> { zk.addWatch(root, AddWatchMode.PERSISTENT_RECURSIVE); return "added"; });
        call("delete " + root + "/later: NodeDeleted fires", () -> { zk.delete(root + "/later", -1); return "deleted"; });
        call("getConfig (getData of /zookeeper/config)", () -> {
            CountDownLatch done = new CountDownLatch(1);
            final String[] res = new String[1];
            zk.getConfig(false, (rc, path, ctx, data, stat) -> { res[0] = "rc=" + rc + " path=" + path; done.countDown(); }, null);
            done.await(30, TimeUnit.SECONDS);
            return res[0];
        });
        call("setACL " + root + "/c2 to digest golden with every permission", () -> zk.setACL(root + "/c2",
                Arrays.asList(new ACL(31, new Id("digest", "golden:xWIAyp+iipmRz+wIMl/M3rwWQD4="))), -1));
        call("getACL " + root + "/c2", () -> zk.getACL(root + "/c2", new Stat()));
        call("setACL " + root + "/c2 with a bad aversion: BADVERSION", () -> zk.setACL(root + "/c2", OPEN, 7));
        note("ZooKeeperAdmin: connect");
        Events aw = new Events("admin");
        ZooKeeperAdmin admin = new ZooKeeperAdmin(addr, 30000, aw);
        aw.await(Watcher.Event.KeeperState.SyncConnected);
        call("reconfigure joining=server.2=127.0.0.1:2888:3888;2181 leaving=null members=null: RECONFIGDISABLED", () ->
                admin.reconfigure("server.2=127.0.0.1:2888:3888;2181", null, null, -1, new Stat()));
        call("reconfigure members=server.1=127.0.0.1:2888:3888;2181 from config 5: RECONFIGDISABLED", () ->
                admin.reconfigure(null, null, "server.1=127.0.0.1:2888:3888;2181", 5, new Stat()));
        note("ZooKeeperAdmin.close: closeSession");
        admin.close();
        note("close: closeSession");
        zk.close();
    }

    /** Session life: reconnect with setWatches and setWatches2, resume, expiry, auth failure. */
    static void session(String addr, String root) throws Exception {
        Events w = new Events("zk");
        note("new ZooKeeper(" + addr + ", 30000): connect");
        ZooKeeper zk = open(addr, w);
        call("addAuthInfo digest golden:secret (auth xid -4)", () -> { zk.addAuthInfo("digest", b("golden:secret")); return zk.whoAmI(); });
        call("create " + root, () -> zk.create(root, b("r"), OPEN, CreateMode.PERSISTENT));
        call("getData " + root + " with watch", () -> zk.getData(root, true, null));
        call("exists " + root + "/x with watch (missing)", () -> zk.exists(root + "/x", true));
        call("getChildren " + root + " with watch", () -> zk.getChildren(root, true));
        note("proxy severs the connection: the client reconnects, re-sends its auth and its watches (setWatches)");
        ask("SEVER");
        w.await(Watcher.Event.KeeperState.SyncConnected);
        call("whoAmI after the reconnect", () -> zk.whoAmI());
        call("addWatch " + root + " persistent", () -> { zk.addWatch(root, AddWatchMode.PERSISTENT); return "added"; });
        call("addWatch " + root + "/x persistent recursive", () -> { zk.addWatch(root + "/x", AddWatchMode.PERSISTENT_RECURSIVE); return "added"; });
        note("proxy severs the connection again: with persistent watches the client sends setWatches2");
        ask("SEVER");
        w.await(Watcher.Event.KeeperState.SyncConnected);
        call("create " + root + "/x: NodeCreated and NodeChildrenChanged fire", () -> zk.create(root + "/x", b("x"), OPEN, CreateMode.PERSISTENT));
        call("setData " + root + ": NodeDataChanged fires (persistent watch)", () -> zk.setData(root, b("r2"), -1));

        note("second handle resumes the same session with its id and password (session moves; the first connection is closed)");
        Events w2 = new Events("resumed");
        ZooKeeper zk2 = new ZooKeeper(addr, 30000, w2, zk.getSessionId(), zk.getSessionPasswd());
        w2.await(Watcher.Event.KeeperState.SyncConnected);
        call("getData " + root + " on the resumed session", () -> zk2.getData(root, false, null));

        note("new ZooKeeper with an unknown session id 0x7777777777 and a zero password: expired (timeOut 0, sessionId 0)");
        Events w3 = new Events("bogus");
        ZooKeeper zk3 = new ZooKeeper(addr, 30000, w3, 0x7777777777L, new byte[16]);
        w3.await(Watcher.Event.KeeperState.Expired);
        zk3.close();

        note("new ZooKeeper, then addAuthInfo with an unknown scheme: AUTHFAILED and the server closes");
        Events w4 = new Events("badauth");
        ZooKeeper zk4 = open(addr, w4);
        zk4.addAuthInfo("nosuchscheme", b("whatever"));
        w4.await(Watcher.Event.KeeperState.AuthFailed);
        zk4.close();

        note("close the resumed session: closeSession");
        zk2.close();
        zk.close();
    }
}

// ClientCheck drives ZooKeeper's Java client, and Curator on top of it,
// against a server and prints what it observes, one "name: value" line per
// observation, for integration/java_test.go to compare with what ZooKeeper
// gives. Lists of children are printed sorted: ZooKeeper returns them in no
// particular order.
//
// Usage: java -cp <jars> ClientCheck <host:port,...> client|curator
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.api.transaction.CuratorTransactionResult;
import org.apache.curator.framework.recipes.atomic.DistributedAtomicLong;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.leader.LeaderLatch;
import org.apache.curator.framework.recipes.locks.InterProcessMutex;
import org.apache.curator.retry.RetryNTimes;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;

public class ClientCheck {
    static final List<ACL> OPEN = Ids.OPEN_ACL_UNSAFE;

    static synchronized void show(String name, Object value) {
        System.out.println(name + ": " + value);
        System.out.flush();
    }

    interface Call { Object run() throws Exception; }

    /** Prints a call's result, or the code of the KeeperException it threw. */
    static void outcome(String name, Call c) throws Exception {
        try {
            show(name, c.run());
        } catch (KeeperException e) {
            show(name, e.code());
        }
    }

    static byte[] b(String s) { return s.getBytes(StandardCharsets.UTF_8); }

    static String s(byte[] b) { return b == null ? "null" : new String(b, StandardCharsets.UTF_8); }

    static List<String> sorted(List<String> l) { List<String> c = new ArrayList<>(l); Collections.sort(c); return c; }

    /** A watcher that queues events, so the program can wait for them in order. */
    static class Events implements Watcher {
        final LinkedBlockingQueue<WatchedEvent> all = new LinkedBlockingQueue<>();
        final CountDownLatch connected = new CountDownLatch(1);
        public void process(WatchedEvent e) {
            if (e.getType() == Event.EventType.None) {
                if (e.getState() == Event.KeeperState.SyncConnected) connected.countDown();
                return;
            }
            all.add(e);
        }
        String next() throws InterruptedException {
            WatchedEvent e = all.poll(20, TimeUnit.SECONDS);
            return e == null ? "no event within 20 s" : e.getType() + " " + e.getPath();
        }
    }

    static ZooKeeper open(String hosts, Events w) throws Exception {
        ZooKeeper zk = new ZooKeeper(hosts, 10000, w);
        if (!w.connected.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("no connection within 30 s");
        return zk;
    }

    public static void main(String[] args) throws Exception {
        switch (args[1]) {
            case "client": client(args[0]); break;
            case "curator": curator(args[0]); break;
            default: throw new IllegalArgumentException(args[1]);
        }
        show("done", true);
        System.exit(0); // Curator's and ZooKeeper's threads may linger
    }

    static String results(List<OpResult> rs) {
        StringBuilder sb = new StringBuilder();
        for (OpResult r : rs) {
            if (sb.length() > 0) sb.append(" ");
            if (r instanceof OpResult.ErrorResult) sb.append("error(").append(KeeperException.Code.get(((OpResult.ErrorResult) r).getErr())).append(")");
            else if (r instanceof OpResult.CreateResult) sb.append("create(").append(((OpResult.CreateResult) r).getPath()).append(")");
            else if (r instanceof OpResult.SetDataResult) sb.append("setData(version=").append(((OpResult.SetDataResult) r).getStat().getVersion()).append(")");
            else if (r instanceof OpResult.GetDataResult) sb.append("getData(").append(s(((OpResult.GetDataResult) r).getData())).append(")");
            else if (r instanceof OpResult.GetChildrenResult) sb.append("getChildren(").append(sorted(((OpResult.GetChildrenResult) r).getChildren())).append(")");
            else sb.append(r.getClass().getSimpleName());
        }
        return sb.toString();
    }

    /** ZooKeeper's Java client: every call, its errors and its watches. */
    static void client(String hosts) throws Exception {
        Events w = new Events();
        ZooKeeper zk = open(hosts, w);
        String r = "/jc";
        outcome("create", () -> zk.create(r, b("root"), OPEN, CreateMode.PERSISTENT));
        outcome("create again", () -> zk.create(r, b("x"), OPEN, CreateMode.PERSISTENT));
        outcome("create2", () -> {
            Stat st = new Stat();
            String p = zk.create(r + "/c2", b("two"), OPEN, CreateMode.PERSISTENT, st);
            return p + " version=" + st.getVersion() + " dataLength=" + st.getDataLength() + " czxid=mzxid=pzxid " + (st.getCzxid() == st.getMzxid() && st.getMzxid() == st.getPzxid());
        });
        outcome("getData", () -> s(zk.getData(r, false, null)));
        outcome("setData version 0", () -> zk.setData(r, b("root2"), 0).getVersion());
        outcome("setData version 0 again", () -> zk.setData(r, b("root3"), 0));
        outcome("delete with a bad version", () -> { zk.delete(r + "/c2", 3); return "deleted"; });
        outcome("delete a parent", () -> { zk.delete(r, -1); return "deleted"; });
        outcome("sequential", () -> zk.create(r + "/s-", null, OPEN, CreateMode.PERSISTENT_SEQUENTIAL));
        outcome("ephemeral sequential", () -> zk.create(r + "/e-", null, OPEN, CreateMode.EPHEMERAL_SEQUENTIAL));
        outcome("child of an ephemeral", () -> zk.create(r + "/e-0000000002/kid", null, OPEN, CreateMode.PERSISTENT));
        outcome("container", () -> zk.create(r + "/box", null, OPEN, CreateMode.CONTAINER));
        outcome("ttl", () -> zk.create(r + "/ttl", null, OPEN, CreateMode.PERSISTENT_WITH_TTL, new Stat(), 3600000)); // outlives the test however slow
        outcome("getChildren", () -> sorted(zk.getChildren(r, false)));
        outcome("getEphemerals", () -> sorted(zk.getEphemerals(r)));
        outcome("getAllChildrenNumber", () -> zk.getAllChildrenNumber(r));
        outcome("null data", () -> s(zk.getData(r + "/s-0000000001", false, null)));
        outcome("exists missing", () -> zk.exists(r + "/none", false));
        outcome("multi", () -> results(zk.multi(Arrays.asList(
                Op.create(r + "/m", b("m"), OPEN, CreateMode.PERSISTENT),
                Op.setData(r + "/m", b("m2"), 0),
                Op.check(r + "/m", 1),
                Op.create(r + "/m/kid", null, OPEN, CreateMode.EPHEMERAL),
                Op.delete(r + "/m/kid", 0)))));
        outcome("failed multi", () -> {
            try {
                zk.multi(Arrays.asList(
                        Op.create(r + "/never", null, OPEN, CreateMode.PERSISTENT),
                        Op.check(r + "/m", 5),
                        Op.delete(r + "/m", -1)));
                return "applied";
            } catch (KeeperException e) {
                return e.code() + " " + results(e.getResults());
            }
        });
        outcome("nothing of it applied", () -> zk.exists(r + "/never", false) == null && zk.exists(r + "/m", false) != null);
        outcome("multiRead", () -> results(zk.multi(Arrays.asList(
                Op.getData(r + "/m"), Op.getChildren(r + "/m"), Op.getData(r + "/none")))));
        CountDownLatch synced = new CountDownLatch(1);
        int[] rc = {99};
        zk.sync(r, (code, path, ctx) -> { rc[0] = code; synced.countDown(); }, null);
        synced.await(20, TimeUnit.SECONDS);
        show("sync", rc[0]);

        // One-shot watches fire once, in the order of the changes.
        zk.exists(r + "/w", true);
        zk.create(r + "/w", b("0"), OPEN, CreateMode.PERSISTENT);
        show("exists watch", w.next());
        zk.getData(r + "/w", true, null);
        zk.setData(r + "/w", b("1"), -1);
        show("data watch", w.next());
        zk.getChildren(r + "/w", true);
        zk.create(r + "/w/a", null, OPEN, CreateMode.PERSISTENT);
        show("child watch", w.next());
        zk.getData(r + "/w/a", true, null);
        zk.delete(r + "/w/a", -1);
        show("delete watch", w.next());
        zk.setData(r + "/w", b("2"), -1);
        zk.addWatch(r + "/w", AddWatchMode.PERSISTENT_RECURSIVE);
        zk.create(r + "/w/b", null, OPEN, CreateMode.PERSISTENT);
        zk.setData(r + "/w/b", b("b"), -1);
        zk.delete(r + "/w/b", -1);
        show("persistent recursive watch", w.next() + ", " + w.next() + ", " + w.next());
        zk.removeAllWatches(r + "/w", Watcher.WatcherType.Any, false);
        // The client makes the PersistentWatchRemoved event itself and its
        // event thread delivers it later: wait for it, then check that the
        // change after the removal brings nothing.
        List<String> after = new ArrayList<>();
        after.add(w.next());
        zk.setData(r + "/w", b("3"), -1);
        zk.sync(r, (code, path, ctx) -> {}, null);
        zk.getData(r, false, null); // after the sync: an event would have come by now
        for (WatchedEvent e; (e = w.all.poll()) != null; ) after.add(e.getType() + " " + e.getPath());
        show("events after removeWatches", after);
        outcome("removeWatches again", () -> { zk.removeAllWatches(r + "/w", Watcher.WatcherType.Any, false); return "removed"; });

        // ACLs with digest auth, against a second session.
        outcome("whoAmI", () -> zk.whoAmI().size());
        zk.addAuthInfo("digest", b("alice:secret"));
        outcome("create with CREATOR_ALL_ACL", () -> zk.create(r + "/private", b("p"), Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT));
        outcome("getACL", () -> {
            StringBuilder sb = new StringBuilder();
            for (ACL a : zk.getACL(r + "/private", new Stat())) sb.append(a.getPerms()).append(" ").append(a.getId().getScheme()).append(":").append(a.getId().getId());
            return sb.toString();
        });
        Events w2 = new Events();
        ZooKeeper other = open(hosts, w2);
        outcome("another session reads", () -> other.getData(r + "/private", false, null));
        outcome("another session writes", () -> other.setData(r + "/private", b("x"), -1));
        outcome("another session sets an ACL", () -> other.setACL(r + "/private", OPEN, -1));
        outcome("CREATOR_ALL_ACL without auth", () -> other.create(r + "/nope", null, Ids.CREATOR_ALL_ACL, CreateMode.PERSISTENT));
        other.addAuthInfo("digest", b("alice:secret"));
        outcome("another session with alice's password", () -> s(other.getData(r + "/private", false, null)));
        outcome("the other session sees the ephemeral", () -> other.exists(r + "/e-0000000002", false).getEphemeralOwner() == zk.getSessionId());

        // A new handle resumes the session with its id and password: its
        // xids start from 1 again, and its writes are applied.
        Events w3 = new Events();
        ZooKeeper resumed = new ZooKeeper(hosts, 10000, w3, zk.getSessionId(), zk.getSessionPasswd());
        if (!w3.connected.await(30, TimeUnit.SECONDS)) throw new IllegalStateException("no resumed connection");
        outcome("resumed session id", () -> resumed.getSessionId() == zk.getSessionId());
        outcome("resumed handle creates", () -> resumed.create(r + "/resumed", null, OPEN, CreateMode.EPHEMERAL));
        outcome("resumed handle sets", () -> resumed.setData(r + "/w", b("4"), -1).getVersion());
        resumed.close();
        outcome("ephemerals after the session closed", () -> sorted(other.getChildren(r, false)));
        zk.close();
        other.close();
    }

    static CuratorFramework curatorClient(String hosts) throws Exception {
        CuratorFramework c = CuratorFrameworkFactory.builder().connectString(hosts)
                .sessionTimeoutMs(10000).connectionTimeoutMs(10000).retryPolicy(new RetryNTimes(5, 200)).build();
        c.start();
        if (!c.blockUntilConnected(30, TimeUnit.SECONDS)) throw new IllegalStateException("Curator did not connect");
        return c;
    }

    /** Curator's recipes, with clients spread over every server given. */
    static void curator(String hosts) throws Exception {
        String[] servers = hosts.split(",");
        CuratorFramework main = curatorClient(hosts);
        show("creatingParentsIfNeeded", main.create().creatingParentsIfNeeded().forPath("/cur/a/b", b("b")));
        show("transaction", curatorResults(main.transaction().forOperations(
                main.transactionOp().create().forPath("/cur/t", b("t")),
                main.transactionOp().setData().forPath("/cur/t", b("t2")),
                main.transactionOp().check().withVersion(1).forPath("/cur/t"))));

        // InterProcessMutex: four clients, one or two per server, take turns;
        // each increments a shared value read-modify-write under the lock.
        main.create().forPath("/cur/value", b("0"));
        int n = 4, rounds = 10;
        List<CuratorFramework> clients = new ArrayList<>();
        for (int i = 0; i < n; i++) clients.add(curatorClient(servers[i % servers.length]));
        AtomicInteger holders = new AtomicInteger(), maxHolders = new AtomicInteger();
        List<String> errors = Collections.synchronizedList(new ArrayList<>());
        List<Thread> threads = new ArrayList<>();
        for (CuratorFramework c : clients) {
            Thread t = new Thread(() -> {
                InterProcessMutex mutex = new InterProcessMutex(c, "/cur/lock");
                try {
                    for (int k = 0; k < rounds; k++) {
                        if (!mutex.acquire(30, TimeUnit.SECONDS)) { errors.add("acquire timed out"); return; }
                        try {
                            maxHolders.accumulateAndGet(holders.incrementAndGet(), Math::max);
                            int v = Integer.parseInt(s(c.getData().forPath("/cur/value")));
                            c.setData().forPath("/cur/value", b(Integer.toString(v + 1)));
                            holders.decrementAndGet();
                        } finally {
                            mutex.release();
                        }
                    }
                } catch (Exception e) {
                    errors.add(e.toString());
                }
            });
            threads.add(t);
            t.start();
        }
        for (Thread t : threads) t.join(60000);
        show("mutex errors", errors);
        show("mutex holders at once", maxHolders.get());
        show("value after locked increments", s(main.getData().forPath("/cur/value")));
        show("lock nodes left", main.getChildren().forPath("/cur/lock"));

        // DistributedAtomicLong: optimistic increments from every client.
        List<Thread> incs = new ArrayList<>();
        for (CuratorFramework c : clients) {
            Thread t = new Thread(() -> {
                DistributedAtomicLong counter = new DistributedAtomicLong(c, "/cur/counter", new RetryNTimes(50, 10));
                try {
                    for (int k = 0; k < 5; k++) {
                        // An increment that lost every optimistic race reports
                        // failure and changed nothing: it is tried again.
                        int tries = 0;
                        while (!counter.increment().succeeded()) {
                            if (++tries == 20) { errors.add("increment failed 20 times"); break; }
                        }
                    }
                } catch (Exception e) {
                    errors.add(e.toString());
                }
            });
            incs.add(t);
            t.start();
        }
        for (Thread t : incs) t.join(60000);
        show("counter errors", errors);
        show("counter", new DistributedAtomicLong(main, "/cur/counter", new RetryNTimes(3, 10)).get().postValue());

        // LeaderLatch: one leader among three, and another when it leaves.
        List<LeaderLatch> latches = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            LeaderLatch l = new LeaderLatch(clients.get(i), "/cur/leader", "p" + i);
            latches.add(l);
            l.start();
        }
        LeaderLatch leader = awaitLeader(latches);
        show("leaders", countLeaders(latches));
        show("leader seen by all", latches.get(0).getLeader().getId().equals(leader.getId())
                && latches.get(1).getLeader().getId().equals(leader.getId()));
        latches.remove(leader);
        leader.close();
        LeaderLatch next = awaitLeader(latches);
        show("leaders after the leader left", countLeaders(latches));
        show("new leader", next != null && !next.getId().equals(leader.getId()));
        for (LeaderLatch l : latches) l.close();

        // CuratorCache (persistent recursive watches). A burst of writes
        // from another client: the cache reads each node when its event
        // comes, so it may skip states (a node created and deleted before
        // it looked), but it must end as the tree is.
        main.create().forPath("/cur/cache", b("c"));
        LinkedBlockingQueue<String> events = new LinkedBlockingQueue<>();
        CuratorCache cache = CuratorCache.build(main, "/cur/cache");
        CountDownLatch primed = new CountDownLatch(1);
        cache.listenable().addListener(CuratorCacheListener.builder()
                .forCreates(n1 -> events.add("create " + n1.getPath() + " " + s(n1.getData())))
                .forChanges((o, n1) -> events.add("change " + n1.getPath() + " " + s(n1.getData())))
                .forDeletes(o -> events.add("delete " + o.getPath()))
                .forInitialized(primed::countDown)
                .build());
        cache.start();
        primed.await(20, TimeUnit.SECONDS);
        events.clear(); // the cache's own root
        CuratorFramework writer = clients.get(1);
        writer.create().forPath("/cur/cache/x", b("1"));
        writer.create().forPath("/cur/cache/y", b("1"));
        writer.create().forPath("/cur/cache/x/deep", b("1"));
        writer.setData().forPath("/cur/cache/x", b("2"));
        writer.delete().forPath("/cur/cache/y");
        writer.delete().forPath("/cur/cache/x/deep");
        show("cache after a burst", awaitCache(cache, "[/cur/cache/x=2, /cur/cache=c]"));
        // The burst's events may still be on their way to the listener when
        // the cache holds the final state: the cache reports a delete at
        // once, but a create or a change only once it has read the node,
        // so their order is not the writes' order. A marker's create is
        // reported after every read the cache asked for before it (replies
        // come in order), so waiting for it sweeps the burst's events out.
        writer.create().forPath("/cur/cache/marker", b("m"));
        awaitEvent(events, "create /cur/cache/marker m");
        writer.delete().forPath("/cur/cache/marker");
        awaitEvent(events, "delete /cur/cache/marker");
        // Then one change at a time: each must bring its own event.
        writer.create().forPath("/cur/cache/z", b("z"));
        show("cache event", nextEvent(events));
        writer.setData().forPath("/cur/cache/z", b("z2"));
        show("cache event", nextEvent(events));
        writer.create().forPath("/cur/cache/z/deeper", b("d"));
        show("cache event", nextEvent(events));
        writer.delete().forPath("/cur/cache/z/deeper");
        show("cache event", nextEvent(events));
        writer.delete().forPath("/cur/cache/z");
        show("cache event", nextEvent(events));
        show("events left", events);
        cache.close();

        for (CuratorFramework c : clients) c.close();
        main.close();
    }

    /** Waits until the cache holds exactly want ("[path=data, ...]", sorted), and returns what it holds. */
    static String awaitCache(CuratorCache cache, String want) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 20000;
        String got;
        while (true) {
            List<String> nodes = new ArrayList<>();
            cache.stream().forEach(d -> nodes.add(d.getPath() + "=" + s(d.getData())));
            Collections.sort(nodes);
            got = nodes.toString();
            if (got.equals(want) || System.currentTimeMillis() > deadline) return got;
            Thread.sleep(20); // the cache offers no wait for a state
        }
    }

    /** Takes events until want, and drops the ones before it. */
    static void awaitEvent(LinkedBlockingQueue<String> events, String want) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 20000;
        for (String e = ""; !e.equals(want); ) {
            e = events.poll(Math.max(1, deadline - System.currentTimeMillis()), TimeUnit.MILLISECONDS);
            if (e == null) throw new IllegalStateException("no " + want + " event within 20 s");
        }
    }

    static String nextEvent(LinkedBlockingQueue<String> events) throws InterruptedException {
        String e = events.poll(20, TimeUnit.SECONDS);
        return e == null ? "no event within 20 s" : e;
    }

    static LeaderLatch awaitLeader(List<LeaderLatch> latches) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 30000;
        while (System.currentTimeMillis() < deadline) {
            for (LeaderLatch l : latches) if (l.hasLeadership()) return l;
            Thread.sleep(20); // leadership is learnt from watches; Curator offers no wait across latches
        }
        return null;
    }

    static int countLeaders(List<LeaderLatch> latches) {
        int n = 0;
        for (LeaderLatch l : latches) if (l.hasLeadership()) n++;
        return n;
    }

    static String curatorResults(List<CuratorTransactionResult> rs) {
        StringBuilder sb = new StringBuilder();
        for (CuratorTransactionResult r : rs) {
            if (sb.length() > 0) sb.append(" ");
            sb.append(r.getType()).append("(").append(r.getForPath()).append(" ").append(r.getError()).append(")");
        }
        return sb.toString();
    }
}

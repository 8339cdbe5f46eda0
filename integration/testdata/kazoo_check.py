"""Drive kazoo (Debian's python3-kazoo) against a server and print what it
observes, one "name: value" line per observation, for integration/kazoo_test.go
to compare with what ZooKeeper gives. Lists of children are printed sorted:
ZooKeeper returns them in no particular order.

Usage: /usr/bin/python3 kazoo_check.py <host:port,...> <root>
"""
import sys
import threading

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException
from kazoo.protocol.states import EventType
from kazoo.recipe.counter import Counter
from kazoo.recipe.lock import Lock
from kazoo.security import make_digest_acl

HOSTS, ROOT = sys.argv[1], sys.argv[2]
printing = threading.Lock()


def show(name, value):
    with printing:
        print("%s: %s" % (name, value), flush=True)


def outcome(name, fn):
    """Run fn and print its result, or the name of the error it raised."""
    try:
        show(name, fn())
    except KazooException as e:
        show(name, type(e).__name__)


def client(**kw):
    zk = KazooClient(hosts=HOSTS, timeout=10.0, **kw)
    zk.start(timeout=30)
    return zk


def wait(event, what):
    if not event.wait(20):
        show(what, "no event within 20 s")
        return False
    return True


def crud(zk):
    r = ROOT + "/crud"
    outcome("create", lambda: zk.create(r, b"one"))
    outcome("create again", lambda: zk.create(r, b"two"))
    outcome("create under a missing parent", lambda: zk.create(ROOT + "/missing/child"))
    outcome("create makepath", lambda: zk.create(ROOT + "/deep/er/node", b"d", makepath=True))
    data, st = zk.get(r)
    show("get", "%r version=%d dataLength=%d numChildren=%d" % (data, st.version, st.data_length, st.numChildren))
    outcome("set version 0", lambda: zk.set(r, b"uno", version=0).version)
    outcome("set stale version 0", lambda: zk.set(r, b"x", version=0))
    outcome("set any version", lambda: zk.set(r, b"eins").version)
    outcome("get after sets", lambda: zk.get(r)[0])
    outcome("exists missing", lambda: zk.exists(r + "/none"))
    outcome("get missing", lambda: zk.get(r + "/none"))
    zk.create(r + "/kid", b"")
    outcome("delete not empty", lambda: zk.delete(r))
    outcome("delete bad version", lambda: zk.delete(r + "/kid", version=5))
    outcome("delete missing", lambda: zk.delete(r + "/none"))
    outcome("delete kid", lambda: zk.delete(r + "/kid"))
    _, st = zk.get(r)
    show("parent after a child came and went", "cversion=%d numChildren=%d" % (st.cversion, st.numChildren))
    outcome("get_children include_data", lambda: (lambda c, s: "%s numChildren=%d" % (sorted(c), s.numChildren))(
        *zk.get_children(ROOT + "/deep", include_data=True)))
    outcome("delete recursive", lambda: zk.delete(ROOT + "/deep", recursive=True))
    outcome("exists after recursive delete", lambda: zk.exists(ROOT + "/deep"))
    outcome("sync", lambda: zk.sync(ROOT))


def sequences(zk):
    s = ROOT + "/seq"
    zk.create(s, b"")
    for i in range(3):
        outcome("sequential %d" % i, lambda: zk.create(s + "/n-", b"%d" % i, sequence=True))
    outcome("ephemeral sequential", lambda: zk.create(s + "/e-", b"", ephemeral=True, sequence=True))
    outcome("children", lambda: sorted(zk.get_children(s)))
    outcome("ephemeral owner is this session",
            lambda: zk.exists(s + "/e-0000000003").ephemeralOwner == zk.client_id[0])


def ephemerals(zk):
    e = ROOT + "/eph"
    zk.create(e, b"")
    other = client()
    other.create(e + "/mine", b"m", ephemeral=True)
    outcome("create under an ephemeral", lambda: other.create(e + "/mine/kid"))
    gone = threading.Event()

    def watcher(ev):
        show("watch on the other session's ephemeral", "%s %s" % (ev.type, ev.path))
        gone.set()

    outcome("seen by this session", lambda: zk.exists(e + "/mine", watch=watcher) is not None)
    other.stop()
    other.close()
    wait(gone, "ephemeral deleted")
    outcome("after the other session closed", lambda: zk.exists(e + "/mine"))


def watches(zk):
    w = ROOT + "/watch"
    zk.create(w, b"0")
    events = []
    fired = threading.Event()

    def watcher(ev):
        events.append("%s %s" % (ev.type, ev.path))
        fired.set()

    zk.get(w, watch=watcher)
    zk.set(w, b"1")
    wait(fired, "data watch")
    fired.clear()
    zk.get_children(w, watch=watcher)
    zk.create(w + "/c", b"")
    wait(fired, "child watch")
    fired.clear()
    zk.exists(w + "/later", watch=watcher)
    zk.create(w + "/later", b"")
    wait(fired, "exist watch")
    fired.clear()
    zk.get(w + "/later", watch=watcher)
    zk.delete(w + "/later")
    wait(fired, "delete watch")
    show("one-shot events", events)
    # A one-shot watch fires once: a second change brings no event.
    zk.set(w, b"2")
    zk.sync(w)
    show("events after a second change", len(events))

    seen = []
    changed = threading.Event()

    @zk.DataWatch(w)
    def data_watch(data, stat, event):
        seen.append((data, event.type if event else None))
        changed.set()

    wait(changed, "DataWatch first call")
    changed.clear()
    zk.set(w, b"3")
    wait(changed, "DataWatch change")
    show("DataWatch", seen)

    kids = []
    kid_changed = threading.Event()

    @zk.ChildrenWatch(w)
    def children_watch(children):
        kids.append(sorted(children))
        kid_changed.set()

    wait(kid_changed, "ChildrenWatch first call")
    kid_changed.clear()
    zk.create(w + "/d", b"")
    wait(kid_changed, "ChildrenWatch change")
    show("ChildrenWatch", kids)


def transactions(zk):
    t = ROOT + "/txn"
    zk.create(t, b"")
    tx = zk.transaction()
    tx.create(t + "/a", b"a")
    tx.set_data(t + "/a", b"a2")
    tx.check(t + "/a", 1)
    tx.create(t + "/b", b"b", ephemeral=True)
    tx.delete(t + "/b")
    show("transaction", [("stat version=%d" % r.version) if hasattr(r, "version") else r for r in tx.commit()])
    tx = zk.transaction()
    tx.create(t + "/c", b"c")
    tx.check(t + "/a", 7)
    tx.delete(t + "/a")
    results = tx.commit()
    show("failed transaction", [type(r).__name__ if isinstance(r, Exception) else r for r in results])
    outcome("nothing of it applied", lambda: (zk.exists(t + "/c"), zk.get(t + "/a")[0]))


def acls(zk):
    a = ROOT + "/acl"
    zk.add_auth("digest", "alice:secret")
    zk.create(a, b"private", acl=[make_digest_acl("alice", "secret", all=True)])
    outcome("get_acls", lambda: [(x.perms, x.id.scheme, x.id.id) for x in zk.get_acls(a)[0]])
    outcome("owner reads", lambda: zk.get(a)[0])
    stranger = client()
    outcome("stranger reads", lambda: stranger.get(a))
    outcome("stranger writes", lambda: stranger.set(a, b"x"))
    outcome("stranger lists (no read permission)", lambda: stranger.get_children(a))
    outcome("stranger deletes a child it cannot see", lambda: stranger.delete(a + "/none"))
    stranger.add_auth("digest", "alice:wrong")
    outcome("with the wrong password", lambda: stranger.get(a))
    stranger.add_auth("digest", "alice:secret")
    outcome("with the right password", lambda: stranger.get(a)[0])
    zk.set_acls(a, [make_digest_acl("alice", "secret", read=True)])
    outcome("aversion after set_acls", lambda: zk.get_acls(a)[1].aversion)
    outcome("owner writes a read-only node", lambda: zk.set(a, b"y"))
    outcome("set_acls with a stale version", lambda: zk.set_acls(a, [make_digest_acl("alice", "secret", all=True)], version=0))
    stranger.stop()
    stranger.close()


def recipes(zk):
    # Two clients take turns under kazoo's Lock; each increments a shared
    # value read-modify-write, which loses updates unless the lock excludes.
    path = ROOT + "/recipes"
    zk.create(path + "/value", b"0", makepath=True)
    clients = [client() for _ in range(2)]
    errors = []

    def worker(c, n):
        try:
            lock = Lock(c, path + "/lock", "w%d" % n)
            for _ in range(10):
                with lock:
                    v = int(c.get(path + "/value")[0])
                    c.set(path + "/value", b"%d" % (v + 1))
        except Exception as e:  # shown below
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(c, i)) for i, c in enumerate(clients)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    show("lock errors", errors)
    outcome("value after 20 locked increments", lambda: zk.get(path + "/value")[0])
    outcome("lock nodes left", lambda: zk.get_children(path + "/lock"))
    counter = Counter(zk, path + "/counter")
    counter += 5
    counter -= 2
    show("counter", counter.value)
    for c in clients:
        c.stop()
        c.close()


def main():
    zk = client()
    zk.ensure_path(ROOT)
    for step in (crud, sequences, ephemerals, watches, transactions, acls, recipes):
        step(zk)
    zk.stop()
    zk.close()
    show("done", True)


if __name__ == "__main__":
    main()

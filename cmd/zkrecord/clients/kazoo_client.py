"""Drive kazoo through the recording proxy of cmd/zkrecord.

It talks to cmd/zkrecord over stdin/stdout like GoldenClient.java: a line
"NOTE <text>" becomes a comment in the record once the driver answers with a
line, so the comment lands right before the frames of the call it describes.
Other lines are the calls' outcomes.

Usage: /usr/bin/python3 kazoo_client.py <host:port> <root>
"""
import sys
import threading

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException
from kazoo.security import make_digest_acl, OPEN_ACL_UNSAFE


# Watch callbacks print from kazoo's thread: one lock keeps lines whole.
printing = threading.Lock()


def note(text):
    with printing:
        print("NOTE " + text, flush=True)
    if not sys.stdin.readline():
        raise SystemExit("driver went away")


def out(text):
    with printing:
        print(text, flush=True)


def call(what, fn):
    note(what)
    try:
        out("ok: %r" % (fn(),))
    except KazooException as e:
        out("error: %s %r" % (type(e).__name__, e))


def main():
    addr, root = sys.argv[1], sys.argv[2]
    note("KazooClient(%s).start(): connect" % addr)
    zk = KazooClient(hosts=addr, timeout=30.0)
    zk.start(timeout=30)

    call("add_auth digest golden:secret", lambda: zk.add_auth("digest", "golden:secret"))
    call("create %s" % root, lambda: zk.create(root, b"kazoo"))
    call("create %s/a/b makepath (creates a, then b)" % root,
         lambda: zk.create(root + "/a/b", b"b", makepath=True))
    call("create %s/e- ephemeral sequence" % root,
         lambda: zk.create(root + "/e-", b"e", ephemeral=True, sequence=True))
    call("create %s/s2 include_data (create2)" % root,
         lambda: zk.create(root + "/s2", b"s2", include_data=True))
    call("create %s/acl with a digest ACL for golden:secret" % root,
         lambda: zk.create(root + "/acl", b"secret", acl=[make_digest_acl("golden", "secret", all=True)]))
    call("get_acls %s/acl" % root, lambda: zk.get_acls(root + "/acl"))
    call("set_acls %s/acl to digest golden read only" % root,
         lambda: zk.set_acls(root + "/acl", [make_digest_acl("golden", "secret", read=True)]))
    call("set %s/acl: NOAUTH (read-only ACL)" % root, lambda: zk.set(root + "/acl", b"no"))
    call("get %s/s2" % root, lambda: zk.get(root + "/s2"))
    call("exists %s/none" % root, lambda: zk.exists(root + "/none"))
    call("get_children %s" % root, lambda: zk.get_children(root))
    call("get_children %s include_data (getChildren2)" % root,
         lambda: zk.get_children(root, include_data=True))

    fired = threading.Event()

    def on_data(event):
        out("watch: %s %s %s" % (event.type, event.state, event.path))
        fired.set()

    call("get %s/s2 with a watch" % root, lambda: zk.get(root + "/s2", watch=on_data))
    call("set %s/s2: the watch fires" % root, lambda: zk.set(root + "/s2", b"s2b"))
    fired.wait(30)
    fired.clear()
    call("get_children %s with a watch" % root, lambda: zk.get_children(root, watch=on_data))
    call("delete %s/s2: the child watch fires" % root, lambda: zk.delete(root + "/s2"))
    fired.wait(30)

    def txn_ok():
        t = zk.transaction()
        t.create(root + "/t1", b"t1")
        t.set_data(root + "/t1", b"t1b")
        t.check(root + "/t1", 1)
        t.delete(root + "/t1")
        return t.commit()

    call("transaction: create, set_data, check, delete", txn_ok)

    def txn_fail():
        t = zk.transaction()
        t.create(root + "/t2", b"t2")
        t.create(root + "/t2", b"again")
        t.delete(root + "/a")
        return t.commit()

    call("transaction failing at op 2 (NODEEXISTS), op 3 would be NOTEMPTY", txn_fail)
    call("sync %s" % root, lambda: zk.sync(root))
    # No reconfig: kazoo 2.8 does not know RECONFIGDISABLED (-123) and its
    # connection thread dies on "Invalid error code".
    call("delete %s recursive" % root, lambda: zk.delete(root, recursive=True))
    note("stop(): closeSession")
    zk.stop()
    zk.close()

    note("KazooClient with client_id=(0x7777777777, 16 zero bytes): the session is expired, kazoo starts a new one")
    zk2 = KazooClient(hosts=addr, timeout=30.0, client_id=(0x7777777777, b"\0" * 16))
    zk2.start(timeout=30)
    call("exists / on the new session", lambda: zk2.exists("/"))
    note("stop(): closeSession")
    zk2.stop()
    zk2.close()


if __name__ == "__main__":
    main()

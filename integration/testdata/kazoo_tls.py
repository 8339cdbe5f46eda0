"""kazoo over TLS: python3 kazoo_tls.py host:port ca.pem cert.pem key.pem

Prints one "name: value" observation per line."""
import sys

from kazoo.client import KazooClient
from kazoo.security import ACL, Id, Permissions

hosts, ca, cert, key = sys.argv[1:5]
zk = KazooClient(hosts=hosts, use_ssl=True, verify_certs=True, ca=ca, certfile=cert, keyfile=key, timeout=10)
zk.start(timeout=20)
print("connected:", zk.connected)
print("create:", zk.create("/kazoo-tls", b"over tls", acl=[ACL(Permissions.ALL, Id("auth", ""))]))
acls, _ = zk.get_acls("/kazoo-tls")
print("acl:", acls[0].id.scheme, acls[0].id.id, acls[0].perms)
print("get:", zk.get("/kazoo-tls")[0])
zk.stop()
zk.close()

anon = KazooClient(hosts=hosts, use_ssl=True, verify_certs=True, ca=ca, timeout=3, connection_retry={"max_tries": 0})
try:
    anon.start(timeout=5)
    print("without a certificate: connected")
    anon.stop()
except Exception:
    print("without a certificate: failed")
anon.close()

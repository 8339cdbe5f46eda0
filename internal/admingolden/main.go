// Command admingolden makes the small state the AdminServer golden files are
// recorded against, on a ZooKeeper or vrkeeper server, and keeps its session
// open until it is killed:
//
//	/golden        data "hello"
//	/golden/child  data "c"
//	/golden/eph    an ephemeral of this session
//
// with a data watch on /golden and a child watch on /golden. It writes the
// file named by its second argument once the state is in place.
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/go-zookeeper/zk"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: admingolden host:port readyfile")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "admingolden:", err)
		os.Exit(1)
	}
	select {}
}

func run(addr, ready string) error {
	c, _, err := zk.Connect([]string{addr}, 30*time.Second, zk.WithLogInfo(false))
	if err != nil {
		return err
	}
	acl := zk.WorldACL(zk.PermAll)
	for _, n := range []struct {
		path, data string
		flags      int32
	}{{"/golden", "hello", 0}, {"/golden/child", "c", 0}, {"/golden/eph", "e", zk.FlagEphemeral}} {
		if _, err := c.Create(n.path, []byte(n.data), n.flags, acl); err != nil {
			return fmt.Errorf("create %s: %w", n.path, err)
		}
	}
	if _, _, _, err := c.GetW("/golden"); err != nil {
		return err
	}
	if _, _, _, err := c.ChildrenW("/golden"); err != nil {
		return err
	}
	return os.WriteFile(ready, []byte("ok\n"), 0o644)
}

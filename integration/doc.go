// Package integration tests whole vrkeeper servers: real processes on
// 127.0.0.x ports, driven by real ZooKeeper clients, killed with SIGKILL
// and restarted. The same tests run against Apache ZooKeeper itself with
// VRK_TARGET=zookeeper, which is how they are checked to assert ZooKeeper's
// behaviour and not an accident of vrkeeper's.
package integration

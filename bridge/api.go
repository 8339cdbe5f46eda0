package bridge

import "github.com/vrkeeper/vrkeeper/tree"

// Role is what a server is in its cluster, as srvr's Mode reports it.
type Role uint8

// The roles.
const (
	RoleNone       Role = iota // not serving: no primary known, or catching up
	RoleStandalone             // a single-node cluster
	RolePrimary                // the VR primary ("leader")
	RoleBackup                 // a VR backup ("follower")
)

// String returns the mode name ZooKeeper's srvr uses.
func (r Role) String() string {
	switch r {
	case RoleStandalone:
		return "standalone"
	case RolePrimary:
		return "leader"
	case RoleBackup:
		return "follower"
	}
	return "none"
}

// Handler is the client-facing side the node calls on its apply goroutine.
// Everything it is given (the Apply handle, the tree) is valid only during
// the call, on that goroutine, which is also the only goroutine that may
// touch the handler's own state.
type Handler interface {
	// BeforeApply is called before each committed command is applied, with
	// the command: a session's reads that came before its write must be
	// answered before the write changes the tree (ZooKeeper's FIFO order).
	BeforeApply(a *Apply, zxid int64, cmd []byte)
	// Applied is called after each committed command has been applied, in
	// log order, with what applying it produced.
	Applied(a *Apply, zxid int64, out *tree.Output)
	// Tick is called every tick (the configured tickTime divided by a
	// small factor) for periodic work: session renewal and expiry, clean-up.
	Tick(a *Apply)
	// Restored is called after the tree was replaced by a snapshot from a
	// peer: sessions and watches may not match it any more.
	Restored(a *Apply)
	// RoleChanged is called when the server's role or view changes. Writes
	// proposed before the change may have been lost.
	RoleChanged(a *Apply, role Role)
}

package zkproto

import "strconv"

// OpCode is the type field of a RequestHeader or MultiHeader (ZooDefs.OpCode).
type OpCode int32

// The opcodes of ZooKeeper 3.9 (ZooDefs.OpCode).
const (
	OpNotification         OpCode = 0 // travels as xid -1, never as a request type
	OpCreate               OpCode = 1
	OpDelete               OpCode = 2
	OpExists               OpCode = 3
	OpGetData              OpCode = 4
	OpSetData              OpCode = 5
	OpGetACL               OpCode = 6
	OpSetACL               OpCode = 7
	OpGetChildren          OpCode = 8
	OpSync                 OpCode = 9
	OpPing                 OpCode = 11
	OpGetChildren2         OpCode = 12
	OpCheck                OpCode = 13
	OpMulti                OpCode = 14
	OpCreate2              OpCode = 15
	OpReconfig             OpCode = 16
	OpCheckWatches         OpCode = 17
	OpRemoveWatches        OpCode = 18
	OpCreateContainer      OpCode = 19
	OpDeleteContainer      OpCode = 20 // server-internal; never sent by clients
	OpCreateTTL            OpCode = 21
	OpMultiRead            OpCode = 22
	OpAuth                 OpCode = 100
	OpSetWatches           OpCode = 101
	OpSASL                 OpCode = 102
	OpGetEphemerals        OpCode = 103
	OpGetAllChildrenNumber OpCode = 104
	OpSetWatches2          OpCode = 105
	OpAddWatch             OpCode = 106
	OpWhoAmI               OpCode = 107
	OpCreateSession        OpCode = -10 // the ConnectRequest; never a request type on the wire
	OpCloseSession         OpCode = -11
	OpError                OpCode = -1 // the type of a failed op's result in a MultiResponse
)

var opNames = map[OpCode]string{
	OpNotification: "notification", OpCreate: "create", OpDelete: "delete",
	OpExists: "exists", OpGetData: "getData", OpSetData: "setData", OpGetACL: "getACL",
	OpSetACL: "setACL", OpGetChildren: "getChildren", OpSync: "sync", OpPing: "ping",
	OpGetChildren2: "getChildren2", OpCheck: "check", OpMulti: "multi", OpCreate2: "create2",
	OpReconfig: "reconfig", OpCheckWatches: "checkWatches", OpRemoveWatches: "removeWatches",
	OpCreateContainer: "createContainer", OpDeleteContainer: "deleteContainer",
	OpCreateTTL: "createTTL", OpMultiRead: "multiRead", OpAuth: "auth",
	OpSetWatches: "setWatches", OpSASL: "sasl", OpGetEphemerals: "getEphemerals",
	OpGetAllChildrenNumber: "getAllChildrenNumber", OpSetWatches2: "setWatches2",
	OpAddWatch: "addWatch", OpWhoAmI: "whoAmI", OpCreateSession: "createSession",
	OpCloseSession: "closeSession", OpError: "error",
}

// String returns ZooKeeper's name of the opcode, or its number if unknown.
func (o OpCode) String() string {
	if n, ok := opNames[o]; ok {
		return n
	}
	return "op" + strconv.Itoa(int(o))
}

// IsWrite reports whether the opcode changes the tree and so must be
// replicated (ZooKeeper's "txn" requests).
func (o OpCode) IsWrite() bool {
	switch o {
	case OpCreate, OpCreate2, OpCreateContainer, OpCreateTTL, OpDelete, OpSetData,
		OpSetACL, OpCheck, OpMulti, OpReconfig, OpCloseSession, OpDeleteContainer:
		return true
	}
	return false
}

// Reserved xids (ClientCnxn): replies with these xids are matched out of band
// and are not subject to the in-order rule, except SetWatchesXid.
const (
	NotificationXid int32 = -1 // a WatcherEvent pushed by the server
	PingXid         int32 = -2
	AuthXid         int32 = -4
	SetWatchesXid   int32 = -8
)

// CreateMode is the flags field of a create request (CreateMode.java).
type CreateMode int32

// The create modes.
const (
	ModePersistent                  CreateMode = 0
	ModeEphemeral                   CreateMode = 1
	ModePersistentSequential        CreateMode = 2
	ModeEphemeralSequential         CreateMode = 3
	ModeContainer                   CreateMode = 4
	ModePersistentWithTTL           CreateMode = 5
	ModePersistentSequentialWithTTL CreateMode = 6

	maxCreateMode = ModePersistentSequentialWithTTL
)

// Valid reports whether m is a defined create mode.
func (m CreateMode) Valid() bool { return m >= ModePersistent && m <= maxCreateMode }

// Sequential reports whether the mode appends a sequence suffix to the name.
func (m CreateMode) Sequential() bool {
	return m == ModePersistentSequential || m == ModeEphemeralSequential || m == ModePersistentSequentialWithTTL
}

// Ephemeral reports whether nodes of this mode die with their session.
func (m CreateMode) Ephemeral() bool { return m == ModeEphemeral || m == ModeEphemeralSequential }

// Container reports whether the mode is CONTAINER.
func (m CreateMode) Container() bool { return m == ModeContainer }

// TTL reports whether the mode is one of the TTL modes.
func (m CreateMode) TTL() bool {
	return m == ModePersistentWithTTL || m == ModePersistentSequentialWithTTL
}

// Permission bits of an ACL (ZooDefs.Perms).
const (
	PermRead   int32 = 1
	PermWrite  int32 = 2
	PermCreate int32 = 4
	PermDelete int32 = 8
	PermAdmin  int32 = 16
	PermAll    int32 = PermRead | PermWrite | PermCreate | PermDelete | PermAdmin
)

// WatcherType is the type of removeWatches and checkWatches (Watcher.WatcherType).
type WatcherType int32

// The watcher types.
const (
	WatcherChildren            WatcherType = 1
	WatcherData                WatcherType = 2
	WatcherAny                 WatcherType = 3
	WatcherPersistent          WatcherType = 4
	WatcherPersistentRecursive WatcherType = 5
)

// AddWatchMode is the mode of an addWatch request (AddWatchMode.java).
type AddWatchMode int32

// The addWatch modes.
const (
	AddWatchPersistent          AddWatchMode = 0
	AddWatchPersistentRecursive AddWatchMode = 1
)

// EventType is the type of a WatcherEvent (Watcher.Event.EventType).
type EventType int32

// The event types.
const (
	EventNone                   EventType = -1
	EventNodeCreated            EventType = 1
	EventNodeDeleted            EventType = 2
	EventNodeDataChanged        EventType = 3
	EventNodeChildrenChanged    EventType = 4
	EventDataWatchRemoved       EventType = 5
	EventChildWatchRemoved      EventType = 6
	EventPersistentWatchRemoved EventType = 7
)

// KeeperState is the state of a WatcherEvent (Watcher.Event.KeeperState).
type KeeperState int32

// The keeper states; the server sends only StateSyncConnected.
const (
	StateDisconnected      KeeperState = 0
	StateSyncConnected     KeeperState = 3
	StateAuthFailed        KeeperState = 4
	StateConnectedReadOnly KeeperState = 5
	StateSaslAuthenticated KeeperState = 6
	StateClosed            KeeperState = 7
	StateExpired           KeeperState = -112
)

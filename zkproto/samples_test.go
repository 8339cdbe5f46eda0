package zkproto

// sample is one record with every field set, used by the round-trip,
// hostile-input and fuzz-corpus tests.
type sample struct {
	name   string
	op     OpCode // request/response op the record belongs to, 0 if none
	record Record
	fresh  func() Record // an empty record of the same type to decode into
}

var sampleStat = Stat{
	Czxid: 0x100000002, Mzxid: 0x100000007, Ctime: 1732550000123, Mtime: 1732550009999,
	Version: 3, Cversion: -1, Aversion: 2, EphemeralOwner: 0x1000abcdef00001,
	DataLength: 11, NumChildren: 4, Pzxid: 0x100000009,
}

var sampleACL = []ACL{
	{Perms: PermAll, ID: Id{Scheme: "world", ID: "anyone"}},
	{Perms: PermRead | PermAdmin, ID: Id{Scheme: "digest", ID: "bob:Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA=="}},
	{Perms: PermCreate | PermDelete, ID: Id{Scheme: "ip", ID: "10.0.0.0/8"}},
}

// requestSamples holds one populated body for every client request op.
func requestSamples() []sample {
	return []sample{
		{"create", OpCreate, &CreateRequest{Path: "/app/lock-", Data: []byte("payload"), ACL: sampleACL, Flags: ModeEphemeralSequential}, nil},
		{"create-null-data", OpCreate, &CreateRequest{Path: "/n", Data: nil, ACL: sampleACL[:1], Flags: ModePersistent}, nil},
		{"create-empty-data", OpCreate2, &CreateRequest{Path: "/e", Data: []byte{}, ACL: sampleACL[:1], Flags: ModePersistent}, nil},
		{"createContainer", OpCreateContainer, &CreateRequest{Path: "/c", Data: []byte("x"), ACL: sampleACL[:1], Flags: ModeContainer}, nil},
		{"createTTL", OpCreateTTL, &CreateTTLRequest{Path: "/ttl", Data: []byte("t"), ACL: sampleACL, Flags: ModePersistentSequentialWithTTL, TTL: 60000}, nil},
		{"delete", OpDelete, &DeleteRequest{Path: "/app", Version: -1}, nil},
		{"exists", OpExists, &ExistsRequest{Path: "/app", Watch: true}, nil},
		{"getData", OpGetData, &GetDataRequest{Path: "/app/config", Watch: true}, nil},
		{"setData", OpSetData, &SetDataRequest{Path: "/app/config", Data: []byte("v2"), Version: 7}, nil},
		{"getACL", OpGetACL, &GetACLRequest{Path: "/app"}, nil},
		{"setACL", OpSetACL, &SetACLRequest{Path: "/app", ACL: sampleACL, Version: 0}, nil},
		{"getChildren", OpGetChildren, &GetChildrenRequest{Path: "/", Watch: false}, nil},
		{"getChildren2", OpGetChildren2, &GetChildren2Request{Path: "/app", Watch: true}, nil},
		{"sync", OpSync, &SyncRequest{Path: "/app"}, nil},
		{"ping", OpPing, &PingRequest{}, nil},
		{"check", OpCheck, &CheckVersionRequest{Path: "/app", Version: 4}, nil},
		{"multi", OpMulti, &MultiRequest{Ops: []MultiOp{
			{OpCreate, &CreateRequest{Path: "/m/a", Data: []byte("a"), ACL: sampleACL[:1], Flags: ModePersistent}},
			{OpCreate2, &CreateRequest{Path: "/m/b", Data: nil, ACL: sampleACL[:1], Flags: ModeEphemeral}},
			{OpCreateContainer, &CreateRequest{Path: "/m/c", Data: []byte{}, ACL: sampleACL[:1], Flags: ModeContainer}},
			{OpCreateTTL, &CreateTTLRequest{Path: "/m/t", Data: []byte("t"), ACL: sampleACL[:1], Flags: ModePersistentWithTTL, TTL: 1000}},
			{OpCheck, &CheckVersionRequest{Path: "/m", Version: 0}},
			{OpSetData, &SetDataRequest{Path: "/m", Data: []byte("d"), Version: -1}},
			{OpDelete, &DeleteRequest{Path: "/m/a", Version: 0}},
		}}, nil},
		{"multi-empty", OpMulti, &MultiRequest{Ops: []MultiOp{}}, nil},
		{"multiRead", OpMultiRead, &MultiRequest{Ops: []MultiOp{
			{OpGetData, &GetDataRequest{Path: "/a"}},
			{OpGetChildren, &GetChildrenRequest{Path: "/"}},
		}}, nil},
		{"reconfig", OpReconfig, &ReconfigRequest{JoiningServers: "server.4=127.0.0.1:2888:3888;2184", LeavingServers: "1", NewMembers: "", CurConfigID: -1}, nil},
		{"checkWatches", OpCheckWatches, &CheckWatchesRequest{Path: "/w", Type: WatcherAny}, nil},
		{"removeWatches", OpRemoveWatches, &RemoveWatchesRequest{Path: "/w", Type: WatcherData}, nil},
		{"auth", OpAuth, &AuthPacket{Type: 0, Scheme: "digest", Auth: []byte("bob:secret")}, nil},
		{"setWatches", OpSetWatches, &SetWatches{RelativeZxid: 0x200000005, DataWatches: []string{"/a", "/b"}, ExistWatches: []string{"/c"}, ChildWatches: []string{"/"}}, nil},
		{"sasl", OpSASL, &GetSASLRequest{Token: []byte{0x60, 0x82, 0x01}}, nil},
		{"getEphemerals", OpGetEphemerals, &GetEphemeralsRequest{PrefixPath: "/app"}, nil},
		{"getAllChildrenNumber", OpGetAllChildrenNumber, &GetAllChildrenNumberRequest{Path: "/app"}, nil},
		{"setWatches2", OpSetWatches2, &SetWatches2{RelativeZxid: 9, DataWatches: []string{"/a"}, ExistWatches: []string{}, ChildWatches: []string{"/c"}, PersistentWatches: []string{"/p"}, PersistentRecursiveWatches: []string{"/r", "/r2"}}, nil},
		{"addWatch", OpAddWatch, &AddWatchRequest{Path: "/p", Mode: AddWatchPersistentRecursive}, nil},
		{"whoAmI", OpWhoAmI, &WhoAmIRequest{}, nil},
		{"closeSession", OpCloseSession, &CloseSessionRequest{}, nil},
	}
}

// responseSamples holds one populated body for every reply that has one.
func responseSamples() []sample {
	return []sample{
		{"create", OpCreate, &CreateResponse{Path: "/app/lock-0000000007"}, nil},
		{"create2", OpCreate2, &Create2Response{Path: "/app/n", Stat: sampleStat}, nil},
		{"exists", OpExists, &ExistsResponse{Stat: sampleStat}, nil},
		{"getData", OpGetData, &GetDataResponse{Data: []byte("hello world"), Stat: sampleStat}, nil},
		{"getData-null", OpGetData, &GetDataResponse{Data: nil, Stat: sampleStat}, nil},
		{"reconfig", OpReconfig, &GetDataResponse{Data: []byte("server.1=127.0.0.1:2888:3888:participant;0.0.0.0:2181\nversion=100000000"), Stat: sampleStat}, nil},
		{"setData", OpSetData, &SetDataResponse{Stat: sampleStat}, nil},
		{"getACL", OpGetACL, &GetACLResponse{ACL: sampleACL, Stat: sampleStat}, nil},
		{"setACL", OpSetACL, &SetACLResponse{Stat: sampleStat}, nil},
		{"getChildren", OpGetChildren, &GetChildrenResponse{Children: []string{"zookeeper", "app", "b"}}, nil},
		{"getChildren-empty", OpGetChildren, &GetChildrenResponse{Children: []string{}}, nil},
		{"getChildren2", OpGetChildren2, &GetChildren2Response{Children: []string{"x"}, Stat: sampleStat}, nil},
		{"sync", OpSync, &SyncResponse{Path: "/app"}, nil},
		{"multi", OpMulti, &MultiResponse{Results: []MultiResult{
			{OpCreate, OK, &CreateResponse{Path: "/m/a"}},
			{OpCreate2, OK, &Create2Response{Path: "/m/b", Stat: sampleStat}},
			{OpCheck, OK, nil},
			{OpSetData, OK, &SetDataResponse{Stat: sampleStat}},
			{OpDelete, OK, nil},
		}}, nil},
		{"multi-failed", OpMulti, &MultiResponse{Results: []MultiResult{
			{OpError, OK, &ErrorResponse{Err: OK}},
			{OpError, ErrNodeExists, &ErrorResponse{Err: ErrNodeExists}},
			{OpError, ErrRuntimeInconsistency, &ErrorResponse{Err: ErrRuntimeInconsistency}},
		}}, nil},
		{"multiRead", OpMultiRead, &MultiResponse{Results: []MultiResult{
			{OpGetData, OK, &GetDataResponse{Data: []byte("a"), Stat: sampleStat}},
			{OpGetChildren, OK, &GetChildrenResponse{Children: []string{"c1", "c2"}}},
			{OpError, ErrNoNode, &ErrorResponse{Err: ErrNoNode}},
		}}, nil},
		{"sasl", OpSASL, &SetSASLResponse{Token: []byte("tok")}, nil},
		{"getEphemerals", OpGetEphemerals, &GetEphemeralsResponse{Ephemerals: []string{"/app/e1", "/e2"}}, nil},
		{"getAllChildrenNumber", OpGetAllChildrenNumber, &GetAllChildrenNumberResponse{TotalNumber: 12345}, nil},
		{"addWatch", OpAddWatch, &ErrorResponse{Err: OK}, nil},
		{"whoAmI", OpWhoAmI, &WhoAmIResponse{ClientInfo: []ClientInfo{{AuthScheme: "ip", User: "127.0.0.1"}, {AuthScheme: "digest", User: "bob"}}}, nil},
	}
}

// otherSamples holds the records that are neither a request nor a reply body.
func otherSamples() []sample {
	return []sample{
		{"connectRequest-45", 0, &ConnectRequest{ProtocolVersion: 0, LastZxidSeen: 0x300000001, TimeOut: 30000, SessionID: 0x1000abcdef00001, Passwd: make([]byte, 16), ReadOnly: true, HasReadOnly: true}, func() Record { return &ConnectRequest{} }},
		{"connectRequest-44", 0, &ConnectRequest{ProtocolVersion: 0, LastZxidSeen: 0, TimeOut: 4000, SessionID: 0, Passwd: make([]byte, 16)}, func() Record { return &ConnectRequest{} }},
		{"connectResponse-37", 0, &ConnectResponse{ProtocolVersion: 0, TimeOut: 4000, SessionID: 0x1000abcdef00001, Passwd: []byte("0123456789abcdef"), HasReadOnly: true}, func() Record { return &ConnectResponse{} }},
		{"connectResponse-36", 0, &ConnectResponse{ProtocolVersion: 0, TimeOut: 0, SessionID: 0, Passwd: make([]byte, 16)}, func() Record { return &ConnectResponse{} }},
		{"requestHeader", 0, &RequestHeader{Xid: 42, Type: OpGetData}, func() Record { return &RequestHeader{} }},
		{"replyHeader", 0, &ReplyHeader{Xid: 42, Zxid: 0x100000003, Err: ErrNoNode}, func() Record { return &ReplyHeader{} }},
		{"multiHeader", 0, &MultiHeader{Type: OpCreate, Done: false, Err: -1}, func() Record { return &MultiHeader{} }},
		{"watcherEvent", 0, &WatcherEvent{Type: EventNodeDataChanged, State: StateSyncConnected, Path: "/app/config"}, func() Record { return &WatcherEvent{} }},
		{"stat", 0, &sampleStat, func() Record { return &Stat{} }},
		{"acl", 0, &sampleACL[1], func() Record { return &ACL{} }},
		{"id", 0, &Id{Scheme: "sasl", ID: "zk@EXAMPLE.COM"}, func() Record { return &Id{} }},
		{"clientInfo", 0, &ClientInfo{AuthScheme: "digest", User: "alice"}, func() Record { return &ClientInfo{} }},
	}
}

// allSamples returns every sample with fresh set.
func allSamples() []sample {
	var all []sample
	for _, s := range requestSamples() {
		op := s.op
		s.fresh = func() Record { return NewRequest(op) }
		s.name = "request/" + s.name
		all = append(all, s)
	}
	for _, s := range responseSamples() {
		op := s.op
		s.fresh = func() Record { r, _ := NewResponse(op); return r }
		s.name = "response/" + s.name
		all = append(all, s)
	}
	for _, s := range otherSamples() {
		s.name = "record/" + s.name
		all = append(all, s)
	}
	return all
}

package zkproto

// NewRequest returns an empty request body for op, or nil if op has no
// request a client may send. Ops with an empty body (ping, whoAmI,
// closeSession) get their empty type.
func NewRequest(op OpCode) Record {
	switch op {
	case OpCreate, OpCreate2, OpCreateContainer:
		return &CreateRequest{}
	case OpCreateTTL:
		return &CreateTTLRequest{}
	case OpDelete:
		return &DeleteRequest{}
	case OpExists:
		return &ExistsRequest{}
	case OpGetData:
		return &GetDataRequest{}
	case OpSetData:
		return &SetDataRequest{}
	case OpGetACL:
		return &GetACLRequest{}
	case OpSetACL:
		return &SetACLRequest{}
	case OpGetChildren:
		return &GetChildrenRequest{}
	case OpGetChildren2:
		return &GetChildren2Request{}
	case OpSync:
		return &SyncRequest{}
	case OpPing:
		return &PingRequest{}
	case OpCheck:
		return &CheckVersionRequest{}
	case OpMulti, OpMultiRead:
		return &MultiRequest{}
	case OpReconfig:
		return &ReconfigRequest{}
	case OpCheckWatches:
		return &CheckWatchesRequest{}
	case OpRemoveWatches:
		return &RemoveWatchesRequest{}
	case OpAuth:
		return &AuthPacket{}
	case OpSetWatches:
		return &SetWatches{}
	case OpSASL:
		return &GetSASLRequest{}
	case OpGetEphemerals:
		return &GetEphemeralsRequest{}
	case OpGetAllChildrenNumber:
		return &GetAllChildrenNumberRequest{}
	case OpSetWatches2:
		return &SetWatches2{}
	case OpAddWatch:
		return &AddWatchRequest{}
	case OpWhoAmI:
		return &WhoAmIRequest{}
	case OpCloseSession:
		return &CloseSessionRequest{}
	}
	return nil
}

// NewResponse returns an empty body for a successful reply to op. It returns
// nil with ok true for ops whose reply has no body, and ok false for ops a
// client cannot send. A reply whose header carries an error has no body.
func NewResponse(op OpCode) (body Record, ok bool) {
	switch op {
	case OpCreate:
		return &CreateResponse{}, true
	case OpCreate2, OpCreateContainer, OpCreateTTL:
		return &Create2Response{}, true
	case OpExists:
		return &ExistsResponse{}, true
	case OpGetData, OpReconfig:
		return &GetDataResponse{}, true
	case OpSetData:
		return &SetDataResponse{}, true
	case OpGetACL:
		return &GetACLResponse{}, true
	case OpSetACL:
		return &SetACLResponse{}, true
	case OpGetChildren:
		return &GetChildrenResponse{}, true
	case OpGetChildren2:
		return &GetChildren2Response{}, true
	case OpSync:
		return &SyncResponse{}, true
	case OpMulti, OpMultiRead:
		return &MultiResponse{}, true
	case OpSASL:
		return &SetSASLResponse{}, true
	case OpGetEphemerals:
		return &GetEphemeralsResponse{}, true
	case OpGetAllChildrenNumber:
		return &GetAllChildrenNumberResponse{}, true
	case OpAddWatch:
		return &ErrorResponse{}, true
	case OpWhoAmI:
		return &WhoAmIResponse{}, true
	case OpDelete, OpPing, OpCheck, OpCheckWatches, OpRemoveWatches, OpAuth,
		OpSetWatches, OpSetWatches2, OpCloseSession:
		return nil, true
	}
	return nil, false
}

// Requests holds one request body of each type, so that a connection can
// decode its stream of requests into reused records without allocating.
// A body from For is overwritten by the next decode of the same type.
type Requests struct {
	Create               CreateRequest
	CreateTTL            CreateTTLRequest
	Delete               DeleteRequest
	Exists               ExistsRequest
	GetData              GetDataRequest
	SetData              SetDataRequest
	GetACL               GetACLRequest
	SetACL               SetACLRequest
	GetChildren          GetChildrenRequest
	GetChildren2         GetChildren2Request
	Sync                 SyncRequest
	Ping                 PingRequest
	Check                CheckVersionRequest
	Multi                MultiRequest
	Reconfig             ReconfigRequest
	CheckWatches         CheckWatchesRequest
	RemoveWatches        RemoveWatchesRequest
	Auth                 AuthPacket
	SetWatches           SetWatches
	SASL                 GetSASLRequest
	GetEphemerals        GetEphemeralsRequest
	GetAllChildrenNumber GetAllChildrenNumberRequest
	SetWatches2          SetWatches2
	AddWatch             AddWatchRequest
	WhoAmI               WhoAmIRequest
	CloseSession         CloseSessionRequest
}

// For returns the reused body for op, or nil if op has no client request.
// It returns the same type NewRequest does.
func (s *Requests) For(op OpCode) Record {
	switch op {
	case OpCreate, OpCreate2, OpCreateContainer:
		return &s.Create
	case OpCreateTTL:
		return &s.CreateTTL
	case OpDelete:
		return &s.Delete
	case OpExists:
		return &s.Exists
	case OpGetData:
		return &s.GetData
	case OpSetData:
		return &s.SetData
	case OpGetACL:
		return &s.GetACL
	case OpSetACL:
		return &s.SetACL
	case OpGetChildren:
		return &s.GetChildren
	case OpGetChildren2:
		return &s.GetChildren2
	case OpSync:
		return &s.Sync
	case OpPing:
		return &s.Ping
	case OpCheck:
		return &s.Check
	case OpMulti, OpMultiRead:
		return &s.Multi
	case OpReconfig:
		return &s.Reconfig
	case OpCheckWatches:
		return &s.CheckWatches
	case OpRemoveWatches:
		return &s.RemoveWatches
	case OpAuth:
		return &s.Auth
	case OpSetWatches:
		return &s.SetWatches
	case OpSASL:
		return &s.SASL
	case OpGetEphemerals:
		return &s.GetEphemerals
	case OpGetAllChildrenNumber:
		return &s.GetAllChildrenNumber
	case OpSetWatches2:
		return &s.SetWatches2
	case OpAddWatch:
		return &s.AddWatch
	case OpWhoAmI:
		return &s.WhoAmI
	case OpCloseSession:
		return &s.CloseSession
	}
	return nil
}

package zkproto

// This file holds the body of every request a client sends after the
// handshake, one type per request. Bodies whose ops share a layout (create,
// create2 and createContainer all send a CreateRequest) share a type, and the
// RequestHeader's type tells them apart.

// CreateRequest is the body of create, create2 and createContainer.
type CreateRequest struct {
	Path  string
	Data  []byte // nil is sent as null and stored as null
	ACL   []ACL
	Flags CreateMode
}

// Append implements Record.
func (r *CreateRequest) Append(b []byte) []byte {
	b = AppendString(b, r.Path)
	b = AppendBuffer(b, r.Data)
	b = AppendACLs(b, r.ACL)
	return AppendInt32(b, int32(r.Flags))
}

// Decode implements Record.
func (r *CreateRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	r.Data = d.Buffer(r.Data)
	r.ACL = d.ACLs(r.ACL)
	r.Flags = CreateMode(d.Int32())
	return d.Err()
}

// CreateTTLRequest is the body of createTTL: a create with a time to live in
// ms for the TTL modes.
type CreateTTLRequest struct {
	Path  string
	Data  []byte
	ACL   []ACL
	Flags CreateMode
	TTL   int64
}

// Append implements Record.
func (r *CreateTTLRequest) Append(b []byte) []byte {
	b = AppendString(b, r.Path)
	b = AppendBuffer(b, r.Data)
	b = AppendACLs(b, r.ACL)
	b = AppendInt32(b, int32(r.Flags))
	return AppendInt64(b, r.TTL)
}

// Decode implements Record.
func (r *CreateTTLRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	r.Data = d.Buffer(r.Data)
	r.ACL = d.ACLs(r.ACL)
	r.Flags = CreateMode(d.Int32())
	r.TTL = d.Int64()
	return d.Err()
}

// DeleteRequest is the body of delete; Version -1 matches any version.
type DeleteRequest struct {
	Path    string
	Version int32
}

// Append implements Record.
func (r *DeleteRequest) Append(b []byte) []byte { return appendPathInt(b, r.Path, r.Version) }

// Decode implements Record.
func (r *DeleteRequest) Decode(d *Decoder) error {
	r.Path, r.Version = d.String(), d.Int32()
	return d.Err()
}

// CheckVersionRequest is the body of check (inside a multi).
type CheckVersionRequest struct {
	Path    string
	Version int32
}

// Append implements Record.
func (r *CheckVersionRequest) Append(b []byte) []byte { return appendPathInt(b, r.Path, r.Version) }

// Decode implements Record.
func (r *CheckVersionRequest) Decode(d *Decoder) error {
	r.Path, r.Version = d.String(), d.Int32()
	return d.Err()
}

// ExistsRequest is the body of exists.
type ExistsRequest struct {
	Path  string
	Watch bool
}

// Append implements Record.
func (r *ExistsRequest) Append(b []byte) []byte { return appendPathBool(b, r.Path, r.Watch) }

// Decode implements Record.
func (r *ExistsRequest) Decode(d *Decoder) error {
	r.Path, r.Watch = d.String(), d.Bool()
	return d.Err()
}

// GetDataRequest is the body of getData.
type GetDataRequest struct {
	Path  string
	Watch bool
}

// Append implements Record.
func (r *GetDataRequest) Append(b []byte) []byte { return appendPathBool(b, r.Path, r.Watch) }

// Decode implements Record.
func (r *GetDataRequest) Decode(d *Decoder) error {
	r.Path, r.Watch = d.String(), d.Bool()
	return d.Err()
}

// GetChildrenRequest is the body of getChildren.
type GetChildrenRequest struct {
	Path  string
	Watch bool
}

// Append implements Record.
func (r *GetChildrenRequest) Append(b []byte) []byte { return appendPathBool(b, r.Path, r.Watch) }

// Decode implements Record.
func (r *GetChildrenRequest) Decode(d *Decoder) error {
	r.Path, r.Watch = d.String(), d.Bool()
	return d.Err()
}

// GetChildren2Request is the body of getChildren2 (children and the stat).
type GetChildren2Request struct {
	Path  string
	Watch bool
}

// Append implements Record.
func (r *GetChildren2Request) Append(b []byte) []byte { return appendPathBool(b, r.Path, r.Watch) }

// Decode implements Record.
func (r *GetChildren2Request) Decode(d *Decoder) error {
	r.Path, r.Watch = d.String(), d.Bool()
	return d.Err()
}

// SetDataRequest is the body of setData; Version -1 matches any version.
type SetDataRequest struct {
	Path    string
	Data    []byte
	Version int32
}

// Append implements Record.
func (r *SetDataRequest) Append(b []byte) []byte {
	b = AppendString(b, r.Path)
	b = AppendBuffer(b, r.Data)
	return AppendInt32(b, r.Version)
}

// Decode implements Record.
func (r *SetDataRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	r.Data = d.Buffer(r.Data)
	r.Version = d.Int32()
	return d.Err()
}

// GetACLRequest is the body of getACL.
type GetACLRequest struct {
	Path string
}

// Append implements Record.
func (r *GetACLRequest) Append(b []byte) []byte { return AppendString(b, r.Path) }

// Decode implements Record.
func (r *GetACLRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	return d.Err()
}

// SetACLRequest is the body of setACL; Version is checked against aversion.
type SetACLRequest struct {
	Path    string
	ACL     []ACL
	Version int32
}

// Append implements Record.
func (r *SetACLRequest) Append(b []byte) []byte {
	b = AppendString(b, r.Path)
	b = AppendACLs(b, r.ACL)
	return AppendInt32(b, r.Version)
}

// Decode implements Record.
func (r *SetACLRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	r.ACL = d.ACLs(r.ACL)
	r.Version = d.Int32()
	return d.Err()
}

// SyncRequest is the body of sync.
type SyncRequest struct {
	Path string
}

// Append implements Record.
func (r *SyncRequest) Append(b []byte) []byte { return AppendString(b, r.Path) }

// Decode implements Record.
func (r *SyncRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	return d.Err()
}

// ReconfigRequest is the body of reconfig: incremental (joining and leaving
// servers) or bulk (new members), conditional on CurConfigID unless it is -1.
//
// Clients send null for the strings they leave out (Java's null, go-zookeeper's
// nil buffer, kazoo's None), and ZooKeeper tells an incremental reconfig from
// a bulk one by which strings are null, so each string carries a null flag;
// a null string decodes as "" with its flag set and encodes as -1.
type ReconfigRequest struct {
	JoiningServers string
	LeavingServers string
	NewMembers     string
	CurConfigID    int64

	JoiningServersNull bool // JoiningServers was (or is to be sent as) null
	LeavingServersNull bool // LeavingServers was (or is to be sent as) null
	NewMembersNull     bool // NewMembers was (or is to be sent as) null
}

// Append implements Record.
func (r *ReconfigRequest) Append(b []byte) []byte {
	b = AppendNullableString(b, r.JoiningServers, r.JoiningServersNull)
	b = AppendNullableString(b, r.LeavingServers, r.LeavingServersNull)
	b = AppendNullableString(b, r.NewMembers, r.NewMembersNull)
	return AppendInt64(b, r.CurConfigID)
}

// Decode implements Record.
func (r *ReconfigRequest) Decode(d *Decoder) error {
	r.JoiningServers, r.JoiningServersNull = d.NullableString()
	r.LeavingServers, r.LeavingServersNull = d.NullableString()
	r.NewMembers, r.NewMembersNull = d.NullableString()
	r.CurConfigID = d.Int64()
	return d.Err()
}

// CheckWatchesRequest is the body of checkWatches.
type CheckWatchesRequest struct {
	Path string
	Type WatcherType
}

// Append implements Record.
func (r *CheckWatchesRequest) Append(b []byte) []byte {
	return appendPathInt(b, r.Path, int32(r.Type))
}

// Decode implements Record.
func (r *CheckWatchesRequest) Decode(d *Decoder) error {
	r.Path, r.Type = d.String(), WatcherType(d.Int32())
	return d.Err()
}

// RemoveWatchesRequest is the body of removeWatches.
type RemoveWatchesRequest struct {
	Path string
	Type WatcherType
}

// Append implements Record.
func (r *RemoveWatchesRequest) Append(b []byte) []byte {
	return appendPathInt(b, r.Path, int32(r.Type))
}

// Decode implements Record.
func (r *RemoveWatchesRequest) Decode(d *Decoder) error {
	r.Path, r.Type = d.String(), WatcherType(d.Int32())
	return d.Err()
}

// AddWatchRequest is the body of addWatch.
type AddWatchRequest struct {
	Path string
	Mode AddWatchMode
}

// Append implements Record.
func (r *AddWatchRequest) Append(b []byte) []byte {
	return appendPathInt(b, r.Path, int32(r.Mode))
}

// Decode implements Record.
func (r *AddWatchRequest) Decode(d *Decoder) error {
	r.Path, r.Mode = d.String(), AddWatchMode(d.Int32())
	return d.Err()
}

// AuthPacket is the body of auth (xid -4): Type is always 0.
type AuthPacket struct {
	Type   int32
	Scheme string
	Auth   []byte
}

// Append implements Record.
func (r *AuthPacket) Append(b []byte) []byte {
	b = AppendInt32(b, r.Type)
	b = AppendString(b, r.Scheme)
	return AppendBuffer(b, r.Auth)
}

// Decode implements Record.
func (r *AuthPacket) Decode(d *Decoder) error {
	r.Type = d.Int32()
	r.Scheme = d.String()
	r.Auth = d.Buffer(r.Auth)
	return d.Err()
}

// SetWatches is the body of setWatches (xid -8): the watches a reconnecting
// client still holds, and the last zxid it saw.
type SetWatches struct {
	RelativeZxid int64
	DataWatches  []string
	ExistWatches []string
	ChildWatches []string
}

// Append implements Record.
func (r *SetWatches) Append(b []byte) []byte {
	b = AppendInt64(b, r.RelativeZxid)
	b = AppendStrings(b, r.DataWatches)
	b = AppendStrings(b, r.ExistWatches)
	return AppendStrings(b, r.ChildWatches)
}

// Decode implements Record.
func (r *SetWatches) Decode(d *Decoder) error {
	r.RelativeZxid = d.Int64()
	r.DataWatches = d.Strings(r.DataWatches)
	r.ExistWatches = d.Strings(r.ExistWatches)
	r.ChildWatches = d.Strings(r.ChildWatches)
	return d.Err()
}

// SetWatches2 is the body of setWatches2: SetWatches plus persistent watches.
type SetWatches2 struct {
	RelativeZxid               int64
	DataWatches                []string
	ExistWatches               []string
	ChildWatches               []string
	PersistentWatches          []string
	PersistentRecursiveWatches []string
}

// Append implements Record.
func (r *SetWatches2) Append(b []byte) []byte {
	b = AppendInt64(b, r.RelativeZxid)
	b = AppendStrings(b, r.DataWatches)
	b = AppendStrings(b, r.ExistWatches)
	b = AppendStrings(b, r.ChildWatches)
	b = AppendStrings(b, r.PersistentWatches)
	return AppendStrings(b, r.PersistentRecursiveWatches)
}

// Decode implements Record.
func (r *SetWatches2) Decode(d *Decoder) error {
	r.RelativeZxid = d.Int64()
	r.DataWatches = d.Strings(r.DataWatches)
	r.ExistWatches = d.Strings(r.ExistWatches)
	r.ChildWatches = d.Strings(r.ChildWatches)
	r.PersistentWatches = d.Strings(r.PersistentWatches)
	r.PersistentRecursiveWatches = d.Strings(r.PersistentRecursiveWatches)
	return d.Err()
}

// GetSASLRequest is the body of sasl: one token of the SASL exchange.
type GetSASLRequest struct {
	Token []byte
}

// Append implements Record.
func (r *GetSASLRequest) Append(b []byte) []byte { return AppendBuffer(b, r.Token) }

// Decode implements Record.
func (r *GetSASLRequest) Decode(d *Decoder) error {
	r.Token = d.Buffer(r.Token)
	return d.Err()
}

// GetEphemeralsRequest is the body of getEphemerals: the session's own
// ephemerals whose paths start with PrefixPath.
type GetEphemeralsRequest struct {
	PrefixPath string
}

// Append implements Record.
func (r *GetEphemeralsRequest) Append(b []byte) []byte { return AppendString(b, r.PrefixPath) }

// Decode implements Record.
func (r *GetEphemeralsRequest) Decode(d *Decoder) error {
	r.PrefixPath = d.String()
	return d.Err()
}

// GetAllChildrenNumberRequest is the body of getAllChildrenNumber.
type GetAllChildrenNumberRequest struct {
	Path string
}

// Append implements Record.
func (r *GetAllChildrenNumberRequest) Append(b []byte) []byte { return AppendString(b, r.Path) }

// Decode implements Record.
func (r *GetAllChildrenNumberRequest) Decode(d *Decoder) error {
	r.Path = d.String()
	return d.Err()
}

// PingRequest is the empty body of ping (xid -2).
type PingRequest struct{}

// Append implements Record.
func (*PingRequest) Append(b []byte) []byte { return b }

// Decode implements Record.
func (*PingRequest) Decode(d *Decoder) error { return d.Err() }

// CloseSessionRequest is the empty body of closeSession.
type CloseSessionRequest struct{}

// Append implements Record.
func (*CloseSessionRequest) Append(b []byte) []byte { return b }

// Decode implements Record.
func (*CloseSessionRequest) Decode(d *Decoder) error { return d.Err() }

// WhoAmIRequest is the empty body of whoAmI.
type WhoAmIRequest struct{}

// Append implements Record.
func (*WhoAmIRequest) Append(b []byte) []byte { return b }

// Decode implements Record.
func (*WhoAmIRequest) Decode(d *Decoder) error { return d.Err() }

func appendPathBool(b []byte, path string, v bool) []byte {
	return AppendBool(AppendString(b, path), v)
}

func appendPathInt(b []byte, path string, v int32) []byte {
	return AppendInt32(AppendString(b, path), v)
}

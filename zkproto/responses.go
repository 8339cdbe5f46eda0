package zkproto

// This file holds the body of every reply, one type per response. Ops whose
// reply has no body (delete, setWatches, checkWatches, removeWatches, ping,
// auth, closeSession) have no type here.

// CreateResponse answers create: the name of the node made (with its
// sequence suffix, if any).
type CreateResponse struct {
	Path string
}

// Append implements Record.
func (r *CreateResponse) Append(b []byte) []byte { return AppendString(b, r.Path) }

// Decode implements Record.
func (r *CreateResponse) Decode(d *Decoder) error {
	r.Path = d.String()
	return d.Err()
}

// Create2Response answers create2, createContainer and createTTL.
type Create2Response struct {
	Path string
	Stat Stat
}

// Append implements Record.
func (r *Create2Response) Append(b []byte) []byte {
	return r.Stat.Append(AppendString(b, r.Path))
}

// Decode implements Record.
func (r *Create2Response) Decode(d *Decoder) error {
	r.Path = d.String()
	return r.Stat.Decode(d)
}

// ExistsResponse answers exists.
type ExistsResponse struct {
	Stat Stat
}

// Append implements Record.
func (r *ExistsResponse) Append(b []byte) []byte { return r.Stat.Append(b) }

// Decode implements Record.
func (r *ExistsResponse) Decode(d *Decoder) error { return r.Stat.Decode(d) }

// GetDataResponse answers getData, and reconfig (with the new configuration).
type GetDataResponse struct {
	Data []byte // nil when the node holds null data
	Stat Stat
}

// Append implements Record.
func (r *GetDataResponse) Append(b []byte) []byte {
	return r.Stat.Append(AppendBuffer(b, r.Data))
}

// Decode implements Record.
func (r *GetDataResponse) Decode(d *Decoder) error {
	r.Data = d.Buffer(r.Data)
	return r.Stat.Decode(d)
}

// SetDataResponse answers setData.
type SetDataResponse struct {
	Stat Stat
}

// Append implements Record.
func (r *SetDataResponse) Append(b []byte) []byte { return r.Stat.Append(b) }

// Decode implements Record.
func (r *SetDataResponse) Decode(d *Decoder) error { return r.Stat.Decode(d) }

// GetACLResponse answers getACL.
type GetACLResponse struct {
	ACL  []ACL
	Stat Stat
}

// Append implements Record.
func (r *GetACLResponse) Append(b []byte) []byte {
	return r.Stat.Append(AppendACLs(b, r.ACL))
}

// Decode implements Record.
func (r *GetACLResponse) Decode(d *Decoder) error {
	r.ACL = d.ACLs(r.ACL)
	return r.Stat.Decode(d)
}

// SetACLResponse answers setACL.
type SetACLResponse struct {
	Stat Stat
}

// Append implements Record.
func (r *SetACLResponse) Append(b []byte) []byte { return r.Stat.Append(b) }

// Decode implements Record.
func (r *SetACLResponse) Decode(d *Decoder) error { return r.Stat.Decode(d) }

// GetChildrenResponse answers getChildren.
type GetChildrenResponse struct {
	Children []string
}

// Append implements Record.
func (r *GetChildrenResponse) Append(b []byte) []byte { return AppendStrings(b, r.Children) }

// Decode implements Record.
func (r *GetChildrenResponse) Decode(d *Decoder) error {
	r.Children = d.Strings(r.Children)
	return d.Err()
}

// GetChildren2Response answers getChildren2.
type GetChildren2Response struct {
	Children []string
	Stat     Stat
}

// Append implements Record.
func (r *GetChildren2Response) Append(b []byte) []byte {
	return r.Stat.Append(AppendStrings(b, r.Children))
}

// Decode implements Record.
func (r *GetChildren2Response) Decode(d *Decoder) error {
	r.Children = d.Strings(r.Children)
	return r.Stat.Decode(d)
}

// SyncResponse answers sync with the path it was given.
type SyncResponse struct {
	Path string
}

// Append implements Record.
func (r *SyncResponse) Append(b []byte) []byte { return AppendString(b, r.Path) }

// Decode implements Record.
func (r *SyncResponse) Decode(d *Decoder) error {
	r.Path = d.String()
	return d.Err()
}

// ErrorResponse is a failed op's result inside a MultiResponse, and the body
// of addWatch's reply.
type ErrorResponse struct {
	Err Code
}

// Append implements Record.
func (r *ErrorResponse) Append(b []byte) []byte { return AppendInt32(b, int32(r.Err)) }

// Decode implements Record.
func (r *ErrorResponse) Decode(d *Decoder) error {
	r.Err = Code(d.Int32())
	return d.Err()
}

// SetSASLResponse answers sasl with the server's next token.
type SetSASLResponse struct {
	Token []byte
}

// Append implements Record.
func (r *SetSASLResponse) Append(b []byte) []byte { return AppendBuffer(b, r.Token) }

// Decode implements Record.
func (r *SetSASLResponse) Decode(d *Decoder) error {
	r.Token = d.Buffer(r.Token)
	return d.Err()
}

// GetEphemeralsResponse answers getEphemerals.
type GetEphemeralsResponse struct {
	Ephemerals []string
}

// Append implements Record.
func (r *GetEphemeralsResponse) Append(b []byte) []byte { return AppendStrings(b, r.Ephemerals) }

// Decode implements Record.
func (r *GetEphemeralsResponse) Decode(d *Decoder) error {
	r.Ephemerals = d.Strings(r.Ephemerals)
	return d.Err()
}

// GetAllChildrenNumberResponse answers getAllChildrenNumber: the number of
// descendants of the path, recursively.
type GetAllChildrenNumberResponse struct {
	TotalNumber int32
}

// Append implements Record.
func (r *GetAllChildrenNumberResponse) Append(b []byte) []byte {
	return AppendInt32(b, r.TotalNumber)
}

// Decode implements Record.
func (r *GetAllChildrenNumberResponse) Decode(d *Decoder) error {
	r.TotalNumber = d.Int32()
	return d.Err()
}

// minClientInfoSize is the smallest encoding of a ClientInfo.
const minClientInfoSize = 8

// WhoAmIResponse answers whoAmI with the session's identities.
type WhoAmIResponse struct {
	ClientInfo []ClientInfo
}

// Append implements Record.
func (r *WhoAmIResponse) Append(b []byte) []byte {
	b = AppendInt32(b, int32(len(r.ClientInfo)))
	for i := range r.ClientInfo {
		b = r.ClientInfo[i].Append(b)
	}
	return b
}

// Decode implements Record.
func (r *WhoAmIResponse) Decode(d *Decoder) error {
	n := d.length(minClientInfoSize)
	if n < 0 || d.err != nil {
		r.ClientInfo = nil
		return d.Err()
	}
	r.ClientInfo = grow(r.ClientInfo, n)
	for i := 0; i < n && d.err == nil; i++ {
		var c ClientInfo
		c.Decode(d)
		r.ClientInfo = append(r.ClientInfo, c)
	}
	return d.Err()
}

package zkproto

// PasswordSize is the length of a session password.
const PasswordSize = 16

// ConnectRequest is the first frame a client sends; it has no RequestHeader.
// Old clients and go-zookeeper omit the trailing readOnly byte (44 instead of
// 45 bytes with a 16-byte password); HasReadOnly records which form came, so
// the server can answer in the same form.
type ConnectRequest struct {
	ProtocolVersion int32
	LastZxidSeen    int64
	TimeOut         int32 // requested session timeout, ms
	SessionID       int64 // 0 for a new session
	Passwd          []byte
	ReadOnly        bool // the client accepts a read-only server
	HasReadOnly     bool // the readOnly byte was (or is to be) on the wire
}

// Append implements Record.
func (r *ConnectRequest) Append(b []byte) []byte {
	b = AppendInt32(b, r.ProtocolVersion)
	b = AppendInt64(b, r.LastZxidSeen)
	b = AppendInt32(b, r.TimeOut)
	b = AppendInt64(b, r.SessionID)
	b = AppendBuffer(b, r.Passwd)
	if r.HasReadOnly {
		b = AppendBool(b, r.ReadOnly)
	}
	return b
}

// Decode implements Record. The readOnly byte is read if any byte is left.
func (r *ConnectRequest) Decode(d *Decoder) error {
	r.ProtocolVersion = d.Int32()
	r.LastZxidSeen = d.Int64()
	r.TimeOut = d.Int32()
	r.SessionID = d.Int64()
	r.Passwd = d.Buffer(r.Passwd)
	r.HasReadOnly = d.err == nil && d.Remaining() > 0
	r.ReadOnly = r.HasReadOnly && d.Bool()
	return d.Err()
}

// ConnectResponse answers a ConnectRequest; it has no ReplyHeader. A refused
// session is answered with TimeOut 0 and SessionID 0 before the close.
type ConnectResponse struct {
	ProtocolVersion int32
	TimeOut         int32 // negotiated session timeout, ms
	SessionID       int64
	Passwd          []byte
	ReadOnly        bool // the server is read-only
	HasReadOnly     bool // the readOnly byte was (or is to be) on the wire
}

// Append implements Record.
func (r *ConnectResponse) Append(b []byte) []byte {
	b = AppendInt32(b, r.ProtocolVersion)
	b = AppendInt32(b, r.TimeOut)
	b = AppendInt64(b, r.SessionID)
	b = AppendBuffer(b, r.Passwd)
	if r.HasReadOnly {
		b = AppendBool(b, r.ReadOnly)
	}
	return b
}

// Decode implements Record. The readOnly byte is read if any byte is left.
func (r *ConnectResponse) Decode(d *Decoder) error {
	r.ProtocolVersion = d.Int32()
	r.TimeOut = d.Int32()
	r.SessionID = d.Int64()
	r.Passwd = d.Buffer(r.Passwd)
	r.HasReadOnly = d.err == nil && d.Remaining() > 0
	r.ReadOnly = r.HasReadOnly && d.Bool()
	return d.Err()
}

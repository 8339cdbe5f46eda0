package zkproto

// RequestHeader starts every request frame after the handshake.
type RequestHeader struct {
	Xid  int32 // the client's request number, or a reserved xid
	Type OpCode
}

// RequestHeaderSize is the encoded size of a RequestHeader.
const RequestHeaderSize = 8

// Append implements Record.
func (r *RequestHeader) Append(b []byte) []byte {
	b = AppendInt32(b, r.Xid)
	return AppendInt32(b, int32(r.Type))
}

// Decode implements Record.
func (r *RequestHeader) Decode(d *Decoder) error {
	r.Xid = d.Int32()
	r.Type = OpCode(d.Int32())
	return d.Err()
}

// ReplyHeader starts every reply and notification frame. When Err is not OK
// the client ignores the body, and ZooKeeper sends none.
type ReplyHeader struct {
	Xid  int32 // the request's xid, or NotificationXid for a watch event
	Zxid int64 // the server's last processed zxid
	Err  Code
}

// ReplyHeaderSize is the encoded size of a ReplyHeader.
const ReplyHeaderSize = 16

// Append implements Record.
func (r *ReplyHeader) Append(b []byte) []byte {
	b = AppendInt32(b, r.Xid)
	b = AppendInt64(b, r.Zxid)
	return AppendInt32(b, int32(r.Err))
}

// Decode implements Record.
func (r *ReplyHeader) Decode(d *Decoder) error {
	r.Xid = d.Int32()
	r.Zxid = d.Int64()
	r.Err = Code(d.Int32())
	return d.Err()
}

// MultiHeader precedes each op of a multi request and each result of a multi
// response; a header with Done set (type -1, err -1) ends the list.
type MultiHeader struct {
	Type OpCode
	Done bool
	Err  Code
}

// multiHeaderSize is the encoded size of a MultiHeader.
const multiHeaderSize = 9

// multiEnd is the header that ends a multi request or response.
var multiEnd = MultiHeader{Type: -1, Done: true, Err: -1}

// Append implements Record.
func (r *MultiHeader) Append(b []byte) []byte {
	b = AppendInt32(b, int32(r.Type))
	b = AppendBool(b, r.Done)
	return AppendInt32(b, int32(r.Err))
}

// Decode implements Record.
func (r *MultiHeader) Decode(d *Decoder) error {
	r.Type = OpCode(d.Int32())
	r.Done = d.Bool()
	r.Err = Code(d.Int32())
	return d.Err()
}

// WatcherEvent is the body of a notification (xid -1).
type WatcherEvent struct {
	Type  EventType
	State KeeperState
	Path  string
}

// Append implements Record.
func (r *WatcherEvent) Append(b []byte) []byte {
	b = AppendInt32(b, int32(r.Type))
	b = AppendInt32(b, int32(r.State))
	return AppendString(b, r.Path)
}

// Decode implements Record.
func (r *WatcherEvent) Decode(d *Decoder) error {
	r.Type = EventType(d.Int32())
	r.State = KeeperState(d.Int32())
	r.Path = d.String()
	return d.Err()
}

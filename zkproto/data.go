package zkproto

import "encoding/binary"

// Id names an identity in an ACL: a scheme ("world", "auth", "digest", "ip",
// "sasl", "x509", ...) and an id within it.
type Id struct {
	Scheme string
	ID     string
}

// Append implements Record.
func (r *Id) Append(b []byte) []byte {
	b = AppendString(b, r.Scheme)
	return AppendString(b, r.ID)
}

// Decode implements Record.
func (r *Id) Decode(d *Decoder) error {
	r.Scheme = d.commonString()
	r.ID = d.commonString()
	return d.Err()
}

// ACL grants the permission bits Perms (PermRead | ...) to an identity.
type ACL struct {
	Perms int32
	ID    Id
}

// Append implements Record.
func (r *ACL) Append(b []byte) []byte {
	b = AppendInt32(b, r.Perms)
	return r.ID.Append(b)
}

// Decode implements Record.
func (r *ACL) Decode(d *Decoder) error {
	r.Perms = d.Int32()
	return r.ID.Decode(d)
}

// minACLSize is the smallest encoding of an ACL: perms and two empty strings.
const minACLSize = 12

// AppendACLs appends a vector of ACLs; nil is written as an empty vector.
func AppendACLs(b []byte, acls []ACL) []byte {
	b = AppendInt32(b, int32(len(acls)))
	for i := range acls {
		b = acls[i].Append(b)
	}
	return b
}

// ACLs reads a vector of ACLs, reusing dst's storage. A null vector gives nil.
func (d *Decoder) ACLs(dst []ACL) []ACL {
	n := d.length(minACLSize)
	if n < 0 || d.err != nil {
		return nil
	}
	dst = grow(dst[:0], n)
	for i := 0; i < n && d.err == nil; i++ {
		var a ACL
		a.Decode(d)
		dst = append(dst, a)
	}
	return dst
}

// Stat is a znode's metadata, in jute's field order.
type Stat struct {
	Czxid          int64 // zxid of the create
	Mzxid          int64 // zxid of the last setData (or the create)
	Ctime          int64 // ms since the epoch at create, by the leader's clock
	Mtime          int64 // ms since the epoch at the last setData
	Version        int32 // number of setData calls
	Cversion       int32 // number of child creates and deletes
	Aversion       int32 // number of setACL calls
	EphemeralOwner int64 // owning session of an ephemeral node, else 0
	DataLength     int32
	NumChildren    int32
	Pzxid          int64 // zxid of the last child create or delete
}

// StatSize is the encoded size of a Stat.
const StatSize = 68

// Append implements Record.
func (r *Stat) Append(b []byte) []byte {
	b = AppendInt64(b, r.Czxid)
	b = AppendInt64(b, r.Mzxid)
	b = AppendInt64(b, r.Ctime)
	b = AppendInt64(b, r.Mtime)
	b = AppendInt32(b, r.Version)
	b = AppendInt32(b, r.Cversion)
	b = AppendInt32(b, r.Aversion)
	b = AppendInt64(b, r.EphemeralOwner)
	b = AppendInt32(b, r.DataLength)
	b = AppendInt32(b, r.NumChildren)
	return AppendInt64(b, r.Pzxid)
}

// Decode implements Record.
func (r *Stat) Decode(d *Decoder) error {
	b := d.take(StatSize)
	if b == nil {
		return d.Err()
	}
	be := binary.BigEndian
	r.Czxid = int64(be.Uint64(b[0:]))
	r.Mzxid = int64(be.Uint64(b[8:]))
	r.Ctime = int64(be.Uint64(b[16:]))
	r.Mtime = int64(be.Uint64(b[24:]))
	r.Version = int32(be.Uint32(b[32:]))
	r.Cversion = int32(be.Uint32(b[36:]))
	r.Aversion = int32(be.Uint32(b[40:]))
	r.EphemeralOwner = int64(be.Uint64(b[44:]))
	r.DataLength = int32(be.Uint32(b[52:]))
	r.NumChildren = int32(be.Uint32(b[56:]))
	r.Pzxid = int64(be.Uint64(b[60:]))
	return nil
}

// ClientInfo is one identity of a session, as whoAmI reports it.
type ClientInfo struct {
	AuthScheme string
	User       string
}

// Append implements Record.
func (r *ClientInfo) Append(b []byte) []byte {
	b = AppendString(b, r.AuthScheme)
	return AppendString(b, r.User)
}

// Decode implements Record.
func (r *ClientInfo) Decode(d *Decoder) error {
	r.AuthScheme = d.String()
	r.User = d.String()
	return d.Err()
}

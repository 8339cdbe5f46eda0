package tree

import "github.com/vrkeeper/vrkeeper/zkproto"

// Write requests are decoded into views of the command's bytes: nothing is
// copied until a value becomes part of the state. Each decode reports false
// when the body is cut short (MARSHALLINGERROR); bytes after the record are
// ignored, as ZooKeeper ignores them.

// createReq is a CreateRequest or CreateTTLRequest.
type createReq struct {
	path  []byte
	data  []byte // nil when the client sent null
	acl   []aclEntryView
	flags int32
	ttl   int64 // -1 for the requests without a ttl field, as in ZooKeeper
}

func (r *createReq) decode(d *zkproto.Decoder, withTTL bool, aclScratch *[]aclEntryView) bool {
	r.path = d.BytesView()
	r.data = d.BytesView()
	*aclScratch = decodeACLViews(d, *aclScratch)
	r.acl = *aclScratch
	r.flags = d.Int32()
	r.ttl = -1
	if withTTL {
		r.ttl = d.Int64()
	}
	return d.Err() == nil
}

// versionReq is a DeleteRequest or CheckVersionRequest.
type versionReq struct {
	path    []byte
	version int32
}

func (r *versionReq) decode(d *zkproto.Decoder) bool {
	r.path = d.BytesView()
	r.version = d.Int32()
	return d.Err() == nil
}

// setDataReq is a SetDataRequest.
type setDataReq struct {
	path    []byte
	data    []byte
	version int32
}

func (r *setDataReq) decode(d *zkproto.Decoder) bool {
	r.path = d.BytesView()
	r.data = d.BytesView()
	r.version = d.Int32()
	return d.Err() == nil
}

// setACLReq is a SetACLRequest.
type setACLReq struct {
	path    []byte
	acl     []aclEntryView
	version int32
}

func (r *setACLReq) decode(d *zkproto.Decoder, aclScratch *[]aclEntryView) bool {
	r.path = d.BytesView()
	*aclScratch = decodeACLViews(d, *aclScratch)
	r.acl = *aclScratch
	r.version = d.Int32()
	return d.Err() == nil
}

// checkVersion is ZooKeeper's version check: -1 matches any version.
func checkVersion(expected, current int32) bool { return expected == -1 || expected == current }

package zkproto

// Record is one jute record: a request, a response, or a part of one.
//
// Append encodes the record onto dst and returns the extended slice. Decode
// reads the record's fields from d, reusing the record's own slices where it
// can, and returns d.Err(); a record whose Decode failed holds partial values.
type Record interface {
	Append(dst []byte) []byte
	Decode(d *Decoder) error
}

// Marshal returns the encoding of r in a new slice.
func Marshal(r Record) []byte { return r.Append(nil) }

// Unmarshal decodes r from b. Like ZooKeeper, it ignores bytes after the
// record; use a Decoder and Remaining to see them.
func Unmarshal(b []byte, r Record) error {
	var d Decoder
	d.Reset(b)
	return r.Decode(&d)
}

package zkproto

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// ErrShortBuffer is returned when a record needs more bytes than the frame
// holds: a field is cut off, or a length or count claims more than is left.
var ErrShortBuffer = errors.New("zkproto: record runs past the end of the frame")

// ErrBadLength is returned for a length or count below -1.
var ErrBadLength = errors.New("zkproto: negative length")

// Decoder reads jute fields from one frame. Errors are sticky: after the first
// failure every read returns a zero value and Err reports the failure, so a
// record's Decode reads all its fields and checks once at the end.
//
// Invariant: off <= len(buf). Every length is checked against len(buf)-off
// before anything is sliced or allocated.
type Decoder struct {
	buf []byte // the frame's bytes; never written
	off int    // bytes consumed
	err error  // first failure, sticky
}

// NewDecoder returns a decoder over b.
func NewDecoder(b []byte) *Decoder { return &Decoder{buf: b} }

// Reset points the decoder at a new frame, clearing any error.
func (d *Decoder) Reset(b []byte) {
	d.buf, d.off, d.err = b, 0, nil
}

// Err returns the first error met, or nil.
func (d *Decoder) Err() error { return d.err }

// Remaining returns how many bytes are left unread.
func (d *Decoder) Remaining() int { return len(d.buf) - d.off }

// Offset returns how many bytes have been read.
func (d *Decoder) Offset() int { return d.off }

// fail records the first error with the offset where it happened.
func (d *Decoder) fail(err error) {
	if d.err == nil {
		d.err = fmt.Errorf("%w (at byte %d of %d)", err, d.off, len(d.buf))
	}
}

// take returns the next n bytes, or nil after recording ErrShortBuffer.
func (d *Decoder) take(n int) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.buf)-d.off {
		d.fail(ErrShortBuffer)
		return nil
	}
	b := d.buf[d.off : d.off+n : d.off+n]
	d.off += n
	return b
}

// Int32 reads a big-endian int32.
func (d *Decoder) Int32() int32 {
	b := d.take(4)
	if b == nil {
		return 0
	}
	return int32(binary.BigEndian.Uint32(b))
}

// Int64 reads a big-endian int64.
func (d *Decoder) Int64() int64 {
	b := d.take(8)
	if b == nil {
		return 0
	}
	return int64(binary.BigEndian.Uint64(b))
}

// Byte reads one byte.
func (d *Decoder) Byte() byte {
	b := d.take(1)
	if b == nil {
		return 0
	}
	return b[0]
}

// Bool reads one byte; any non-zero value is true, as Java's readBoolean.
func (d *Decoder) Bool() bool {
	b := d.take(1)
	return b != nil && b[0] != 0
}

// length reads a length or count field and checks it: -1 (null) is returned
// as is; anything else must be non-negative and, multiplied by the smallest
// encoding of one element, fit in what is left of the frame.
func (d *Decoder) length(minElemSize int) int {
	n := d.Int32()
	if d.err != nil {
		return 0
	}
	if n == -1 {
		return -1
	}
	if n < 0 {
		d.fail(ErrBadLength)
		return 0
	}
	if int64(n)*int64(minElemSize) > int64(len(d.buf)-d.off) {
		d.fail(ErrShortBuffer)
		return 0
	}
	return int(n)
}

// BytesView reads a buffer and returns it without copying: the slice aliases
// the frame and is valid only as long as the frame is. A null buffer gives nil.
func (d *Decoder) BytesView() []byte {
	n := d.length(1)
	if n <= 0 {
		if n == 0 && d.err == nil {
			return d.buf[d.off:d.off:d.off]
		}
		return nil
	}
	return d.take(n)
}

// Buffer reads a buffer into dst's storage (growing it if needed) and returns
// it: nil for a null buffer, a non-nil empty slice for an empty one.
func (d *Decoder) Buffer(dst []byte) []byte {
	v := d.BytesView()
	if v == nil {
		return nil
	}
	if dst == nil {
		if len(v) == 0 {
			return emptyBytes
		}
		return append([]byte(nil), v...)
	}
	return append(dst[:0], v...)
}

// emptyBytes is the non-nil empty buffer. It has no capacity, so appending to
// it always allocates and it is never written through.
var emptyBytes = []byte{}

// String reads a ustring; a null string decodes as "".
func (d *Decoder) String() string {
	v := d.BytesView()
	if len(v) == 0 {
		return ""
	}
	return string(v)
}

// commonString reads a ustring that is often one of a few well-known values
// (ACL schemes and ids): those are returned without allocating.
func (d *Decoder) commonString() string {
	v := d.BytesView()
	switch string(v) { // the conversion in a switch does not allocate
	case "world":
		return "world"
	case "anyone":
		return "anyone"
	case "digest":
		return "digest"
	case "auth":
		return "auth"
	case "ip":
		return "ip"
	case "sasl":
		return "sasl"
	case "x509":
		return "x509"
	case "super":
		return "super"
	case "":
		return ""
	}
	return string(v)
}

// NullableString reads a ustring and whether it was null (-1), for the few
// fields where ZooKeeper tells null from empty (ReconfigRequest).
func (d *Decoder) NullableString() (s string, null bool) {
	v := d.BytesView()
	if v == nil {
		return "", d.err == nil
	}
	return string(v), false
}

// minStringSize is the smallest encoding of a vector's string element.
const minStringSize = 4

// Strings reads a vector of ustrings, reusing dst's storage. A null vector
// decodes as nil.
func (d *Decoder) Strings(dst []string) []string {
	n := d.length(minStringSize)
	if n < 0 || d.err != nil {
		return nil
	}
	dst = grow(dst[:0], n)
	for i := 0; i < n && d.err == nil; i++ {
		dst = append(dst, d.String())
	}
	return dst
}

// grow returns s emptied, with capacity for n elements; never nil, so that an
// empty vector decodes to an empty slice and only a null one to nil.
func grow[T any](s []T, n int) []T {
	if s != nil && cap(s) >= n {
		return s[:0]
	}
	return make([]T, 0, n)
}

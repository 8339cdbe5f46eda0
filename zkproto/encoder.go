package zkproto

import "encoding/binary"

// The append functions encode jute fields onto a byte slice. Records build
// their encoding from them; none of them fails.

// AppendInt32 appends a big-endian int32.
func AppendInt32(b []byte, v int32) []byte { return binary.BigEndian.AppendUint32(b, uint32(v)) }

// AppendInt64 appends a big-endian int64.
func AppendInt64(b []byte, v int64) []byte { return binary.BigEndian.AppendUint64(b, uint64(v)) }

// AppendBool appends a bool as one byte, 1 or 0.
func AppendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

// AppendBuffer appends a buffer: nil as the null length -1, anything else
// (including a non-nil empty slice) as its length and bytes.
func AppendBuffer(b []byte, v []byte) []byte {
	if v == nil {
		return AppendInt32(b, -1)
	}
	b = AppendInt32(b, int32(len(v)))
	return append(b, v...)
}

// AppendString appends a ustring as its length and bytes.
func AppendString(b []byte, s string) []byte {
	b = AppendInt32(b, int32(len(s)))
	return append(b, s...)
}

// AppendNullableString appends a ustring, or the null length -1 if null is
// set (s is then ignored).
func AppendNullableString(b []byte, s string, null bool) []byte {
	if null {
		return AppendInt32(b, -1)
	}
	return AppendString(b, s)
}

// AppendStrings appends a vector of ustrings; nil is written as an empty vector.
func AppendStrings(b []byte, v []string) []byte {
	b = AppendInt32(b, int32(len(v)))
	for _, s := range v {
		b = AppendString(b, s)
	}
	return b
}

package frontend

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// object is a JSON object that keeps its keys in order, so the
// AdminServer's answers list fields in ZooKeeper's order.
type object []field

type field struct {
	key   string
	value any
}

// set appends a field.
func (o *object) set(key string, value any) { *o = append(*o, field{key, value}) }

// writeJSON writes v as ZooKeeper's AdminServer does (Jackson's default
// pretty printer): two-space indents, "key" : value, and [ ] and { } for
// empty containers. v is built of object, []any, map-free slices of
// strings and numbers, strings, numbers, booleans and nil.
func writeJSON(b *bytes.Buffer, v any, indent int) {
	pad := func(n int) {
		for range n {
			b.WriteString("  ")
		}
	}
	switch x := v.(type) {
	case object:
		if len(x) == 0 {
			b.WriteString("{ }")
			return
		}
		b.WriteString("{\n")
		for i, f := range x {
			pad(indent + 1)
			writeString(b, f.key)
			b.WriteString(" : ")
			writeJSON(b, f.value, indent+1)
			if i < len(x)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		pad(indent)
		b.WriteByte('}')
	case []any:
		if len(x) == 0 {
			b.WriteString("[ ]")
			return
		}
		if _, nested := x[0].(object); nested {
			b.WriteString("[ ")
			for i, e := range x {
				if i > 0 {
					b.WriteString(", ")
				}
				writeJSON(b, e, indent)
			}
			b.WriteString(" ]")
			return
		}
		b.WriteString("[ ")
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJSON(b, e, indent)
		}
		b.WriteString(" ]")
	case []string:
		a := make([]any, len(x))
		for i, s := range x {
			a[i] = s
		}
		writeJSON(b, a, indent)
	case []int64:
		a := make([]any, len(x))
		for i, n := range x {
			a[i] = n
		}
		writeJSON(b, a, indent)
	case string:
		writeString(b, x)
	case nil:
		b.WriteString("null")
	case bool:
		b.WriteString(strconv.FormatBool(x))
	case jsonFloat:
		writeFloat(b, float64(x))
	case float64:
		writeFloat(b, x)
	case int, int32, int64, uint64, uint32:
		fmt.Fprint(b, x)
	default:
		writeString(b, fmt.Sprint(x))
	}
}

// writeFloat writes a float as Jackson does for doubles: always with a
// fraction ("0.0", "12.6667"), and non-finite values as 0.0 to stay JSON.
func writeFloat(b *bytes.Buffer, f float64) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		f = 0
	}
	b.WriteString(formatAvg(f))
}

// writeString writes a JSON string.
func writeString(b *bytes.Buffer, s string) {
	enc, _ := json.Marshal(s) // strings always marshal
	b.Write(enc)
}

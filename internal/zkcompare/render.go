package zkcompare

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// names gives the values that differ between two servers (session ids,
// passwords, zxids) stable names in order of first appearance, so two
// recordings compare equal when their values relate to each other in the
// same way.
type names struct {
	prefix string
	byKey  map[string]string
}

func newNames(prefix string) *names { return &names{prefix: prefix, byKey: map[string]string{}} }

func (n *names) name(key string) string {
	if s, ok := n.byKey[key]; ok {
		return s
	}
	s := n.prefix + strconv.Itoa(len(n.byKey)+1)
	n.byKey[key] = s
	return s
}

// renderer renders decoded records as normalised text. One renderer serves
// one conversation, so its names span all of the conversation's
// connections.
type renderer struct {
	sessions  *names
	passwords *names
	zxids     *names
}

func newRenderer() *renderer {
	return &renderer{sessions: newNames("S"), passwords: newNames("P"), zxids: newNames("Z")}
}

// protectedName is the random part go-zookeeper (and Curator) put in the
// names of "protected" ephemeral sequential nodes.
var protectedName = regexp.MustCompile(`_c_[0-9a-f]{32}-`)

// normString normalises a path or other string of a record.
func normString(s string) string {
	return protectedName.ReplaceAllString(s, "_c_GUID-")
}

// session names a session id; 0 (none) stays as it is.
func (r *renderer) session(id int64) string {
	if id == 0 {
		return "0"
	}
	return r.sessions.name(strconv.FormatInt(id, 10))
}

// password names a session password; all zeros and empty stay visible.
func (r *renderer) password(p []byte) string {
	switch {
	case p == nil:
		return "null"
	case len(p) == 0:
		return "empty"
	case !slices.ContainsFunc(p, func(b byte) bool { return b != 0 }):
		return fmt.Sprintf("zeros(%d)", len(p))
	}
	return r.passwords.name(string(p))
}

// zxid names a zxid of a Stat; 0 stays (nodes made at boot).
func (r *renderer) zxid(z int64) string {
	if z == 0 {
		return "0"
	}
	return r.zxids.name(strconv.FormatInt(z, 10))
}

// anyNonZero renders a value whose size differs between servers but whose
// presence does not: lastZxidSeen, relative zxids, times.
func anyNonZero(v int64, name string) string {
	switch {
	case v == 0:
		return "0"
	case v < 0:
		return strconv.FormatInt(v, 10)
	}
	return name
}

// ephemeralOwner renders a Stat's owner: a session, or the markers
// ZooKeeper keeps there for containers and TTL nodes.
func (r *renderer) ephemeralOwner(o int64) string {
	switch {
	case o == 0:
		return "0"
	case o == math.MinInt64:
		return "container"
	case uint64(o)>>56 == 0xff:
		return fmt.Sprintf("ttl(%d)", o&(1<<40-1))
	}
	return r.session(o)
}

func (r *renderer) stat(st *zkproto.Stat) string {
	return fmt.Sprintf("Stat{czxid=%s mzxid=%s ctime=%s mtime=%s version=%d cversion=%d aversion=%d owner=%s dataLength=%d numChildren=%d pzxid=%s}",
		r.zxid(st.Czxid), r.zxid(st.Mzxid), anyNonZero(st.Ctime, "t"), anyNonZero(st.Mtime, "t"),
		st.Version, st.Cversion, st.Aversion, r.ephemeralOwner(st.EphemeralOwner),
		st.DataLength, st.NumChildren, r.zxid(st.Pzxid))
}

// render returns the normalised text of a decoded record (nil for none).
func (r *renderer) render(rec any) string {
	var b strings.Builder
	r.value(&b, reflect.ValueOf(rec))
	return b.String()
}

// value renders v: records field by field, with the normalising cases first.
func (r *renderer) value(b *strings.Builder, v reflect.Value) {
	if !v.IsValid() {
		b.WriteString("nil")
		return
	}
	switch x := v.Interface().(type) {
	case *zkproto.Stat:
		b.WriteString(r.stat(x))
		return
	case zkproto.Stat:
		b.WriteString(r.stat(&x))
		return
	case *zkproto.ConnectRequest:
		fmt.Fprintf(b, "ConnectRequest{protocol=%d lastZxidSeen=%s timeOut=%d session=%s passwd=%s readOnly=%s}",
			x.ProtocolVersion, anyNonZero(x.LastZxidSeen, "z"), x.TimeOut, r.session(x.SessionID),
			r.password(x.Passwd), readOnly(x.HasReadOnly, x.ReadOnly))
		return
	case *zkproto.ConnectResponse:
		fmt.Fprintf(b, "ConnectResponse{protocol=%d timeOut=%d session=%s passwd=%s readOnly=%s}",
			x.ProtocolVersion, x.TimeOut, r.session(x.SessionID), r.password(x.Passwd),
			readOnly(x.HasReadOnly, x.ReadOnly))
		return
	case *zkproto.SetWatches:
		c := *x
		c.RelativeZxid = 0
		fmt.Fprintf(b, "relativeZxid=%s ", anyNonZero(x.RelativeZxid, "z"))
		r.value(b, reflect.ValueOf(c)) // by value: not this case again
		return
	case *zkproto.SetWatches2:
		c := *x
		c.RelativeZxid = 0
		fmt.Fprintf(b, "relativeZxid=%s ", anyNonZero(x.RelativeZxid, "z"))
		r.value(b, reflect.ValueOf(c)) // by value: not this case again
		return
	case *zkproto.GetChildrenResponse:
		fmt.Fprintf(b, "GetChildrenResponse{Children:%s}", sortedStrings(x.Children))
		return
	case *zkproto.GetChildren2Response:
		fmt.Fprintf(b, "GetChildren2Response{Children:%s Stat:%s}", sortedStrings(x.Children), r.stat(&x.Stat))
		return
	case *zkproto.GetEphemeralsResponse:
		fmt.Fprintf(b, "GetEphemeralsResponse{Ephemerals:%s}", sortedStrings(x.Ephemerals))
		return
	case zkproto.OpCode:
		b.WriteString(x.String())
		return
	case zkproto.Code:
		if n := x.Name(); n != "" {
			b.WriteString(n)
		} else {
			b.WriteString(strconv.Itoa(int(x)))
		}
		return
	case []byte:
		if x == nil {
			b.WriteString("null")
		} else {
			b.WriteString(strconv.Quote(string(x)))
		}
		return
	case string:
		b.WriteString(strconv.Quote(normString(x)))
		return
	}
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			b.WriteString("nil")
			return
		}
		r.value(b, v.Elem())
	case reflect.Struct:
		b.WriteString(v.Type().Name())
		b.WriteByte('{')
		for i := 0; i < v.NumField(); i++ {
			if !v.Type().Field(i).IsExported() {
				continue
			}
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(v.Type().Field(i).Name)
			b.WriteByte(':')
			r.value(b, v.Field(i))
		}
		b.WriteByte('}')
	case reflect.Slice, reflect.Array:
		b.WriteByte('[')
		for i := 0; i < v.Len(); i++ {
			if i > 0 {
				b.WriteByte(' ')
			}
			r.value(b, v.Index(i))
		}
		b.WriteByte(']')
	default:
		fmt.Fprint(b, v.Interface())
	}
}

func readOnly(has, ro bool) string {
	if !has {
		return "absent"
	}
	return strconv.FormatBool(ro)
}

// sortedStrings renders a list in sorted order: ZooKeeper returns children
// and ephemerals in its hash set's order, vrkeeper sorted.
func sortedStrings(s []string) string {
	c := make([]string, len(s))
	for i, x := range s {
		c[i] = strconv.Quote(normString(x))
	}
	slices.Sort(c)
	return "[" + strings.Join(c, " ") + "]"
}

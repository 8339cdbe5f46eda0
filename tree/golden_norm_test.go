package tree

import (
	"fmt"
	"sort"
	"strings"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// normalizer turns answers into text that does not depend on the server's
// zxid numbering, clock or session ids.
type normalizer struct {
	ex        executor
	labels    map[int64]int   // zxid -> step that produced it
	stepZxid  map[int]int64   // step -> its zxid
	times     map[int64]int64 // zxid -> the time seen with it
	timeByIdx map[int]int64   // step -> the time seen with its zxid
}

func newNormalizer(ex executor) *normalizer {
	return &normalizer{ex: ex, labels: map[int64]int{}, stepZxid: map[int]int64{},
		times: map[int64]int64{}, timeByIdx: map[int]int64{}}
}

func (n *normalizer) label(zxid int64, step int) {
	if _, ok := n.labels[zxid]; !ok {
		n.labels[zxid] = step
		n.stepZxid[step] = zxid
	}
}

func (n *normalizer) zxid(z int64) string {
	if z == 0 {
		return "0"
	}
	if s, ok := n.labels[z]; ok {
		return fmt.Sprintf("@%d", s)
	}
	return fmt.Sprintf("@?%#x", z)
}

// time names a time by the zxid it belongs to and checks that each zxid has
// one time and that times never decrease as zxids grow.
func (n *normalizer) time(t, z int64) string {
	if t == 0 && z == 0 {
		return "0"
	}
	name := "T" + n.zxid(z)
	s, labelled := n.labels[z]
	if prev, ok := n.times[z]; ok {
		if prev != t {
			return name + "!two-times"
		}
		return name
	}
	n.times[z] = t
	if labelled {
		for other, ot := range n.timeByIdx {
			if (other < s && ot > t) || (other > s && ot < t) {
				return name + "!out-of-order"
			}
		}
		n.timeByIdx[s] = t
	}
	return name
}

func (n *normalizer) owner(id int64) string {
	if id == 0 {
		return "0"
	}
	if s := n.ex.sessionName(id); s != "" {
		return s
	}
	return fmt.Sprintf("?%#x", id)
}

func (n *normalizer) stat(s *zkproto.Stat) string {
	return fmt.Sprintf("czxid=%s mzxid=%s pzxid=%s ctime=%s mtime=%s v=%d cv=%d av=%d owner=%s len=%d kids=%d",
		n.zxid(s.Czxid), n.zxid(s.Mzxid), n.zxid(s.Pzxid), n.time(s.Ctime, s.Czxid), n.time(s.Mtime, s.Mzxid),
		s.Version, s.Cversion, s.Aversion, n.owner(s.EphemeralOwner), s.DataLength, s.NumChildren)
}

func formatACL(acl []zkproto.ACL) string {
	parts := make([]string, len(acl))
	for i, a := range acl {
		parts[i] = fmt.Sprintf("%s:%s:%d", a.ID.Scheme, a.ID.ID, a.Perms)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// reply formats an answer: its code, then its body decoded by op.
func (n *normalizer) reply(op zkproto.OpCode, r reply) string {
	if r.code != zkproto.OK {
		if len(r.body) > 0 {
			return fmt.Sprintf("%s body=%x", r.code.Name(), r.body)
		}
		return r.code.Name()
	}
	body := n.body(op, r.body)
	if body == "" {
		return "OK"
	}
	return "OK " + body
}

func (n *normalizer) body(op zkproto.OpCode, b []byte) string {
	rec, ok := zkproto.NewResponse(op)
	if !ok || rec == nil {
		if len(b) == 0 {
			return ""
		}
		return fmt.Sprintf("raw=%x", b)
	}
	if err := zkproto.Unmarshal(b, rec); err != nil {
		return fmt.Sprintf("undecodable(%v) raw=%x", err, b)
	}
	return n.record(rec)
}

func (n *normalizer) record(rec zkproto.Record) string {
	switch r := rec.(type) {
	case *zkproto.CreateResponse:
		return "path=" + r.Path
	case *zkproto.Create2Response:
		return "path=" + r.Path + " " + n.stat(&r.Stat)
	case *zkproto.ExistsResponse:
		return n.stat(&r.Stat)
	case *zkproto.GetDataResponse:
		return "data=" + quote(r.Data) + " " + n.stat(&r.Stat)
	case *zkproto.SetDataResponse:
		return n.stat(&r.Stat)
	case *zkproto.SetACLResponse:
		return n.stat(&r.Stat)
	case *zkproto.GetACLResponse:
		return "acl=" + formatACL(r.ACL) + " " + n.stat(&r.Stat)
	case *zkproto.GetChildrenResponse:
		return "children=" + sortedList(r.Children)
	case *zkproto.GetChildren2Response:
		return "children=" + sortedList(r.Children) + " " + n.stat(&r.Stat)
	case *zkproto.SyncResponse:
		return "path=" + r.Path
	case *zkproto.GetEphemeralsResponse:
		return "ephemerals=" + sortedList(r.Ephemerals)
	case *zkproto.GetAllChildrenNumberResponse:
		return fmt.Sprintf("total=%d", r.TotalNumber)
	case *zkproto.ErrorResponse:
		return "err=" + r.Err.Name()
	case *zkproto.MultiResponse:
		parts := make([]string, len(r.Results))
		for i, res := range r.Results {
			s := res.Type.String()
			if res.Type == zkproto.OpError {
				s = "error:" + res.Err.Name()
			} else if res.Err != zkproto.OK {
				s += ":" + res.Err.Name()
			}
			if res.Body != nil && res.Type != zkproto.OpError {
				if body := n.record(res.Body); body != "" {
					s += " " + body
				}
			}
			parts[i] = s
		}
		return "results=[" + strings.Join(parts, " | ") + "]"
	}
	return fmt.Sprintf("%+v", rec)
}

// sortedList shows names sorted: ZooKeeper lists children in hash order.
func sortedList(names []string) string {
	s := append([]string(nil), names...)
	sort.Strings(s)
	return "[" + strings.Join(s, ",") + "]"
}

package zkproto

import (
	"encoding/binary"
	"errors"
	"math"
	"runtime"
	"testing"
)

// maxAllocPerFrameByte bounds how many bytes decoding may allocate per byte
// of frame. The worst ratios are a vector of empty strings (a 16-byte string
// header for each 4-byte length) and a multi of tiny ops (a body and a
// MultiOp for each 17 bytes, with the slice grown by doubling).
const maxAllocPerFrameByte = 16

// errorAllocSlack covers the constant cost of building a decode error.
const errorAllocSlack = 1024

// allocatedBytes returns how many heap bytes f allocates: the least of three
// runs after a first one, so that one-time initialisation (of fmt's caches,
// say) and allocations by other goroutines of the test binary do not count.
func allocatedBytes(f func()) uint64 {
	f()
	least := uint64(math.MaxUint64)
	for range 3 {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		f()
		runtime.ReadMemStats(&after)
		least = min(least, after.TotalAlloc-before.TotalAlloc)
	}
	return least
}

// TestHostileCounts: a 4-byte body claiming a huge count or length fails
// without allocating for the claim.
func TestHostileCounts(t *testing.T) {
	bodies := map[string][]byte{
		"count 2^31-1": {0x7f, 0xff, 0xff, 0xff},
		"count -2":     {0xff, 0xff, 0xff, 0xfe},
		"count min":    {0x80, 0, 0, 0},
	}
	records := map[string]func() Record{
		"children":   func() Record { return &GetChildrenResponse{} },
		"ephemerals": func() Record { return &GetEphemeralsResponse{} },
		"whoAmI":     func() Record { return &WhoAmIResponse{} },
		"getACL":     func() Record { return &GetACLResponse{} },
		"sync":       func() Record { return &SyncRequest{} },
		"sasl":       func() Record { return &GetSASLRequest{} },
		"getData":    func() Record { return &GetDataResponse{} },
	}
	for bname, body := range bodies {
		for rname, fresh := range records {
			var err error
			n := allocatedBytes(func() { err = Unmarshal(body, fresh()) })
			if err == nil {
				t.Errorf("%s in %s: decoded without error", bname, rname)
			}
			if !errors.Is(err, ErrShortBuffer) && !errors.Is(err, ErrBadLength) {
				t.Errorf("%s in %s: error %v is neither ErrShortBuffer nor ErrBadLength", bname, rname, err)
			}
			if n > 1024 {
				t.Errorf("%s in %s: allocated %d bytes for a 4-byte body", bname, rname, n)
			}
		}
	}
}

// TestHostileMutations overwrites every 4-byte window of every sample's
// encoding with hostile lengths and truncates it at every length: decoding
// must never panic, and must allocate at most maxAllocPerFrameByte per byte.
func TestHostileMutations(t *testing.T) {
	hostile := []uint32{0xffffffff, 0xfffffffe, 0x7fffffff, 0x80000000, 0x00100000}
	for _, s := range allSamples() {
		enc := Marshal(s.record)
		check := func(b []byte, what string) {
			t.Helper()
			r := s.fresh()
			var err error
			n := allocatedBytes(func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("%s %s: panic %v on %x", s.name, what, p, b)
					}
				}()
				err = Unmarshal(b, r)
			})
			_ = err
			if limit := uint64(maxAllocPerFrameByte*len(b) + errorAllocSlack); n > limit {
				t.Errorf("%s %s: allocated %d bytes for a %d-byte frame (limit %d)", s.name, what, n, len(b), limit)
			}
		}
		for i := 0; i+4 <= len(enc); i++ {
			for _, h := range hostile {
				b := append([]byte(nil), enc...)
				binary.BigEndian.PutUint32(b[i:], h)
				check(b, "mutated")
			}
		}
		for cut := 0; cut < len(enc); cut++ {
			b := append([]byte(nil), enc[:cut]...)
			r := s.fresh()
			if err := Unmarshal(b, r); err == nil && !truncationMayDecode(s.record, cut) {
				t.Errorf("%s truncated to %d of %d bytes decoded without error", s.name, cut, len(enc))
			}
		}
	}
}

// truncationMayDecode reports whether a prefix of a record's encoding is
// itself a valid encoding: the connect records whose readOnly byte is
// optional, and records whose encoding is empty.
func truncationMayDecode(r Record, cut int) bool {
	switch r := r.(type) {
	case *ConnectRequest:
		return r.HasReadOnly && cut == len(Marshal(r))-1
	case *ConnectResponse:
		return r.HasReadOnly && cut == len(Marshal(r))-1
	}
	return false
}

// TestMultiHostile covers multi lists: a missing end marker, an op type that
// may not appear in a multi, and a list of many tiny ops, which costs memory
// in proportion to the frame.
func TestMultiHostile(t *testing.T) {
	noEnd := Marshal(&MultiRequest{Ops: []MultiOp{{OpDelete, &DeleteRequest{Path: "/a", Version: -1}}}})
	noEnd = noEnd[:len(noEnd)-multiHeaderSize]
	if err := Unmarshal(noEnd, &MultiRequest{}); !errors.Is(err, ErrShortBuffer) {
		t.Errorf("multi without end marker: %v", err)
	}
	badOp := Marshal(&MultiRequest{Ops: []MultiOp{{OpSync, &SyncRequest{Path: "/a"}}}})
	if err := Unmarshal(badOp, &MultiRequest{}); !errors.Is(err, ErrBadMultiOp) {
		t.Errorf("multi with sync op: %v", err)
	}
	badResult := Marshal(&MultiResponse{Results: []MultiResult{{OpSync, OK, &SyncResponse{Path: "/"}}}})
	if err := Unmarshal(badResult, &MultiResponse{}); !errors.Is(err, ErrBadMultiOp) {
		t.Errorf("multi response with sync result: %v", err)
	}
	many := &MultiRequest{}
	for i := 0; i < 20000; i++ {
		many.Ops = append(many.Ops, MultiOp{OpCheck, &CheckVersionRequest{}})
	}
	enc := Marshal(many)
	var got MultiRequest
	n := allocatedBytes(func() {
		if err := Unmarshal(enc, &got); err != nil {
			t.Fatal(err)
		}
	})
	if len(got.Ops) != 20000 {
		t.Fatalf("decoded %d ops", len(got.Ops))
	}
	if n > uint64(maxAllocPerFrameByte*len(enc)) {
		t.Errorf("20000 empty checks: %d bytes allocated for a %d-byte frame", n, len(enc))
	}
}

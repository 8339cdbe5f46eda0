package zkproto

import (
	"bytes"
	"testing"
)

// The benchmarks decode into reused records and encode into a reused
// buffer, as a connection does. Run: go test ./zkproto -bench . -benchmem

var benchACL = []ACL{{Perms: PermAll, ID: Id{Scheme: "world", ID: "anyone"}}}
var benchData = bytes.Repeat([]byte("v"), 100)

var benchRecords = []struct {
	name   string
	record Record
	reused Record
}{
	{"GetDataRequest", &GetDataRequest{Path: "/app/services/web/config", Watch: true}, &GetDataRequest{}},
	{"SetDataRequest", &SetDataRequest{Path: "/app/services/web/config", Data: benchData, Version: -1}, &SetDataRequest{}},
	{"CreateRequest", &CreateRequest{Path: "/app/services/web/member-", Data: benchData, ACL: benchACL, Flags: ModeEphemeralSequential}, &CreateRequest{}},
	{"GetDataResponse", &GetDataResponse{Data: benchData, Stat: sampleStat}, &GetDataResponse{}},
	{"SetDataResponse", &SetDataResponse{Stat: sampleStat}, &SetDataResponse{}},
	{"CreateResponse", &CreateResponse{Path: "/app/services/web/member-0000000042"}, &CreateResponse{}},
	{"Create2Response", &Create2Response{Path: "/app/services/web/member-0000000042", Stat: sampleStat}, &Create2Response{}},
}

func BenchmarkDecode(b *testing.B) {
	for _, br := range benchRecords {
		b.Run(br.name, func(b *testing.B) {
			enc := Marshal(br.record)
			var d Decoder
			b.SetBytes(int64(len(enc)))
			b.ReportAllocs()
			for b.Loop() {
				d.Reset(enc)
				if err := br.reused.Decode(&d); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkEncode(b *testing.B) {
	for _, br := range benchRecords {
		b.Run(br.name, func(b *testing.B) {
			buf := make([]byte, 0, 512)
			b.SetBytes(int64(len(Marshal(br.record))))
			b.ReportAllocs()
			for b.Loop() {
				buf = br.record.Append(buf[:0])
			}
		})
	}
}

// BenchmarkReplyFrame encodes a getData reply frame, header and all.
func BenchmarkReplyFrame(b *testing.B) {
	h := ReplyHeader{Xid: 7, Zxid: 0x100000009}
	body := &GetDataResponse{Data: benchData, Stat: sampleStat}
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendReplyFrame(buf[:0], &h, body)
	}
}

// BenchmarkRequestStream reads a stream of getData request frames and
// decodes each into a connection's reused records: the server's read path.
func BenchmarkRequestStream(b *testing.B) {
	var one []byte
	one = AppendRequestFrame(one, &RequestHeader{Xid: 1, Type: OpGetData}, &GetDataRequest{Path: "/app/services/web/config", Watch: false})
	stream := bytes.Repeat(one, 1024)
	var reqs Requests
	var h RequestHeader
	var d Decoder
	r := bytes.NewReader(stream)
	fr := NewFrameReader(r, 0)
	b.SetBytes(int64(len(one)))
	b.ReportAllocs()
	for b.Loop() {
		frame, err := fr.ReadFrame()
		if err != nil {
			r.Reset(stream)
			if frame, err = fr.ReadFrame(); err != nil {
				b.Fatal(err)
			}
		}
		d.Reset(frame)
		h.Decode(&d)
		if err := reqs.For(h.Type).Decode(&d); err != nil {
			b.Fatal(err)
		}
	}
}

// TestReusedDecodeAllocations pins the allocation goal: decoding into a
// reused record allocates only the strings it must keep (one path), and
// nothing at all for records without strings.
func TestReusedDecodeAllocations(t *testing.T) {
	want := map[string]float64{
		"GetDataRequest": 1, "SetDataRequest": 1, "CreateRequest": 1,
		"GetDataResponse": 0, "SetDataResponse": 0, "CreateResponse": 1, "Create2Response": 1,
	}
	for _, br := range benchRecords {
		enc := Marshal(br.record)
		var d Decoder
		got := testing.AllocsPerRun(100, func() {
			d.Reset(enc)
			if err := br.reused.Decode(&d); err != nil {
				t.Fatal(err)
			}
		})
		if got != want[br.name] {
			t.Errorf("%s: %v allocations per reused decode, want %v", br.name, got, want[br.name])
		}
	}
}

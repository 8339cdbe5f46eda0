package zkproto

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// The fuzz targets check that no input panics, and that whatever decodes
// re-encodes to a fixed point: encode(decode(encode(decode(b)))) equals
// encode(decode(b)). (The first decode may normalise: a null vector or
// string decodes to nil or "" and encodes back as empty.)
//
// Seed corpora are checked in under testdata/fuzz/<Target>; regenerate them
// from the samples with: go test ./zkproto -run TestWriteFuzzCorpus -write-corpus

var writeCorpus = flag.Bool("write-corpus", false, "rewrite the checked-in fuzz seed corpora from the samples")

func checkFixedPoint(t *testing.T, first Record, fresh func() Record) {
	t.Helper()
	enc := Marshal(first)
	second := fresh()
	var d Decoder
	d.Reset(enc)
	if err := second.Decode(&d); err != nil {
		t.Fatalf("re-decoding %x: %v", enc, err)
	}
	if d.Remaining() != 0 {
		t.Fatalf("re-decoding %x left %d bytes", enc, d.Remaining())
	}
	if again := Marshal(second); !bytes.Equal(again, enc) {
		t.Fatalf("not a fixed point:\n%x\n%x", enc, again)
	}
}

// FuzzRequest decodes a request body of any opcode, as a server does after
// reading the RequestHeader.
func FuzzRequest(f *testing.F) {
	for _, s := range requestSamples() {
		f.Add(int32(s.op), Marshal(s.record))
	}
	f.Fuzz(func(t *testing.T, op int32, body []byte) {
		r := NewRequest(OpCode(op))
		if r == nil || Unmarshal(body, r) != nil {
			return
		}
		checkFixedPoint(t, r, func() Record { return NewRequest(OpCode(op)) })
	})
}

// FuzzResponse decodes a reply body of any opcode, as a client does.
func FuzzResponse(f *testing.F) {
	for _, s := range responseSamples() {
		f.Add(int32(s.op), Marshal(s.record))
	}
	f.Fuzz(func(t *testing.T, op int32, body []byte) {
		fresh := func() Record { r, _ := NewResponse(OpCode(op)); return r }
		r := fresh()
		if r == nil || Unmarshal(body, r) != nil {
			return
		}
		checkFixedPoint(t, r, fresh)
	})
}

// FuzzConnect decodes the handshake records of both sides.
func FuzzConnect(f *testing.F) {
	for _, s := range otherSamples() {
		switch s.record.(type) {
		case *ConnectRequest, *ConnectResponse:
			f.Add(Marshal(s.record))
		}
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, fresh := range []func() Record{
			func() Record { return &ConnectRequest{} },
			func() Record { return &ConnectResponse{} },
		} {
			if r := fresh(); Unmarshal(body, r) == nil {
				checkFixedPoint(t, r, fresh)
			}
		}
	})
}

// FuzzRecords decodes the records that are neither request nor reply
// bodies: headers, WatcherEvent, Stat, ACL, Id, ClientInfo.
func FuzzRecords(f *testing.F) {
	samples := otherSamples()
	for i, s := range samples {
		f.Add(uint8(i), Marshal(s.record))
	}
	f.Fuzz(func(t *testing.T, which uint8, body []byte) {
		s := samples[int(which)%len(samples)]
		if r := s.fresh(); Unmarshal(body, r) == nil {
			checkFixedPoint(t, r, s.fresh)
		}
	})
}

// FuzzFrameReader reads a connection's stream as a server does: the first
// message (a word or the connect frame), then frames until an error. Every
// frame must respect the limit and the frames must be the stream's bytes.
func FuzzFrameReader(f *testing.F) {
	f.Add([]byte("ruok"), uint16(0))
	f.Add(AppendRecordFrame(nil, &ConnectRequest{Passwd: make([]byte, 16)}), uint16(100))
	var stream []byte
	for _, s := range requestSamples() {
		stream = AppendRequestFrame(stream, &RequestHeader{Xid: 1, Type: s.op}, s.record)
	}
	f.Add(stream, uint16(0))
	f.Add([]byte{0x7f, 0xff, 0xff, 0xff, 1, 2, 3}, uint16(0))
	f.Fuzz(func(t *testing.T, stream []byte, limit uint16) {
		fr := NewFrameReader(bytes.NewReader(stream), int(limit))
		max := int(limit)
		if max == 0 {
			max = DefaultMaxPacketSize
		}
		payload, word, err := fr.ReadFirst()
		consumed := 4
		if word == "" {
			consumed += len(payload)
		}
		for err == nil {
			if len(payload) > max {
				t.Fatalf("frame of %d bytes over the limit %d", len(payload), max)
			}
			if !bytes.Equal(stream[consumed-len(payload):consumed], payload) {
				t.Fatalf("frame bytes differ from the stream at %d", consumed)
			}
			payload, err = fr.ReadFrame()
			consumed += 4 + len(payload)
		}
	})
}

// TestWriteFuzzCorpus writes the seed corpora when run with -write-corpus.
func TestWriteFuzzCorpus(t *testing.T) {
	if !*writeCorpus {
		return
	}
	write := func(target, name string, values ...any) {
		dir := filepath.Join("testdata", "fuzz", target)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.WriteString("go test fuzz v1\n")
		for _, v := range values {
			switch v := v.(type) {
			case []byte:
				fmt.Fprintf(&b, "[]byte(%q)\n", v)
			default:
				fmt.Fprintf(&b, "%T(%d)\n", v, v)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, name), b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, s := range requestSamples() {
		write("FuzzRequest", "seed-"+s.name, int32(s.op), Marshal(s.record))
	}
	for _, s := range responseSamples() {
		write("FuzzResponse", "seed-"+s.name, int32(s.op), Marshal(s.record))
	}
	for i, s := range otherSamples() {
		write("FuzzRecords", "seed-"+s.name, uint8(i), Marshal(s.record))
		switch s.record.(type) {
		case *ConnectRequest, *ConnectResponse:
			write("FuzzConnect", "seed-"+s.name, Marshal(s.record))
		}
	}
	var stream []byte
	stream = AppendRecordFrame(stream, &ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16), HasReadOnly: true})
	for _, s := range requestSamples() {
		stream = AppendRequestFrame(stream, &RequestHeader{Xid: 1, Type: s.op}, s.record)
	}
	write("FuzzFrameReader", "seed-session", stream, uint16(0))
	write("FuzzFrameReader", "seed-ruok", []byte("ruok"), uint16(0))
	write("FuzzFrameReader", "seed-stmk", []byte("stmk\x00\x00\x00\x00\x00\x00\x01\x00"), uint16(0))
}

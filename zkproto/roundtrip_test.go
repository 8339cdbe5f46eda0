package zkproto

import (
	"bytes"
	"reflect"
	"testing"
)

// TestRoundTrip encodes every sample, decodes it into an empty record of the
// type the opcode selects, and checks the values and the re-encoding.
func TestRoundTrip(t *testing.T) {
	for _, s := range allSamples() {
		t.Run(s.name, func(t *testing.T) {
			enc := Marshal(s.record)
			got := s.fresh()
			if got == nil {
				t.Fatalf("no record type for op %v", s.op)
			}
			var d Decoder
			d.Reset(enc)
			if err := got.Decode(&d); err != nil {
				t.Fatalf("decode: %v", err)
			}
			if d.Remaining() != 0 {
				t.Fatalf("%d bytes left after decode", d.Remaining())
			}
			if !reflect.DeepEqual(got, s.record) {
				t.Fatalf("decoded %#v\nwant    %#v", got, s.record)
			}
			if re := Marshal(got); !bytes.Equal(re, enc) {
				t.Fatalf("re-encoding differs:\n got %x\nwant %x", re, enc)
			}
		})
	}
}

// TestRoundTripReused decodes every sample twice into the same record, the
// second time over the first's values, as a connection's reused records are.
func TestRoundTripReused(t *testing.T) {
	samples := allSamples()
	for i, s := range samples {
		other := samples[(i+1)%len(samples)]
		t.Run(s.name, func(t *testing.T) {
			r := s.fresh()
			// Fill the record with another sample of the same type first, if any.
			if reflect.TypeOf(other.record) == reflect.TypeOf(r) {
				if err := Unmarshal(Marshal(other.record), r); err != nil {
					t.Fatal(err)
				}
			}
			if err := Unmarshal(Marshal(s.record), r); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(r, s.record) {
				t.Fatalf("decoded %#v\nwant    %#v", r, s.record)
			}
		})
	}
}

// TestKnownEncodings pins encodings that clients hard-code or that have a
// layout rule of their own.
func TestKnownEncodings(t *testing.T) {
	tests := []struct {
		name   string
		record Record
		want   int
	}{
		{"connect request without readOnly", &ConnectRequest{Passwd: make([]byte, 16)}, 44},
		{"connect request with readOnly", &ConnectRequest{Passwd: make([]byte, 16), HasReadOnly: true}, 45},
		{"connect response without readOnly", &ConnectResponse{Passwd: make([]byte, 16)}, 36},
		{"connect response with readOnly", &ConnectResponse{Passwd: make([]byte, 16), HasReadOnly: true}, 37},
		{"stat", &Stat{}, StatSize},
		{"request header", &RequestHeader{}, RequestHeaderSize},
		{"reply header", &ReplyHeader{}, ReplyHeaderSize},
		{"multi header", &MultiHeader{}, multiHeaderSize},
	}
	for _, tc := range tests {
		if n := len(Marshal(tc.record)); n != tc.want {
			t.Errorf("%s: %d bytes, want %d", tc.name, n, tc.want)
		}
	}
	// An empty multi is just the end marker: type -1, done, err -1.
	if got, want := Marshal(&MultiRequest{}), []byte{0xff, 0xff, 0xff, 0xff, 1, 0xff, 0xff, 0xff, 0xff}; !bytes.Equal(got, want) {
		t.Errorf("empty multi = %x, want %x", got, want)
	}
	// Null buffer is -1, empty buffer 0; "" and nil vectors are 0.
	if got := Marshal(&GetDataResponse{}); !bytes.Equal(got[:4], []byte{0xff, 0xff, 0xff, 0xff}) {
		t.Errorf("null data encoded as %x", got[:4])
	}
	if got := Marshal(&GetDataResponse{Data: []byte{}}); !bytes.Equal(got[:4], []byte{0, 0, 0, 0}) {
		t.Errorf("empty data encoded as %x", got[:4])
	}
	if got := Marshal(&GetChildrenResponse{}); !bytes.Equal(got, []byte{0, 0, 0, 0}) {
		t.Errorf("nil children encoded as %x", got)
	}
}

// TestNullDecoding checks the -1 forms decode to the documented Go values.
func TestNullDecoding(t *testing.T) {
	minus1 := []byte{0xff, 0xff, 0xff, 0xff}
	var sync SyncRequest
	if err := Unmarshal(minus1, &sync); err != nil || sync.Path != "" {
		t.Errorf("null string: %q, %v", sync.Path, err)
	}
	var children GetChildrenResponse
	children.Children = []string{"stale"}
	if err := Unmarshal(minus1, &children); err != nil || children.Children != nil {
		t.Errorf("null vector: %#v, %v", children.Children, err)
	}
	var sasl GetSASLRequest
	sasl.Token = []byte("stale")
	if err := Unmarshal(minus1, &sasl); err != nil || sasl.Token != nil {
		t.Errorf("null buffer: %#v, %v", sasl.Token, err)
	}
	if err := Unmarshal([]byte{0, 0, 0, 0}, &sasl); err != nil || sasl.Token == nil || len(sasl.Token) != 0 {
		t.Errorf("empty buffer: %#v, %v", sasl.Token, err)
	}
}

// TestBoolDecoding follows Java's readBoolean: any non-zero byte is true.
func TestBoolDecoding(t *testing.T) {
	for b, want := range map[byte]bool{0: false, 1: true, 2: true, 0xff: true} {
		var r ExistsRequest
		if err := Unmarshal([]byte{0, 0, 0, 0, b}, &r); err != nil || r.Watch != want {
			t.Errorf("byte %d: watch=%v err=%v, want %v", b, r.Watch, err, want)
		}
	}
}

// TestBodyTables checks that NewRequest, Requests.For and NewResponse agree
// on which ops exist and which type each gets.
func TestBodyTables(t *testing.T) {
	var set Requests
	for op := OpCode(-20); op <= 600; op++ {
		fresh, reused := NewRequest(op), set.For(op)
		if reflect.TypeOf(fresh) != reflect.TypeOf(reused) {
			t.Errorf("op %v: NewRequest gives %T, Requests.For gives %T", op, fresh, reused)
		}
		_, hasResponse := NewResponse(op)
		if (fresh != nil) != hasResponse {
			t.Errorf("op %v: request %T but response known=%v", op, fresh, hasResponse)
		}
	}
	for _, op := range []OpCode{OpNotification, OpDeleteContainer, OpCreateSession, OpError, 10} {
		if NewRequest(op) != nil {
			t.Errorf("op %v must not be a client request", op)
		}
	}
}

func TestCodes(t *testing.T) {
	if got := ErrNoNode.Error(); got != "NONODE (-101): no node" {
		t.Errorf("ErrNoNode.Error() = %q", got)
	}
	if OK.Err() != nil || ErrBadVersion.Err() != ErrBadVersion {
		t.Error("Code.Err")
	}
	wrapped := wrapErr(ErrNodeExists)
	if CodeOf(wrapped) != ErrNodeExists {
		t.Errorf("CodeOf(wrapped) = %v", CodeOf(wrapped))
	}
	if CodeOf(nil) != OK || CodeOf(errPlain) != ErrSystemError {
		t.Error("CodeOf of nil or a plain error")
	}
	if Code(-9999).Known() || Code(-9999).Error() != "unknown error code (-9999)" {
		t.Error("unknown code")
	}
	if OpCreate.String() != "create" || OpCode(99).String() != "op99" {
		t.Error("OpCode.String")
	}
}

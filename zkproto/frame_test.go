package zkproto

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

func frameOf(payload []byte) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(payload))), payload...)
}

// TestFrameReaderStream reads a stream of frames of many sizes through
// readers that return one byte, half the bytes, or everything at a time.
func TestFrameReaderStream(t *testing.T) {
	var stream []byte
	var want [][]byte
	for _, n := range []int{0, 1, 7, 44, 4096, 16 << 10, 16<<10 + 3, 100 << 10, 3} {
		p := bytes.Repeat([]byte{byte(n)}, n)
		want = append(want, p)
		stream = append(stream, frameOf(p)...)
	}
	readers := map[string]func(io.Reader) io.Reader{
		"whole":    func(r io.Reader) io.Reader { return r },
		"one byte": iotest.OneByteReader,
		"half":     iotest.HalfReader,
		"data err": iotest.DataErrReader,
	}
	for name, wrap := range readers {
		t.Run(name, func(t *testing.T) {
			fr := NewFrameReader(wrap(bytes.NewReader(stream)), 0)
			for i, w := range want {
				got, err := fr.ReadFrame()
				if err != nil {
					t.Fatalf("frame %d: %v", i, err)
				}
				if !bytes.Equal(got, w) {
					t.Fatalf("frame %d: %d bytes, want %d", i, len(got), len(w))
				}
			}
			if _, err := fr.ReadFrame(); err != io.EOF {
				t.Fatalf("after the last frame: %v, want io.EOF", err)
			}
		})
	}
}

func TestFrameReaderErrors(t *testing.T) {
	tests := []struct {
		name   string
		stream []byte
		max    int
		want   error
	}{
		{"negative length", []byte{0xff, 0xff, 0xff, 0xfe}, 0, ErrNegativeFrameLength},
		{"length -1", []byte{0xff, 0xff, 0xff, 0xff}, 0, ErrNegativeFrameLength},
		{"over default max", binary.BigEndian.AppendUint32(nil, DefaultMaxPacketSize+1), 0, ErrFrameTooLarge},
		{"over configured max", frameOf(make([]byte, 101)), 100, ErrFrameTooLarge},
		{"cut in the length", []byte{0, 0}, 0, io.ErrUnexpectedEOF},
		{"cut in the payload", []byte{0, 0, 0, 9, 1, 2, 3}, 0, io.ErrUnexpectedEOF},
		{"empty stream", nil, 0, io.EOF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewFrameReader(bytes.NewReader(tc.stream), tc.max).ReadFrame()
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
	// Exactly the maximum is accepted.
	got, err := NewFrameReader(bytes.NewReader(frameOf(make([]byte, 100))), 100).ReadFrame()
	if err != nil || len(got) != 100 {
		t.Fatalf("frame of exactly the maximum: %d bytes, %v", len(got), err)
	}
}

// TestFrameReaderLazyGrowth: a peer that announces the largest frame and
// sends a few bytes costs a small buffer, not the announced size.
func TestFrameReaderLazyGrowth(t *testing.T) {
	stream := append(binary.BigEndian.AppendUint32(nil, DefaultMaxPacketSize), make([]byte, 10)...)
	n := allocatedBytes(func() {
		_, err := NewFrameReader(bytes.NewReader(stream), 0).ReadFrame()
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Errorf("got %v", err)
		}
	})
	if n > 2*initialReadBuffer {
		t.Fatalf("allocated %d bytes for 14 bytes of a frame announced as 1 MiB", n)
	}
}

// TestFrameReaderReleasesLargeBuffer: after a large frame the next small
// frame does not keep the large buffer.
func TestFrameReaderReleasesLargeBuffer(t *testing.T) {
	stream := append(frameOf(make([]byte, 512<<10)), frameOf([]byte("small"))...)
	fr := NewFrameReader(iotest.HalfReader(bytes.NewReader(stream)), 0)
	if _, err := fr.ReadFrame(); err != nil {
		t.Fatal(err)
	}
	if got, err := fr.ReadFrame(); err != nil || string(got) != "small" {
		t.Fatalf("second frame %q, %v", got, err)
	}
	if len(fr.buf) > maxIdleBuffer {
		t.Fatalf("buffer of %d bytes kept after a large frame", len(fr.buf))
	}
}

func TestReadFirst(t *testing.T) {
	for w := range fourLetterWords {
		payload, word, err := NewFrameReader(bytes.NewReader([]byte(w)), 0).ReadFirst()
		if err != nil || word != w || payload != nil {
			t.Errorf("%s: word %q payload %x err %v", w, word, payload, err)
		}
	}
	connect := AppendRecordFrame(nil, &ConnectRequest{TimeOut: 30000, Passwd: make([]byte, 16)})
	payload, word, err := NewFrameReader(bytes.NewReader(connect), 0).ReadFirst()
	if err != nil || word != "" || len(payload) != 44 {
		t.Fatalf("connect: word %q, %d bytes, %v", word, len(payload), err)
	}
	// An unknown word is an over-long frame length, as in ZooKeeper.
	if _, _, err := NewFrameReader(bytes.NewReader([]byte("kill")), 0).ReadFirst(); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("unknown word: %v", err)
	}
	// stmk carries an 8-byte mask after the word.
	fr := NewFrameReader(bytes.NewReader(append([]byte("stmk"), 0, 0, 0, 0, 0, 0, 1, 0x42)), 0)
	if _, word, err := fr.ReadFirst(); err != nil || word != "stmk" {
		t.Fatalf("stmk: %q %v", word, err)
	}
	if mask, err := fr.ReadRaw(8); err != nil || binary.BigEndian.Uint64(mask) != 0x142 {
		t.Fatalf("stmk mask %x, %v", mask, err)
	}
}

type countingWriter struct {
	bytes.Buffer
	writes int
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.writes++
	return w.Buffer.Write(p)
}

// TestFrameWriterBatches: replies queued together go out in one write, and
// a reply with an error carries no body.
func TestFrameWriterBatches(t *testing.T) {
	var w countingWriter
	fw := NewFrameWriter(&w)
	fw.Record(&ConnectResponse{TimeOut: 4000, SessionID: 7, Passwd: make([]byte, 16), HasReadOnly: true})
	fw.Reply(&ReplyHeader{Xid: 1, Zxid: 5}, &GetDataResponse{Data: []byte("x"), Stat: sampleStat})
	fw.Reply(&ReplyHeader{Xid: 2, Zxid: 5, Err: ErrNoNode}, &GetDataResponse{Data: []byte("ignored")})
	fw.Reply(&ReplyHeader{Xid: PingXid, Zxid: 5}, nil)
	if err := fw.Flush(); err != nil {
		t.Fatal(err)
	}
	if w.writes != 1 {
		t.Fatalf("%d writes, want 1", w.writes)
	}
	fr := NewFrameReader(&w.Buffer, 0)
	sizes := []int{37, ReplyHeaderSize + 4 + 1 + StatSize, ReplyHeaderSize, ReplyHeaderSize}
	for i, want := range sizes {
		p, err := fr.ReadFrame()
		if err != nil || len(p) != want {
			t.Fatalf("frame %d: %d bytes (%v), want %d", i, len(p), err, want)
		}
	}
	if err := fw.Flush(); err != nil || w.writes != 1 {
		t.Fatalf("an empty flush wrote (%d writes, %v)", w.writes, err)
	}
}

// TestFrameReaderHasFrame: HasFrame says whether the next ReadFrame needs
// no read from the stream: a whole frame buffered, or a bad length.
func TestFrameReaderHasFrame(t *testing.T) {
	stream := append(frameOf([]byte("one")), frameOf([]byte("two"))...)
	stream = append(stream, frameOf([]byte("three"))[:5]...) // a partial frame
	fr := NewFrameReader(bytes.NewReader(stream), 0)
	if fr.HasFrame() {
		t.Fatal("HasFrame before anything was read")
	}
	for _, want := range []string{"one", "two"} {
		got, err := fr.ReadFrame()
		if err != nil || string(got) != want {
			t.Fatalf("ReadFrame: %q %v, want %q", got, err, want)
		}
		if want == "one" && !fr.HasFrame() {
			t.Fatal("the second frame, read with the first, is not reported")
		}
	}
	if fr.HasFrame() {
		t.Fatal("a partial frame is reported whole")
	}
	bad := NewFrameReader(bytes.NewReader(append(frameOf(nil), 0xff, 0xff, 0xff, 0xff)), 0)
	if _, err := bad.ReadFrame(); err != nil {
		t.Fatal(err)
	}
	if !bad.HasFrame() {
		t.Fatal("a negative length is not reported (ReadFrame fails at once on it)")
	}
}

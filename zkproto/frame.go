package zkproto

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// DefaultMaxPacketSize is ZooKeeper's default jute.maxbuffer (0xfffff, one
// byte short of 1 MiB): the largest frame payload a server accepts.
const DefaultMaxPacketSize = 0xfffff

// ErrFrameTooLarge is returned for a frame longer than the maximum packet
// size; ZooKeeper closes the connection ("Len error").
var ErrFrameTooLarge = errors.New("zkproto: frame length exceeds the maximum packet size")

// ErrNegativeFrameLength is returned for a frame length below zero.
var ErrNegativeFrameLength = errors.New("zkproto: negative frame length")

// initialReadBuffer is the size a FrameReader starts with; it holds dozens
// of small requests, so one read system call serves a batch of them, and
// grows (to the frames that come) as they need. Kept small: a server holds
// one per connection, and ten thousand idle ones.
const initialReadBuffer = 4 << 10

// FrameReader reads length-prefixed frames from a stream into its own
// buffer, so that one read call can bring in many small frames and a frame
// is copied once. It grows its buffer only as bytes arrive, so a peer that
// announces a large frame and sends nothing costs nothing.
//
// Invariant: start <= end <= len(buf); buf[start:end] holds bytes read from
// the stream but not yet returned.
type FrameReader struct {
	r          io.Reader
	maxPayload int
	buf        []byte
	start, end int
}

// NewFrameReader returns a reader of frames whose payload is at most
// maxPacketSize bytes (DefaultMaxPacketSize if it is 0 or less).
func NewFrameReader(r io.Reader, maxPacketSize int) *FrameReader {
	if maxPacketSize <= 0 {
		maxPacketSize = DefaultMaxPacketSize
	}
	return &FrameReader{r: r, maxPayload: maxPacketSize}
}

// Buffered returns how many bytes have been read from the stream but not yet
// returned as frames; a server uses it to tell whether more requests are
// already waiting before it flushes its replies.
func (f *FrameReader) Buffered() int { return f.end - f.start }

// HasFrame reports whether ReadFrame would return at once, without reading
// from the stream: a whole frame is buffered, or a length that ReadFrame
// refuses. A server uses it to serve the requests a client sent together
// as one batch.
func (f *FrameReader) HasFrame() bool {
	if f.end-f.start < 4 {
		return false
	}
	n := int32(binary.BigEndian.Uint32(f.buf[f.start:]))
	return n < 0 || int(n) > f.maxPayload || f.end-f.start >= 4+int(n)
}

// maxIdleBuffer is the largest buffer a FrameReader keeps while it holds no
// unreturned bytes; a connection that once sent a large frame gives the
// memory back before its next frame.
const maxIdleBuffer = 256 << 10

// fill makes at least n unreturned bytes available, reading as needed. It
// returns io.EOF if the stream ends before any of them arrived, and
// io.ErrUnexpectedEOF if it ends partway.
func (f *FrameReader) fill(n int) error {
	for f.end-f.start < n {
		if f.start == f.end {
			f.start, f.end = 0, 0
			if len(f.buf) > maxIdleBuffer {
				f.buf = nil
			}
		}
		if len(f.buf)-f.start < n {
			f.makeRoom(n)
		}
		m, err := f.r.Read(f.buf[f.end:])
		f.end += m
		if err != nil && f.end-f.start < n {
			if errors.Is(err, io.EOF) && f.end-f.start > 0 {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
	return nil
}

// makeRoom moves the unreturned bytes to the front of a buffer of at least n
// bytes, allocating one only if the current buffer is too small.
func (f *FrameReader) makeRoom(n int) {
	held := f.end - f.start
	if n <= len(f.buf) {
		copy(f.buf, f.buf[f.start:f.end])
	} else {
		nb := make([]byte, max(n, initialReadBuffer))
		copy(nb, f.buf[f.start:f.end])
		f.buf = nb
	}
	f.start, f.end = 0, held
}

// next returns the next n unreturned bytes after fill(n) succeeded.
func (f *FrameReader) next(n int) []byte {
	b := f.buf[f.start : f.start+n : f.start+n]
	f.start += n
	return b
}

// ReadFrame returns the next frame's payload. The slice is valid until the
// next call. A bad length is an error after which the connection must be
// closed: ErrNegativeFrameLength or ErrFrameTooLarge.
func (f *FrameReader) ReadFrame() ([]byte, error) {
	if err := f.fill(4); err != nil {
		return nil, err
	}
	n := int32(binary.BigEndian.Uint32(f.buf[f.start:]))
	if err := f.checkLength(n); err != nil {
		return nil, err
	}
	payload := int(n)
	for f.end-f.start < 4+payload {
		// Grow by doubling what has arrived: fill(4+payload) would size the
		// buffer for the whole announced frame before a byte of it came.
		step := min(4+payload, max(2*(f.end-f.start), initialReadBuffer))
		if err := f.fill(step); err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	f.start += 4
	return f.next(payload), nil
}

func (f *FrameReader) checkLength(n int32) error {
	if n < 0 {
		return fmt.Errorf("%w: %d", ErrNegativeFrameLength, n)
	}
	if int(n) > f.maxPayload {
		return fmt.Errorf("%w: %d > %d", ErrFrameTooLarge, n, f.maxPayload)
	}
	return nil
}

// ReadFirst reads a connection's first message: either a four-letter word
// (returned in word, with a nil payload) or the ConnectRequest frame. As in
// ZooKeeper, a word is recognised only in the place of the first length.
func (f *FrameReader) ReadFirst() (payload []byte, word string, err error) {
	if err := f.fill(4); err != nil {
		return nil, "", err
	}
	if w, ok := FourLetterWord(f.buf[f.start : f.start+4]); ok {
		f.start += 4
		return nil, w, nil
	}
	payload, err = f.ReadFrame()
	return payload, "", err
}

// ReadRaw returns the next n bytes of the stream, unframed: the 8-byte
// argument that follows the stmk word. The slice is valid until the next call.
func (f *FrameReader) ReadRaw(n int) ([]byte, error) {
	if n < 0 || n > f.maxPayload {
		return nil, fmt.Errorf("%w: %d", ErrFrameTooLarge, n)
	}
	if err := f.fill(n); err != nil {
		return nil, err
	}
	return f.next(n), nil
}

// fourLetterWords are the commands ZooKeeper answers in plain text when they
// stand in the place of a connection's first frame length.
var fourLetterWords = map[string]bool{
	"conf": true, "cons": true, "crst": true, "dirs": true, "dump": true,
	"envi": true, "gtmk": true, "hash": true, "isro": true, "mntr": true,
	"ruok": true, "srst": true, "srvr": true, "stat": true, "stmk": true,
	"wchc": true, "wchp": true, "wchs": true,
}

// FourLetterWord reports whether the 4 bytes b are a known four-letter word.
func FourLetterWord(b []byte) (string, bool) {
	if len(b) != 4 || !fourLetterWords[string(b)] {
		return "", false
	}
	return string(b), true
}

// StartFrame reserves room for a frame length at the end of dst; append the
// payload, then call FinishFrame with the returned start.
func StartFrame(dst []byte) (out []byte, start int) {
	return append(dst, 0, 0, 0, 0), len(dst)
}

// FinishFrame writes the length of the frame begun at start.
func FinishFrame(dst []byte, start int) []byte {
	binary.BigEndian.PutUint32(dst[start:], uint32(len(dst)-start-4))
	return dst
}

// AppendReplyFrame appends a whole reply frame: length, header and body
// (body may be nil, and is left out when the header carries an error, as
// ZooKeeper does).
func AppendReplyFrame(dst []byte, h *ReplyHeader, body Record) []byte {
	dst, start := StartFrame(dst)
	dst = h.Append(dst)
	if body != nil && h.Err == OK {
		dst = body.Append(dst)
	}
	return FinishFrame(dst, start)
}

// AppendRequestFrame appends a whole request frame: length, header and body
// (body may be nil).
func AppendRequestFrame(dst []byte, h *RequestHeader, body Record) []byte {
	dst, start := StartFrame(dst)
	dst = h.Append(dst)
	if body != nil {
		dst = body.Append(dst)
	}
	return FinishFrame(dst, start)
}

// AppendRecordFrame appends a frame holding one record and no header: the
// ConnectRequest and ConnectResponse.
func AppendRecordFrame(dst []byte, r Record) []byte {
	dst, start := StartFrame(dst)
	return FinishFrame(r.Append(dst), start)
}

// FrameWriter gathers frames in a buffer and writes them with one call on
// Flush, so a batch of replies costs one system call.
type FrameWriter struct {
	w   io.Writer
	buf []byte
}

// NewFrameWriter returns a FrameWriter over w.
func NewFrameWriter(w io.Writer) *FrameWriter { return &FrameWriter{w: w} }

// Reply queues a reply frame.
func (fw *FrameWriter) Reply(h *ReplyHeader, body Record) {
	fw.buf = AppendReplyFrame(fw.buf, h, body)
}

// Request queues a request frame.
func (fw *FrameWriter) Request(h *RequestHeader, body Record) {
	fw.buf = AppendRequestFrame(fw.buf, h, body)
}

// Record queues a frame holding one record and no header.
func (fw *FrameWriter) Record(r Record) { fw.buf = AppendRecordFrame(fw.buf, r) }

// Buffered returns how many bytes are queued.
func (fw *FrameWriter) Buffered() int { return len(fw.buf) }

// Flush writes every queued frame.
func (fw *FrameWriter) Flush() error {
	if len(fw.buf) == 0 {
		return nil
	}
	_, err := fw.w.Write(fw.buf)
	fw.buf = fw.buf[:0]
	return err
}

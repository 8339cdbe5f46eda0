package storage

import (
	"encoding/binary"
	"hash/crc32"
	"slices"
)

// Record types of the log. The type lives in the frame's length word; zero
// is never a type, so an all-zero length word marks unwritten space.
const (
	recSegment uint8 = 1 // segment header, first frame of every segment
	recBatch   uint8 = 2 // batch marker, first frame of every group write
	recEntry   uint8 = 3 // log entry: op, view, command bytes
	recReplace uint8 = 4 // log cut: entries from op onwards are dropped
	recCommit  uint8 = 5 // lower bound of the commit number
	recSeal    uint8 = 6 // last frame of every batch: the batch number
	// recAccepted bounds global_min_accept: every replica durably accepted
	// the entries up to op (advisory, like recCommit).
	recAccepted uint8 = 7
)

// Frame geometry. A frame is an 8-byte length word, a 4-byte CRC, the
// payload and zero padding to a multiple of 8 bytes. See doc.go.
const (
	frameAlign     = 8
	frameHeaderLen = 12
	// maxPayload bounds any payload length a reader accepts.
	maxPayload = 1 << 30

	segmentPayloadLen = 40
	batchPayloadLen   = 24
	replacePayloadLen = 8
	commitPayloadLen  = 8
	sealPayloadLen    = 8
	entryFixedLen     = 16 // op and view before the command bytes

	segmentFrameLen = (frameHeaderLen + segmentPayloadLen + frameAlign - 1) &^ (frameAlign - 1)
	batchFrameLen   = (frameHeaderLen + batchPayloadLen + frameAlign - 1) &^ (frameAlign - 1)
)

// segmentMagic opens every segment header's payload.
var segmentMagic = [8]byte{'v', 'r', 'k', '-', 'w', 'a', 'l', '\n'}

// walVersion is the format version in segment headers.
const walVersion = 1

// castagnoli is the CRC32C table (read-only after initialisation).
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// frameLen returns the size on disk of a frame with an n-byte payload.
func frameLen(n int) int {
	return (frameHeaderLen + n + frameAlign - 1) &^ (frameAlign - 1)
}

// lengthWord packs a payload length and a record type.
func lengthWord(n int, typ uint8) uint64 {
	return uint64(n) | uint64(typ)<<32
}

// splitLengthWord unpacks a length word; ok is false if its reserved bits
// are set.
func splitLengthWord(w uint64) (n int, typ uint8, ok bool) {
	return int(uint32(w)), uint8(w >> 32), w>>40 == 0
}

// frameCRC computes a frame's CRC from seed: it covers the length word and
// the payload (not the CRC field, not the padding).
func frameCRC(seed uint32, frame []byte, n int) uint32 {
	c := crc32.Update(seed, castagnoli, frame[:8])
	return crc32.Update(c, castagnoli, frame[frameHeaderLen:frameHeaderLen+n])
}

// appendFrame appends a zeroed frame for an n-byte payload of type typ to
// buf, writes its length word, and returns the extended buffer and the
// frame (whose payload starts at frameHeaderLen). The CRC is left zero.
func appendFrame(buf []byte, n int, typ uint8) ([]byte, []byte) {
	fl := frameLen(n)
	start := len(buf)
	buf = slices.Grow(buf, fl)[:start+fl]
	f := buf[start:]
	binary.LittleEndian.PutUint64(f, lengthWord(n, typ))
	binary.LittleEndian.PutUint32(f[8:], 0)
	// Zero the padding; the payload is overwritten by the caller.
	clear(f[frameHeaderLen+n:])
	return buf, f
}

// appendEntry appends an entry frame (CRC zero) to buf.
func appendEntry(buf []byte, op, view uint64, data []byte) []byte {
	buf, f := appendFrame(buf, entryFixedLen+len(data), recEntry)
	p := f[frameHeaderLen:]
	binary.LittleEndian.PutUint64(p, op)
	binary.LittleEndian.PutUint64(p[8:], view)
	copy(p[entryFixedLen:], data)
	return buf
}

// appendReplace appends a log-cut frame (CRC zero) to buf.
func appendReplace(buf []byte, op uint64) []byte {
	buf, f := appendFrame(buf, replacePayloadLen, recReplace)
	binary.LittleEndian.PutUint64(f[frameHeaderLen:], op)
	return buf
}

// appendCommit appends a commit-bound frame (CRC zero) to buf.
func appendCommit(buf []byte, op uint64) []byte {
	buf, f := appendFrame(buf, commitPayloadLen, recCommit)
	binary.LittleEndian.PutUint64(f[frameHeaderLen:], op)
	return buf
}

// appendAccepted appends an accepted-bound frame (CRC zero) to buf.
func appendAccepted(buf []byte, op uint64) []byte {
	buf, f := appendFrame(buf, commitPayloadLen, recAccepted)
	binary.LittleEndian.PutUint64(f[frameHeaderLen:], op)
	return buf
}

// appendSeal appends a batch's closing frame (CRC zero) to buf.
func appendSeal(buf []byte, batchNo uint64) []byte {
	buf, f := appendFrame(buf, sealPayloadLen, recSeal)
	binary.LittleEndian.PutUint64(f[frameHeaderLen:], batchNo)
	return buf
}

// entryFrameLen is the size of an entry frame with dataLen command bytes.
func entryFrameLen(dataLen int) int { return frameLen(entryFixedLen + dataLen) }

// segmentHeader is the payload of a segment's first frame.
type segmentHeader struct {
	// seq numbers segments from 1, consecutively.
	seq uint64
	// firstOp is the op the log expected next when the segment was made:
	// every live entry of earlier segments has a smaller op.
	firstOp uint64
	// prevCRC is the chained CRC at the end of the previous segment (0 for
	// the first); it seeds this segment's chain.
	prevCRC uint32
}

// encodeSegmentHeader returns the segment header frame, CRC included (a
// standalone CRC, seeded with 0).
func encodeSegmentHeader(h segmentHeader) []byte {
	_, f := appendFrame(make([]byte, 0, segmentFrameLen), segmentPayloadLen, recSegment)
	p := f[frameHeaderLen:]
	copy(p, segmentMagic[:])
	binary.LittleEndian.PutUint32(p[8:], walVersion)
	binary.LittleEndian.PutUint32(p[12:], 0)
	binary.LittleEndian.PutUint64(p[16:], h.seq)
	binary.LittleEndian.PutUint64(p[24:], h.firstOp)
	binary.LittleEndian.PutUint32(p[32:], h.prevCRC)
	binary.LittleEndian.PutUint32(p[36:], 0)
	binary.LittleEndian.PutUint32(f[8:], frameCRC(0, f, segmentPayloadLen))
	return f
}

// batchMarker is the payload of a group write's first frame.
type batchMarker struct {
	// length is the batch's size in bytes, marker included.
	length uint64
	// number counts batches over the log's life, from 1.
	number uint64
	// records is the number of frames after the marker.
	records uint32
}

// putBatchMarker writes the marker frame (with its standalone CRC) into
// f, which must be batchFrameLen bytes.
func putBatchMarker(f []byte, m batchMarker) {
	binary.LittleEndian.PutUint64(f, lengthWord(batchPayloadLen, recBatch))
	p := f[frameHeaderLen:]
	binary.LittleEndian.PutUint64(p, m.length)
	binary.LittleEndian.PutUint64(p[8:], m.number)
	binary.LittleEndian.PutUint32(p[16:], m.records)
	binary.LittleEndian.PutUint32(p[20:], 0)
	clear(f[frameHeaderLen+batchPayloadLen : batchFrameLen])
	binary.LittleEndian.PutUint32(f[8:], frameCRC(0, f, batchPayloadLen))
}

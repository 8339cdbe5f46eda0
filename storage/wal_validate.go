package storage

import (
	"encoding/binary"
	"fmt"
)

// batchFault describes where and why a batch failed validation.
type batchFault struct {
	// at is the offset of the failing frame.
	at int
	// tearFrom and tearTo bound the bytes whose loss in a crash would
	// explain the failure: the length word for an implausible one, the
	// length word, CRC and payload for a CRC mismatch. An empty range means
	// no crash explains the failure (non-zero padding, a consistent but
	// wrong batch).
	tearFrom, tearTo int
	// batchEnd is the batch's end per its marker, or -1 if the marker
	// itself failed.
	batchEnd int
	// pastEOF is set if the failing frame runs past the end of the file.
	pastEOF bool
	// reason says what failed.
	reason string
}

// batchChecker validates one batch; its methods build faults.
type batchChecker struct {
	data     []byte
	batchEnd int
}

// lengthFault is a failure of the length word at pos.
func (c batchChecker) lengthFault(pos int, format string, args ...any) batchFault {
	return batchFault{at: pos, tearFrom: pos, tearTo: pos + 8, batchEnd: c.batchEnd,
		reason: fmt.Sprintf(format, args...)}
}

// crcFault is a CRC mismatch of the frame at pos with an n-byte payload.
func (c batchChecker) crcFault(pos, n int, format string, args ...any) batchFault {
	return batchFault{at: pos, tearFrom: pos, tearTo: pos + frameHeaderLen + n, batchEnd: c.batchEnd,
		reason: fmt.Sprintf(format, args...)}
}

// badFault is a failure no crash explains.
func (c batchChecker) badFault(pos int, format string, args ...any) batchFault {
	return batchFault{at: pos, batchEnd: c.batchEnd, reason: fmt.Sprintf(format, args...)}
}

// eofFault is a frame at pos cut by the end of the file.
func (c batchChecker) eofFault(pos int, what string) batchFault {
	return batchFault{at: pos, batchEnd: c.batchEnd, pastEOF: true, reason: what + " runs past the end of the file"}
}

// validateBatch checks the batch starting at off: its marker, then every
// frame's structure and chained CRC from seed, ending with the seal. It
// returns the batch's end and the CRC after its last frame.
func validateBatch(data []byte, off int, seed uint32) (int, uint32, batchFault, bool) {
	c := batchChecker{data: data, batchEnd: -1}
	fail := func(f batchFault) (int, uint32, batchFault, bool) { return 0, 0, f, false }
	if off+batchFrameLen > len(data) {
		return fail(c.eofFault(off, "batch marker"))
	}
	n, typ, _, sane := frameAt(data, off)
	if !sane || typ != recBatch || n != batchPayloadLen {
		return fail(c.lengthFault(off, "no batch marker where a batch begins"))
	}
	if got, want := binary.LittleEndian.Uint32(data[off+8:]), frameCRC(0, data[off:], n); got != want {
		return fail(c.crcFault(off, n, "batch marker CRC %08x, computed %08x", got, want))
	}
	if !allZero(data[off+frameHeaderLen+n : off+batchFrameLen]) {
		return fail(c.badFault(off, "non-zero padding"))
	}
	p := data[off+frameHeaderLen:]
	length := binary.LittleEndian.Uint64(p)
	number := binary.LittleEndian.Uint64(p[8:])
	records := binary.LittleEndian.Uint32(p[16:])
	if length < batchFrameLen || length%frameAlign != 0 || length > maxPayload ||
		binary.LittleEndian.Uint32(p[20:]) != 0 {
		return fail(c.badFault(off, "batch marker has length %d", length))
	}
	end := off + int(length)
	c.batchEnd = end
	crc := seed
	count := uint32(0)
	sealed := false
	for pos := off + batchFrameLen; pos < end; {
		if pos+8 > len(data) {
			return fail(c.eofFault(pos, "length word"))
		}
		n, typ, fl, sane := frameAt(data, pos)
		switch {
		case !sane:
			return fail(c.lengthFault(pos, "invalid length word"))
		case pos+fl > end:
			return fail(c.lengthFault(pos, "record of %d bytes runs past its batch's end %d", fl, end))
		case sealed || (typ != recEntry && typ != recReplace && typ != recCommit && typ != recSeal && typ != recAccepted):
			return fail(c.lengthFault(pos, "record type %d inside a batch", typ))
		case (typ == recEntry && n < entryFixedLen) || (typ != recEntry && n != replacePayloadLen):
			return fail(c.lengthFault(pos, "record of type %d has %d payload bytes", typ, n))
		case pos+fl > len(data):
			return fail(c.eofFault(pos, "record"))
		}
		got, want := binary.LittleEndian.Uint32(data[pos+8:]), frameCRC(crc, data[pos:], n)
		if got != want {
			return fail(c.crcFault(pos, n, "record CRC %08x, computed %08x", got, want))
		}
		if !allZero(data[pos+frameHeaderLen+n : pos+fl]) {
			return fail(c.badFault(pos, "non-zero padding"))
		}
		if typ == recSeal {
			if got := binary.LittleEndian.Uint64(data[pos+frameHeaderLen:]); got != number {
				return fail(c.badFault(pos, "seal of batch %d closes batch %d", got, number))
			}
			sealed = true
		}
		crc = got
		count++
		pos += fl
	}
	if !sealed || count != records {
		return fail(c.badFault(off, "batch marker says %d records, batch holds %d (sealed: %v)", records, count, sealed))
	}
	return end, crc, batchFault{}, true
}

// frameAt parses the length word at off. sane is false if the word does
// not fit, has reserved bits set, an unknown type or an absurd length.
func frameAt(data []byte, off int) (n int, typ uint8, fl int, sane bool) {
	if off+8 > len(data) {
		return 0, 0, 0, false
	}
	n, typ, ok := splitLengthWord(binary.LittleEndian.Uint64(data[off:]))
	if !ok || typ < recSegment || typ > recAccepted || n > maxPayload {
		return 0, 0, 0, false
	}
	return n, typ, frameLen(n), true
}

package tree

import "encoding/binary"

// StampTime returns cmd with its time replaced by now (ms since the
// epoch): the primary calls it on every command it prepares, so that the
// only clock the replicated state knows is the primary's, whichever server
// built the command. cmd itself is not modified (commands are shared); a
// command that does not parse is returned unchanged (Apply refuses it the
// same way on every replica).
func StampTime(cmd []byte, now int64) []byte {
	off, ok := timeOffset(cmd)
	if !ok || int64(binary.BigEndian.Uint64(cmd[off:])) == now {
		return cmd
	}
	out := make([]byte, len(cmd))
	copy(out, cmd)
	binary.BigEndian.PutUint64(out[off:], uint64(now))
	return out
}

// timeOffset locates a command's time field.
func timeOffset(cmd []byte) (int, bool) {
	var h cmdHeader
	if h.parse(cmd) != nil {
		return 0, false
	}
	off := 2 // format and kind; every kind but a client write starts with its time
	if h.kind == KindClientWrite {
		off += 8 + 4 // session, cxid
		if cmd[0] != commandFormat1 {
			off += 8 + 8 // owner, seq
		}
	}
	return off, off+8 <= len(cmd)
}

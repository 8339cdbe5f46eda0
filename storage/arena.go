package storage

// arena copies command bytes into large shared chunks, so recovery does
// not allocate per entry. Chunks double from arenaMinChunk to
// arenaMaxChunk, so a small log costs little.
type arena struct {
	chunk []byte
}

const (
	arenaMinChunk = 64 << 10
	arenaMaxChunk = 4 << 20
)

// copy returns a copy of b (nil if b is empty).
func (a *arena) copy(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	if len(b) > arenaMaxChunk/8 {
		return append([]byte(nil), b...)
	}
	if cap(a.chunk)-len(a.chunk) < len(b) {
		size := min(max(2*cap(a.chunk), arenaMinChunk), arenaMaxChunk)
		a.chunk = make([]byte, 0, max(size, len(b)))
	}
	start := len(a.chunk)
	a.chunk = append(a.chunk, b...)
	return a.chunk[start:len(a.chunk):len(a.chunk)]
}

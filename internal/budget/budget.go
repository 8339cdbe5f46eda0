// Package budget bounds what producers hold, in count and in bytes: a
// producer takes a share before it queues work and waits while the bound is
// reached, and the consumer gives the share back when the work is done.
// Waiting is how a server pushes back: a connection whose reader waits is
// not read.
package budget

import "sync"

// Budget is a bound of items and bytes, safe for concurrent use. One item
// larger than the byte bound fits when nothing else is held, so no single
// item waits forever.
type Budget struct {
	maxItems int // 0: no bound on items
	maxBytes int // 0: no bound on bytes

	mu      sync.Mutex
	items   int
	bytes   int
	waiting int           // takers waiting for room
	room    chan struct{} // closed when room is made, if someone waits; nil otherwise
}

// New returns a budget of maxItems items and maxBytes bytes (0: unbounded).
func New(maxItems, maxBytes int) *Budget {
	return &Budget{maxItems: maxItems, maxBytes: maxBytes}
}

// fits reports whether an item of n bytes fits now; b.mu is held.
func (b *Budget) fits(n int) bool {
	if b.items == 0 {
		return true
	}
	return (b.maxItems == 0 || b.items < b.maxItems) && (b.maxBytes == 0 || b.bytes+n <= b.maxBytes)
}

// TryTake takes an item of n bytes if it fits now.
func (b *Budget) TryTake(n int) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.fits(n) {
		return false
	}
	b.items++
	b.bytes += n
	return true
}

// Take takes an item of n bytes, waiting until it fits; it gives up and
// returns false once abort is closed.
func (b *Budget) Take(n int, abort <-chan struct{}) bool {
	for {
		b.mu.Lock()
		if b.fits(n) {
			b.items++
			b.bytes += n
			b.mu.Unlock()
			return true
		}
		if b.room == nil {
			b.room = make(chan struct{})
		}
		room := b.room
		b.waiting++
		b.mu.Unlock()
		select {
		case <-room:
		case <-abort:
			b.mu.Lock()
			b.waiting--
			b.mu.Unlock()
			return false
		}
		b.mu.Lock()
		b.waiting--
		b.mu.Unlock()
	}
}

// Give returns an item of n bytes taken before.
func (b *Budget) Give(n int) { b.GiveMany(1, n) }

// GiveMany returns items items of n bytes in all.
func (b *Budget) GiveMany(items, n int) {
	if items == 0 {
		return
	}
	b.mu.Lock()
	b.items -= items
	b.bytes -= n
	if b.items < 0 || b.bytes < 0 {
		b.mu.Unlock()
		panic("budget: gave back more than was taken")
	}
	if b.room != nil {
		close(b.room)
		b.room = nil
	}
	b.mu.Unlock()
}

// Waiting returns how many takers wait for room now.
func (b *Budget) Waiting() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.waiting
}

// Held returns the items and bytes held now.
func (b *Budget) Held() (items, bytes int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.items, b.bytes
}

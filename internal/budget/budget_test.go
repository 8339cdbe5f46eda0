package budget

import (
	"testing"
)

func TestFits(t *testing.T) {
	tests := []struct {
		name               string
		maxItems, maxBytes int
		held               []int // items taken first
		n                  int
		want               bool
	}{
		{"empty takes anything", 1, 10, nil, 100, true},
		{"items bound", 2, 0, []int{1, 1}, 1, false},
		{"under items bound", 2, 0, []int{1}, 1, true},
		{"bytes bound", 0, 10, []int{6}, 5, false},
		{"exactly the bytes bound", 0, 10, []int{6}, 4, true},
		{"large item waits for empty", 10, 10, []int{1}, 20, false},
		{"unbounded", 0, 0, []int{1 << 30, 1 << 30}, 1 << 30, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := New(tc.maxItems, tc.maxBytes)
			for _, n := range tc.held {
				if !b.TryTake(n) {
					t.Fatalf("setup: could not take %d", n)
				}
			}
			if got := b.TryTake(tc.n); got != tc.want {
				t.Fatalf("TryTake(%d) = %v, want %v", tc.n, got, tc.want)
			}
		})
	}
}

// TestTakeWaitsForGive: a taker waits while the budget is full and goes on
// once room is made; an abort ends the wait.
func TestTakeWaitsForGive(t *testing.T) {
	b := New(1, 0)
	b.Take(1, nil)
	took := make(chan bool)
	go func() { took <- b.Take(1, nil) }()
	// The taker cannot have taken: the only item is held. Give it back.
	select {
	case <-took:
		t.Fatal("took from a full budget")
	default:
	}
	b.Give(1)
	if !<-took {
		t.Fatal("Take failed")
	}
	if items, bytes := b.Held(); items != 1 || bytes != 1 {
		t.Fatalf("held %d items %d bytes", items, bytes)
	}
	abort := make(chan struct{})
	go func() { took <- b.Take(1, abort) }()
	close(abort)
	if <-took {
		t.Fatal("an aborted Take took")
	}
	b.Give(1)
	if items, _ := b.Held(); items != 0 {
		t.Fatalf("held %d items after giving all back", items)
	}
}

func TestGiveTooMuchPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic")
		}
	}()
	New(0, 0).Give(1)
}

package main

import "testing"

// TestGCPercentFor: the default for a small live heap, never below 50.
func TestGCPercentFor(t *testing.T) {
	for _, tc := range []struct {
		live uint64
		want int
	}{
		{0, 100}, {100 << 20, 100}, {128 << 20, 100}, {1 << 30, 50}, {4 << 30, 50},
	} {
		if got := gcPercentFor(tc.live); got != tc.want {
			t.Errorf("gcPercentFor(%d MiB) = %d, want %d", tc.live>>20, got, tc.want)
		}
	}
}

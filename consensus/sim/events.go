package sim

import (
	"container/heap"
)

// Simulated time is counted in units; a replica tick is tickUnits units.
const tickUnits = 10

type evKind uint8

const (
	evDeliver  evKind = iota // a message reaches node
	evTick                   // node's clock ticks
	evDiskDone               // node's pending sync completes
	evClient                 // a client wakes up (issue or time out)
	evRestart                // a crashed node restarts
	evHeal                   // a partition ends
)

type event struct {
	at     int64
	seq    uint64
	kind   evKind
	node   int
	inc    int // node incarnation the event belongs to
	client int
	from   int    // evDeliver: sender
	frame  []byte // evDeliver: the encoded message
}

type eventQueue []event

func (q eventQueue) Len() int { return len(q) }
func (q eventQueue) Less(i, j int) bool {
	if q[i].at != q[j].at {
		return q[i].at < q[j].at
	}
	return q[i].seq < q[j].seq
}
func (q eventQueue) Swap(i, j int) { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)   { *q = append(*q, x.(event)) }
func (q *eventQueue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = event{}
	*q = old[:len(old)-1]
	return e
}

func (w *World) schedule(e event) {
	w.evSeq++
	e.seq = w.evSeq
	heap.Push(&w.events, e)
}

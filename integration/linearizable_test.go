package integration

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/go-zookeeper/zk"
)

// regInput is one operation on a znode used as a register.
type regInput struct {
	key   string
	write bool
	value string
}

// regOutput is what the operation saw; unknown marks a write whose outcome
// the client never learned (connection lost), which may or may not have
// taken effect.
type regOutput struct {
	value   string
	unknown bool
}

// registerModel is a set of registers, one per znode, checked key by key.
var registerModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		byKey := map[string][]porcupine.Operation{}
		for _, op := range history {
			k := op.Input.(regInput).key
			byKey[k] = append(byKey[k], op)
		}
		var out [][]porcupine.Operation
		for _, ops := range byKey {
			out = append(out, ops)
		}
		return out
	},
	Init: func() any { return "" },
	Step: func(state, input, output any) (bool, any) {
		in, out := input.(regInput), output.(regOutput)
		if in.write {
			return true, in.value
		}
		return out.value == state.(string), state
	},
	Equal: func(a, b any) bool { return a == b },
	DescribeOperation: func(input, output any) string {
		in, out := input.(regInput), output.(regOutput)
		if in.write {
			return fmt.Sprintf("set(%s, %s)", in.key, in.value)
		}
		return fmt.Sprintf("get(%s) -> %s", in.key, out.value)
	},
}

// registerOp runs client id's n-th operation on one of keys, a read or a
// write drawn by rng, and returns it as a history entry (times since
// start). ok is false for a failed read, which tells nothing; a failed
// write may have taken effect at any time after its call.
func registerOp(s *session, id, n int, keys []string, rng *rand.Rand, start time.Time) (porcupine.Operation, bool) {
	key := keys[rng.IntN(len(keys))]
	in := regInput{key: key}
	if rng.IntN(2) == 0 {
		in.write, in.value = true, fmt.Sprintf("%d-%d", id, n)
	}
	call := time.Since(start).Nanoseconds()
	var out regOutput
	var err error
	if in.write {
		_, err = s.Set(key, []byte(in.value), -1)
	} else {
		var d []byte
		d, _, err = s.Get(key)
		out.value = string(d)
	}
	ret := time.Since(start).Nanoseconds()
	if err != nil {
		if !in.write || errors.Is(err, zk.ErrNoNode) {
			return porcupine.Operation{}, false
		}
		out.unknown, ret = true, 1<<62
	}
	return porcupine.Operation{ClientId: id, Input: in, Call: call, Output: out, Return: ret}, true
}

// TestLinearizableUnderFaults: clients read and write a few znodes through
// every server while a backup is killed and restarted, the primary is
// paused, a backup is paused, and then the primary is killed and restarted
// (each server reads under its read lease when it holds one); the history of reads (plain getData, no sync) and writes must be
// linearizable.
func TestLinearizableUnderFaults(t *testing.T) {
	if target != "vrkeeper" {
		t.Log("ZooKeeper's plain reads are not linearizable; expect this to fail against it")
	}
	c := startCluster(t, 3)
	keys := []string{"/lin-a", "/lin-b", "/lin-c"}
	setup := connect(t, 10*time.Second, c.addrs()...)
	for _, k := range keys {
		if _, err := setup.Create(k, []byte(""), 0, openACL); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	var (
		mu      sync.Mutex
		history []porcupine.Operation
		wg      sync.WaitGroup
	)
	stop := make(chan struct{})
	const clients = 6
	for id := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(id), 1))
			s := connect(t, 20*time.Second, c.addrs()[id%3])
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				op, ok := registerOp(s, id, n, keys, rng, start)
				if !ok {
					continue // a failed read tells nothing
				}
				mu.Lock()
				history = append(history, op)
				mu.Unlock()
			}
		}()
	}
	// Faults: kill and restart a backup, then pause the primary.
	time.Sleep(500 * time.Millisecond)
	backup := c.withMode("follower")
	c.kill(backup)
	time.Sleep(500 * time.Millisecond)
	c.restart(backup)
	leader := c.withMode("leader")
	pid := c.servers[leader].cmd.Process.Pid
	syscall.Kill(-pid, syscall.SIGSTOP)
	time.Sleep(1500 * time.Millisecond)
	syscall.Kill(-pid, syscall.SIGCONT)
	time.Sleep(500 * time.Millisecond)
	// A paused backup held a read lease: writes go on without it once the
	// lease ends, and when it runs again it must not answer from its old
	// state.
	backup = c.withMode("follower")
	bpid := c.servers[backup].cmd.Process.Pid
	syscall.Kill(-bpid, syscall.SIGSTOP)
	time.Sleep(1500 * time.Millisecond)
	syscall.Kill(-bpid, syscall.SIGCONT)
	time.Sleep(500 * time.Millisecond)
	leader = c.withMode("leader")
	c.kill(leader)
	time.Sleep(500 * time.Millisecond)
	c.restart(leader)
	time.Sleep(300 * time.Millisecond)
	close(stop)
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	res, info := porcupine.CheckOperationsVerbose(registerModel, history, 60*time.Second)
	switch res {
	case porcupine.Ok:
		t.Logf("%d operations, linearizable", len(history))
	case porcupine.Illegal:
		path := t.TempDir() + "/history.html"
		porcupine.VisualizePath(registerModel, info, path)
		t.Fatalf("%d operations are not linearizable (see %s)", len(history), path)
	default:
		t.Fatalf("the checker could not decide on %d operations", len(history))
	}
}

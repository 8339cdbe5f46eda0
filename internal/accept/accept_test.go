package accept

import (
	"errors"
	"net"
	"reflect"
	"syscall"
	"testing"
	"time"
)

// scriptListener returns the scripted results of Accept in order, then
// net.ErrClosed.
type scriptListener struct {
	script []error // nil: a connection
	calls  int
}

func (l *scriptListener) Accept() (net.Conn, error) {
	if l.calls >= len(l.script) {
		return nil, net.ErrClosed
	}
	err := l.script[l.calls]
	l.calls++
	if err != nil {
		return nil, err
	}
	c, _ := net.Pipe()
	return c, nil
}
func (l *scriptListener) Close() error   { return nil }
func (l *scriptListener) Addr() net.Addr { return &net.TCPAddr{} }

func TestLoopPausesOnErrorsAndStopsOnClose(t *testing.T) {
	emfile := &net.OpError{Op: "accept", Net: "tcp", Err: syscall.EMFILE}
	other := errors.New("something else")
	tests := []struct {
		name   string
		script []error
		pauses []time.Duration
		served int
	}{
		{"closed at once", nil, nil, 0},
		{"connections then closed", []error{nil, nil}, nil, 2},
		{"EMFILE backs off doubling", []error{emfile, emfile, emfile, nil}, []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 20 * time.Millisecond}, 1},
		{"a connection resets the pause", []error{emfile, emfile, nil, emfile}, []time.Duration{5 * time.Millisecond, 10 * time.Millisecond, 5 * time.Millisecond}, 1},
		{"any error is retried", []error{other, nil}, []time.Duration{5 * time.Millisecond}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ln := &scriptListener{script: tc.script}
			var pauses []time.Duration
			served := 0
			err := Loop(ln, nil, func(c net.Conn) { served++; c.Close() }, func(_ error, p time.Duration) { pauses = append(pauses, p) })
			if err != nil || served != tc.served || !reflect.DeepEqual(pauses, tc.pauses) || ln.calls != len(tc.script) {
				t.Fatalf("err %v, served %d, pauses %v, calls %d; want nil, %d, %v, %d", err, served, pauses, ln.calls, tc.served, tc.pauses, len(tc.script))
			}
		})
	}
}

func TestLoopPauseCapped(t *testing.T) {
	var pauses []time.Duration
	script := make([]error, 12)
	for i := range script {
		script[i] = syscall.ENFILE
	}
	stop := make(chan struct{})
	ln := &scriptListener{script: script}
	Loop(ln, stop, func(net.Conn) {}, func(_ error, p time.Duration) {
		pauses = append(pauses, p)
		if p == maxPause {
			close(stop) // the pause in progress ends at once
		}
	})
	if got := pauses[len(pauses)-1]; got != maxPause || len(pauses) != 9 {
		t.Fatalf("pauses %v, want doubling from 5ms up to %v", pauses, maxPause)
	}
}

func TestLoopRealListenerClosed(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- Loop(ln, nil, func(c net.Conn) { c.Close() }, nil) }()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	ln.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

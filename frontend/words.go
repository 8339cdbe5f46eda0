package frontend

import (
	"bytes"
	"fmt"
	"os"
	"runtime"
	"time"

	"github.com/vrkeeper/vrkeeper/bridge"
	"github.com/vrkeeper/vrkeeper/zkproto"
)

// notServing is ZooKeeper's answer to most words while it does not serve.
const notServing = "This ZooKeeper instance is not currently serving requests\n"

// fourLetter answers a four-letter word and closes the connection.
func (c *conn) fourLetter(word string, fr *zkproto.FrameReader) {
	if word == "stmk" {
		fr.ReadRaw(8) // the trace mask: accepted, without effect
	}
	var b bytes.Buffer
	if !c.srv.cfg.FourLetterWords[word] {
		b.WriteString(NotWhitelisted(word))
	} else {
		c.srv.answerWord(word, &b)
	}
	c.nc.SetWriteDeadline(time.Now().Add(5 * time.Second))
	c.nc.Write(b.Bytes())
}

// answerWord writes the answer to an allowed word. Like ZooKeeper, a
// server that does not serve (no primary, catching up) answers ruok, envi,
// gtmk, stmk and isro ("null") and refuses the rest with notServing.
func (s *Server) answerWord(word string, b *bytes.Buffer) {
	switch word {
	case "ruok":
		b.WriteString("imok")
		return
	case "envi":
		WriteEnvi(b, s.environment())
		return
	case "gtmk", "stmk":
		b.WriteString("0\n")
		return
	}
	serving := s.serving()
	if word == "isro" {
		if serving {
			b.WriteString("rw")
		} else {
			b.WriteString("null")
		}
		return
	}
	if !serving {
		b.WriteString(notServing)
		return
	}
	switch word {
	case "conf":
		WriteConf(b, s.cfg.Conf)
	case "crst":
		s.resetConnStats()
		b.WriteString("Connection stats reset.\n")
	case "srst":
		s.stats.reset()
		b.WriteString("Server stats reset.\n")
	case "dirs":
		data, log := s.dirSizes()
		fmt.Fprintf(b, "datadir_size: %d\nlogdir_size: %d\n", data, log)
	default:
		s.answerCoreWord(word, b)
	}
}

// answerCoreWord answers a word that reads the core's state on the apply
// goroutine.
func (s *Server) answerCoreWord(word string, b *bytes.Buffer) {
	var st *ServerStats
	var conns []ConnStats
	if word == "srvr" || word == "stat" || word == "mntr" || word == "cons" {
		var ok bool
		if st, conns, ok = s.serverStats(); !ok {
			b.WriteString(notServing)
			return
		}
	}
	// The answer is built in its own buffer: after a timeout the task may
	// still run, and must not write into b.
	out, ok := inspect(s, func(a *bridge.Apply) []byte {
		var inner bytes.Buffer
		s.core.answerWord(a, word, st, conns, &inner)
		return inner.Bytes()
	})
	if !ok {
		b.WriteString(notServing)
		return
	}
	b.Write(out)
}

// serving reports whether the server serves clients: it has a role (a
// backup whose primary went silent has none, as a ZooKeeper follower that
// lost its leader).
func (s *Server) serving() bool {
	return s.node != nil && bridge.Role(s.role.Load()) != bridge.RoleNone
}

// inspectTimeout bounds how long a word or an admin command waits for the
// apply goroutine.
const inspectTimeout = 5 * time.Second

// inspect runs fn on the apply goroutine and returns its result, or false
// if it did not run within inspectTimeout (it may still run later; its
// result is then dropped).
func inspect[T any](s *Server, fn func(a *bridge.Apply) T) (T, bool) {
	done := make(chan T, 1)
	s.node.Submit(func(a *bridge.Apply) { done <- fn(a) })
	t := time.NewTimer(inspectTimeout)
	defer t.Stop()
	select {
	case v := <-done:
		return v, true
	case <-t.C:
		var zero T
		return zero, false
	}
}

// resetConnStats is crst: every connection's statistics start again.
func (s *Server) resetConnStats() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for c := range s.conns {
		c.resetStats()
	}
}

// environment is what envi prints.
func (s *Server) environment() [][2]string {
	host, _ := os.Hostname()
	wd, _ := os.Getwd()
	env := [][2]string{
		{"zookeeper.version", ZooKeeperVersion + ", built on " + BuildDate},
		{"host.name", host},
		{"go.version", runtime.Version()},
		{"os.name", runtime.GOOS},
		{"os.arch", runtime.GOARCH},
		{"user.dir", wd},
		{"os.cpus", fmt.Sprint(runtime.NumCPU())},
	}
	return append(env, s.cfg.Env...)
}

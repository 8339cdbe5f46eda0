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

// answerWord writes the answer to an allowed word.
func (s *Server) answerWord(word string, b *bytes.Buffer) {
	switch word {
	case "ruok":
		b.WriteString("imok")
		return
	case "conf":
		WriteConf(b, s.cfg.Conf)
		return
	case "envi":
		WriteEnvi(b, s.environment())
		return
	case "gtmk", "stmk":
		b.WriteString("0\n")
		return
	case "crst", "srst":
		// Statistics are not reset: vrkeeper keeps them monotonic for
		// Prometheus; the words answer as ZooKeeper does.
		if word == "crst" {
			b.WriteString("Connection stats reset.\n")
		} else {
			b.WriteString("Server stats reset.\n")
		}
		return
	case "dirs":
		b.WriteString("datadir_size: 0\nlogdir_size: 0\n")
		return
	}
	// The rest read the core's state on the apply goroutine.
	// The answer is built in its own buffer: after a timeout the task may
	// still run, and must not write into b.
	conns := s.connStats()
	done := make(chan *bytes.Buffer, 1)
	s.node.Submit(func(a *bridge.Apply) {
		var inner bytes.Buffer
		if a.Role() == bridge.RoleNone && word != "isro" {
			inner.WriteString(notServing)
		} else {
			s.core.answerWord(a, word, conns, &inner)
		}
		done <- &inner
	})
	select {
	case inner := <-done:
		b.Write(inner.Bytes())
	case <-time.After(5 * time.Second):
		b.WriteString(notServing)
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

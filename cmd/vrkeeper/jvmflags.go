package main

import (
	"fmt"
	"strings"
)

// ZooKeeper takes many settings as Java system properties as well as
// zoo.cfg keys: -Dzookeeper.<key>=<value> in SERVER_JVMFLAGS or JVMFLAGS
// (which zkServer.sh and conf/java.env set) for <key> in zoo.cfg, and a
// few without the prefix (jute.maxbuffer, readonlymode.enabled,
// znode.container.*). vrkeeper reads the same variables; zoo.cfg keys
// override properties, as in ZooKeeper.

// jvmProperties returns the -D properties of SERVER_JVMFLAGS and then
// JVMFLAGS (zkServer.sh's order: a later one wins), as zoo.cfg keys. JVM
// and logging properties, which have no meaning here, are left out; they
// are returned apart for system_properties.
func jvmProperties(getenv func(string) string) (keys, all [][2]string, err error) {
	for _, v := range []string{"SERVER_JVMFLAGS", "JVMFLAGS"} {
		words, err := splitWords(getenv(v))
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", v, err)
		}
		for _, w := range words {
			if !strings.HasPrefix(w, "-D") {
				continue // -Xmx and the like
			}
			k, val, _ := strings.Cut(w[2:], "=")
			if k == "" {
				return nil, nil, fmt.Errorf("%s: %q names no property", v, w)
			}
			all = append(all, [2]string{k, val})
			if key, ok := zooKey(k); ok {
				keys = append(keys, [2]string{key, val})
			}
		}
	}
	return keys, all, nil
}

// jvmOnly are property prefixes of the JVM and of ZooKeeper's logging and
// JMX set-up: no zoo.cfg key.
var jvmOnly = []string{"java.", "javax.", "sun.", "com.sun.", "jdk.", "file.", "user.", "line.",
	"log4j", "logback", "zookeeper.log.", "zookeeper.root.logger", "zookeeper.jmx", "zookeeper.datadir.autocreate",
	"zookeeper.clientCnxnSocket", "zookeeper.client."}

// zooKey maps a system property to its zoo.cfg key.
func zooKey(prop string) (string, bool) {
	for _, p := range jvmOnly {
		if strings.HasPrefix(prop, p) {
			return "", false
		}
	}
	return strings.TrimPrefix(prop, "zookeeper."), true
}

// splitWords splits a shell variable's value into words as the shell
// would for an unquoted expansion, honouring quotes written inside it
// (java.env files often quote: SERVER_JVMFLAGS="-Dx='a b'").
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote in %q", s)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

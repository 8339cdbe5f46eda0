// Package jaas reads Java's JAAS login configuration files, the form in
// which ZooKeeper's servers are given their SASL users:
//
//	Server {
//	    org.apache.zookeeper.server.auth.DigestLoginModule required
//	    user_super="adminsecret"
//	    user_bob="bobsecret";
//	};
package jaas

import (
	"fmt"
	"strings"
	"unicode"
)

// Entry is one login module of a section.
type Entry struct {
	Module  string            // class name
	Flag    string            // required, requisite, sufficient, optional
	Options map[string]string // name=value pairs
}

// Config is a file's sections by name.
type Config map[string][]Entry

// Parse reads a JAAS configuration: sections "Name { module flag
// [name=value ...]; ... };" with // and /* */ comments; values quoted or
// bare.
func Parse(text string) (Config, error) {
	toks, err := tokenize(text)
	if err != nil {
		return nil, err
	}
	cfg := Config{}
	i := 0
	next := func() (string, bool) {
		if i >= len(toks) {
			return "", false
		}
		i++
		return toks[i-1].s, true
	}
	expect := func(what string) error {
		t, ok := next()
		if !ok || t != what {
			return fmt.Errorf("jaas: want %q, got %q", what, t)
		}
		return nil
	}
	for i < len(toks) {
		name, _ := next()
		if err := expect("{"); err != nil {
			return nil, err
		}
		var entries []Entry
		for {
			t, ok := next()
			if !ok {
				return nil, fmt.Errorf("jaas: section %s is not closed", name)
			}
			if t == "}" {
				break
			}
			e := Entry{Module: t, Options: map[string]string{}}
			if e.Flag, ok = next(); !ok {
				return nil, fmt.Errorf("jaas: %s: no control flag", e.Module)
			}
			switch strings.ToLower(e.Flag) {
			case "required", "requisite", "sufficient", "optional":
			default:
				return nil, fmt.Errorf("jaas: %s: bad control flag %q", e.Module, e.Flag)
			}
			for {
				k, ok := next()
				if !ok {
					return nil, fmt.Errorf("jaas: %s: entry not ended with ';'", e.Module)
				}
				if k == ";" {
					break
				}
				if err := expect("="); err != nil {
					return nil, fmt.Errorf("%w (option %s of %s)", err, k, e.Module)
				}
				v, ok := next()
				if !ok {
					return nil, fmt.Errorf("jaas: %s: option %s has no value", e.Module, k)
				}
				e.Options[k] = v
			}
			entries = append(entries, e)
		}
		if err := expect(";"); err != nil {
			return nil, err
		}
		cfg[name] = append(cfg[name], entries...)
	}
	return cfg, nil
}

type token struct{ s string }

// tokenize splits the text into words, quoted strings and the
// punctuation { } ; =.
func tokenize(text string) ([]token, error) {
	var toks []token
	r := []rune(text)
	for i := 0; i < len(r); {
		c := r[i]
		switch {
		case unicode.IsSpace(c):
			i++
		case c == '/' && i+1 < len(r) && r[i+1] == '/':
			for i < len(r) && r[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(r) && r[i+1] == '*':
			end := strings.Index(string(r[i+2:]), "*/")
			if end < 0 {
				return nil, fmt.Errorf("jaas: comment not closed")
			}
			i += 2 + len([]rune(string(r[i+2:])[:end])) + 2
		case c == '{' || c == '}' || c == ';' || c == '=':
			toks = append(toks, token{string(c)})
			i++
		case c == '"' || c == '\'':
			var b strings.Builder
			j := i + 1
			for ; j < len(r) && r[j] != c; j++ {
				if r[j] == '\\' && j+1 < len(r) {
					j++
				}
				b.WriteRune(r[j])
			}
			if j >= len(r) {
				return nil, fmt.Errorf("jaas: quoted value not closed")
			}
			toks = append(toks, token{b.String()})
			i = j + 1
		default:
			j := i
			for j < len(r) && !unicode.IsSpace(r[j]) && !strings.ContainsRune("{};=\"'", r[j]) {
				j++
			}
			toks = append(toks, token{string(r[i:j])})
			i = j
		}
	}
	return toks, nil
}

// Modules ZooKeeper servers use.
const (
	DigestLoginModule = "org.apache.zookeeper.server.auth.DigestLoginModule"
	Krb5LoginModule   = "com.sun.security.auth.module.Krb5LoginModule"
)

// DigestUsers returns the users (user_NAME="PASSWORD") of a section's
// DigestLoginModule. found is false if the section does not exist; a
// section that asks for Kerberos is an error, as vrkeeper has no GSSAPI.
func (c Config) DigestUsers(section string) (users map[string]string, found bool, err error) {
	entries, ok := c[section]
	if !ok {
		return nil, false, nil
	}
	users = map[string]string{}
	for _, e := range entries {
		switch e.Module {
		case DigestLoginModule:
			for k, v := range e.Options {
				if name, ok := strings.CutPrefix(k, "user_"); ok && name != "" {
					users[name] = v
				}
			}
		case Krb5LoginModule:
			return nil, true, fmt.Errorf("jaas: section %s: Kerberos (GSSAPI) is not supported by vrkeeper; use DigestLoginModule (DIGEST-MD5)", section)
		default:
			return nil, true, fmt.Errorf("jaas: section %s: login module %s is not supported (only %s)", section, e.Module, DigestLoginModule)
		}
	}
	return users, true, nil
}

package tree

import (
	"crypto/sha1"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

// DigestID returns the id ZooKeeper's digest scheme derives from an auth
// packet's "user:password": "user:" + base64(sha1("user:password")). Without
// a colon the whole string serves as both user and password, as in ZooKeeper.
func DigestID(userPassword []byte) string {
	sum := sha1.Sum(userPassword)
	user := userPassword
	if i := strings.IndexByte(string(userPassword), ':'); i >= 0 {
		user = userPassword[:i]
	}
	return string(user) + ":" + base64.StdEncoding.EncodeToString(sum[:])
}

// DigestAuth returns the identities a session gains from a digest auth
// packet: the digest id, preceded by the super identity when that id equals
// superDigest (ZooKeeper's DigestAuthenticationProvider.superDigest, e.g.
// "super:base64..."; empty disables super). The frontend appends them to the
// session's identities and passes those with every command and read.
func DigestAuth(authData []byte, superDigest string) []zkproto.Id {
	id := DigestID(authData)
	if superDigest != "" && id == superDigest {
		return []zkproto.Id{{Scheme: SchemeSuper}, {Scheme: SchemeDigest, ID: id}}
	}
	return []zkproto.Id{{Scheme: SchemeDigest, ID: id}}
}

// IPID is the identity every connection has from its remote IPv4 address
// (ZooKeeper adds it when the connection is made), e.g. "127.0.0.1".
func IPID(addr string) zkproto.Id { return zkproto.Id{Scheme: SchemeIP, ID: addr} }

// validDigestID is DigestAuthenticationProvider.isValid: the id split at
// ':' (Java's String.split, which drops trailing empty parts) has 2 parts.
func validDigestID(id []byte) bool {
	if len(id) == 0 {
		return false // Java: "".split(":") is [""], one part
	}
	parts, kept := 0, 0 // parts seen; parts up to the last non-empty one
	start := 0
	for i := 0; i <= len(id); i++ {
		if i < len(id) && id[i] != ':' {
			continue
		}
		parts++
		if i > start {
			kept = parts
		}
		start = i + 1
	}
	return kept == 2
}

// ipv4 parses a dotted quad as Java's IPAuthenticationProvider does: exactly
// four parts, each an integer (Integer.parseInt: optional sign, decimal
// digits) in [0, 255].
func ipv4(s string) ([4]byte, bool) {
	var b [4]byte
	for i := 0; i < 4; i++ {
		part := s
		if i < 3 {
			j := strings.IndexByte(s, '.')
			if j < 0 {
				return b, false
			}
			part, s = s[:j], s[j+1:]
		} else if strings.IndexByte(s, '.') >= 0 {
			return b, false
		}
		v, err := strconv.Atoi(part)
		if err != nil || v < 0 || v > 255 {
			return b, false
		}
		b[i] = byte(v)
	}
	return b, true
}

// parseIPExpr parses an ip ACL id: an IPv4 address with an optional
// "/bits" prefix length in [0, 32].
func parseIPExpr(expr string) (addr [4]byte, bits int, ok bool) {
	a, rest, hasBits := strings.Cut(expr, "/")
	addr, ok = ipv4(a)
	if !ok {
		return addr, 0, false
	}
	bits = 32
	if hasBits {
		v, err := strconv.Atoi(rest)
		if err != nil || v < 0 || v > 32 {
			return addr, 0, false
		}
		bits = v
	}
	return addr, bits, true
}

func validIPExpr(expr string) bool {
	_, _, ok := parseIPExpr(expr)
	return ok
}

// ipMatches reports whether the address id lies in the ip ACL expression
// (IPAuthenticationProvider.matches). IPv6 never matches, as in ZooKeeper.
func ipMatches(id, expr string) bool {
	want, bits, ok := parseIPExpr(expr)
	if !ok {
		return false
	}
	got, ok := ipv4(id)
	if !ok {
		return false
	}
	for i := 0; i < 4; i++ {
		m := byte(0xff)
		switch {
		case bits >= 8*(i+1):
		case bits <= 8*i:
			m = 0
		default:
			m = ^byte(0xff >> (bits - 8*i))
		}
		if got[i]&m != want[i]&m {
			return false
		}
	}
	return true
}

// ZooKeeper keeps a connection's identities in a hash set (a
// ConcurrentHashMap), and both the expansion of an "auth" ACL and whoAmI
// list them in that set's iteration order: by bucket of the Java hash of the
// Id, then in order of addition. OrderIdentities reproduces it, so the tree
// and the frontend list identities exactly as ZooKeeper does.

// OrderIdentities sorts ids in place into ZooKeeper's iteration order of a
// connection's identities, given in order of addition (the ip id first). The
// order is exact for up to 12 identities, the set's size before it grows.
func OrderIdentities(ids []zkproto.Id) {
	buckets := tableSize(len(ids))
	slices.SortStableFunc(ids, func(a, b zkproto.Id) int {
		return int(idBucket(a, buckets)) - int(idBucket(b, buckets))
	})
}

// tableSize is the bucket count of a ConcurrentHashMap holding n entries,
// starting from the default 16 and doubling past three quarters full.
func tableSize(n int) int32 {
	size := int32(16)
	for int32(n) > size-size/4 {
		size *= 2
	}
	return size
}

// idBucket is the bucket of an Id in a table of the given size.
func idBucket(id zkproto.Id, size int32) int32 {
	h := 37*(37*17+javaHash(id.Scheme)) + javaHash(id.ID)
	h ^= int32(uint32(h) >> 16)
	return h & 0x7fffffff & (size - 1)
}

// javaHash is Java's String.hashCode: over the string's UTF-16 code units.
func javaHash(s string) int32 {
	var h int32
	for _, r := range s {
		if r >= 0x10000 {
			hi, lo := utf16.EncodeRune(r)
			h = 31*(31*h+hi) + lo
			continue
		}
		h = 31*h + r
	}
	return h
}

// forAuthenticated calls f for each of the requester's authenticated
// identities (digest ones, and x509 and sasl ones where the policy has
// their provider; ip and super are not), in ZooKeeper's order and without
// repeats.
func forAuthenticated(auth []zkproto.Id, policy WritePolicy, f func(*zkproto.Id)) {
	size := tableSize(len(auth))
	var buf [8]int
	idx := buf[:0]
	for i := range auth {
		if authenticated(auth[i].Scheme, policy) && !slices.ContainsFunc(auth[:i], func(x zkproto.Id) bool { return x == auth[i] }) {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		return int(idBucket(auth[a], size)) - int(idBucket(auth[b], size))
	})
	for _, i := range idx {
		f(&auth[i])
	}
}

// authenticated reports whether an identity of scheme is an authenticated
// one (AuthenticationProvider.isAuthenticated of its provider, if it has
// one).
func authenticated(scheme string, policy WritePolicy) bool {
	switch scheme {
	case SchemeDigest:
		return true
	case SchemeX509:
		return policy&PolicyX509 != 0
	case SchemeSASL:
		return policy&PolicySASL != 0
	}
	return false
}

// validKerberosName is SASLAuthenticationProvider.isValid: Hadoop's
// KerberosName accepts "service[/host]@REALM", or any name without "@".
func validKerberosName(id []byte) bool {
	s := string(id)
	at := strings.IndexByte(s, '@')
	if at < 0 {
		return true
	}
	principal, realm := s[:at], s[at+1:]
	if strings.ContainsAny(realm, "/@") {
		return false
	}
	service, host, hasHost := strings.Cut(principal, "/")
	return !strings.Contains(service, "@") && (!hasHost || !strings.ContainsAny(host, "/"))
}

// validX500Name approximates X509AuthenticationProvider.isValid (Java's
// X500Principal parser): a non-empty list of type=value attributes
// separated by "," or "+", with backslash escapes and quoted values.
func validX500Name(id []byte) bool {
	s := string(id)
	if strings.TrimSpace(s) == "" {
		return true // new X500Principal("") is the empty name
	}
	i := 0
	for {
		// type
		j := i
		for j < len(s) && s[j] != '=' && s[j] != ',' && s[j] != '+' {
			j++
		}
		if j >= len(s) || s[j] != '=' || strings.TrimSpace(s[i:j]) == "" {
			return false
		}
		i = j + 1
		// value
		if i < len(s) && s[i] == '"' {
			i++
			for i < len(s) && s[i] != '"' {
				if s[i] == '\\' {
					i++
				}
				i++
			}
			if i >= len(s) {
				return false
			}
			i++
		}
		for i < len(s) && s[i] != ',' && s[i] != '+' && s[i] != ';' {
			if s[i] == '\\' {
				i++
				if i >= len(s) {
					return false
				}
			}
			i++
		}
		if i >= len(s) {
			return true
		}
		i++ // separator
	}
}

package tree

// Paths follow ZooKeeper's rules (PathUtils.validatePath, applied by the
// server to the path decoded from UTF-8): a path starts with '/', has no
// empty component and no trailing '/' (except the root "/"), no component
// "." or "..", and no character that is NUL, a control character
// (U+0001-U+001F, U+007F-U+009F), a surrogate or private-use character
// (U+D800-U+F8FF) or one of U+FFF0-U+FFFF. Java decodes invalid UTF-8 to
// U+FFFD and characters beyond U+FFFF to surrogate pairs, both of which the
// rules forbid, so a path is valid only if it is valid UTF-8 without such
// characters.

// validPath reports whether p is a valid znode path.
func validPath[P byteString](p P) bool {
	n := len(p)
	if n == 0 || p[0] != '/' {
		return false
	}
	if n == 1 {
		return true
	}
	if p[n-1] == '/' {
		return false
	}
	for i := 1; i < n; {
		c := p[i]
		switch {
		case c == '/':
			if p[i-1] == '/' {
				return false // empty component
			}
		case c == '.' && p[i-1] == '/':
			// "." or ".." as a whole component
			if i+1 == n || p[i+1] == '/' {
				return false
			}
			if p[i+1] == '.' && (i+2 == n || p[i+2] == '/') {
				return false
			}
		case c < 0x20 || c == 0x7f:
			return false // NUL and control characters
		case c >= 0x80:
			size := validRune(p, i)
			if size == 0 {
				return false
			}
			i += size
			continue
		}
		i++
	}
	return true
}

// validRune checks the multi-byte UTF-8 sequence at p[i] and returns its
// length, or 0 if it is malformed or encodes a character paths may not hold.
// Only 2- and 3-byte sequences can be valid: 4-byte ones are characters
// beyond U+FFFF, which Java turns into forbidden surrogates.
func validRune[P byteString](p P, i int) int {
	c0 := p[i]
	cont := func(j int) (byte, bool) {
		if j >= len(p) || p[j]&0xc0 != 0x80 {
			return 0, false
		}
		return p[j] & 0x3f, true
	}
	switch {
	case c0&0xe0 == 0xc0:
		c1, ok := cont(i + 1)
		if !ok {
			return 0
		}
		r := rune(c0&0x1f)<<6 | rune(c1)
		if r <= 0x9f { // overlong (< 0x80), or a C1 control character
			return 0
		}
		return 2
	case c0&0xf0 == 0xe0:
		c1, ok1 := cont(i + 1)
		c2, ok2 := cont(i + 2)
		if !ok1 || !ok2 {
			return 0
		}
		r := rune(c0&0x0f)<<12 | rune(c1)<<6 | rune(c2)
		if r < 0x800 || (r >= 0xd800 && r <= 0xf8ff) || r >= 0xfff0 {
			return 0
		}
		return 3
	}
	return 0
}

// lastSlash returns the index of the last '/' in p, or -1.
func lastSlash[P byteString](p P) int {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return i
		}
	}
	return -1
}

// hasNUL reports whether p contains a NUL byte.
func hasNUL[P byteString](p P) bool {
	for i := 0; i < len(p); i++ {
		if p[i] == 0 {
			return true
		}
	}
	return false
}

// lookup returns the node at path p, or nil. Like ZooKeeper's table of
// paths, it finds a node only under its exact canonical path, with "" as an
// alias of the root: "/a/", "//a" or "a" find nothing.
func (t *Tree) lookup(p string) *node { return lookupIn(t.root, p) }

// lookupBytes is lookup for a path given as bytes; it does not allocate.
func (t *Tree) lookupBytes(p []byte) *node { return lookupIn(t.root, p) }

func lookupIn[P byteString](root *node, p P) *node {
	if len(p) == 0 || (len(p) == 1 && p[0] == '/') {
		return root
	}
	if p[0] != '/' {
		return nil
	}
	n := root
	start := 1
	for i := 1; i <= len(p); i++ {
		if i < len(p) && p[i] != '/' {
			continue
		}
		if i == start {
			return nil // empty component
		}
		n = childOf(n, p[start:i])
		if n == nil {
			return nil
		}
		start = i + 1
	}
	return n
}

// isSystemPath reports whether p is one of the nodes ZooKeeper creates itself
// and refuses to delete.
func isSystemPath[P byteString](p P) bool {
	return string(p) == "/" || string(p) == zookeeperPath || string(p) == quotaPath ||
		string(p) == configPath
}

// The system nodes every tree starts with.
const (
	zookeeperPath = "/zookeeper"
	quotaPath     = "/zookeeper/quota"
	configPath    = "/zookeeper/config"
)

package tree

import "testing"

func TestValidPath(t *testing.T) {
	tests := []struct {
		path string
		ok   bool
	}{
		{"/", true},
		{"/a", true},
		{"/a/b/c", true},
		{"/...", true},
		{"/.a", true},
		{"/a.", true},
		{"/a..b", true},
		{"/é", true},
		{"/\u00a0", true},
		{"/\ud7ff", true},
		{"/\uf900", true},
		{"/\uffef", true},
		{"", false},
		{"a", false},
		{"a/b", false},
		{"/a/", false},
		{"//", false},
		{"//a", false},
		{"/a//b", false},
		{"/.", false},
		{"/..", false},
		{"/a/./b", false},
		{"/a/../b", false},
		{"/a/.", false},
		{"/a\x00", false},
		{"/\x01", false},
		{"/\x1f", false},
		{"/\x7f", false},
		{"/\u0080", false},
		{"/\u009f", false},
		{"/\xed\xa0\x80", false}, // an encoded surrogate
		{"/\ue000", false},
		{"/\uf8ff", false},
		{"/\ufff0", false},
		{"/\uffff", false},
		{"/\U0001F600", false},
		{"/\xff", false},
		{"/\xc3", false},
		{"/\xc0\xaf", false}, // overlong '/'
		{"/\xe0\x80\xaf", false},
	}
	for _, tc := range tests {
		if got := validPath(tc.path); got != tc.ok {
			t.Errorf("validPath(%q) = %v, want %v", tc.path, got, tc.ok)
		}
		if got := validPath([]byte(tc.path)); got != tc.ok {
			t.Errorf("validPath([]byte(%q)) = %v, want %v", tc.path, got, tc.ok)
		}
	}
}

func TestLookupFindsOnlyCanonicalPaths(t *testing.T) {
	h := newHarness(t, Config{})
	sid := h.open()
	h.mustCreate(sid, "/a", nil, 0)
	h.mustCreate(sid, "/a/b", nil, 0)
	tests := []struct {
		path string
		name string // "" for not found; "/" for the root
	}{
		{"/", "/"},
		{"", "/"},
		{"/a", "a"},
		{"/a/b", "b"},
		{"/a/", ""},
		{"//a", ""},
		{"/a//b", ""},
		{"a", ""},
		{"/a/b/c", ""},
		{"/zookeeper/config", "config"},
	}
	for _, tc := range tests {
		n := h.tree.lookup(tc.path)
		got := ""
		switch {
		case n == h.tree.root:
			got = "/"
		case n != nil:
			got = n.name
		}
		if got != tc.name {
			t.Errorf("lookup(%q) found %q, want %q", tc.path, got, tc.name)
		}
	}
}

func TestAppendSequence(t *testing.T) {
	tests := []struct {
		v    int32
		want string
	}{
		{0, "0000000000"},
		{7, "0000000007"},
		{1234567890, "1234567890"},
		{2147483647, "2147483647"},
		{-1, "-000000001"},
		{-2147483648, "-2147483648"},
	}
	for _, tc := range tests {
		if got := string(appendSequence(nil, tc.v)); got != tc.want {
			t.Errorf("appendSequence(%d) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

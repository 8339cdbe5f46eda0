package tree

import (
	"slices"
	"testing"

	"github.com/vrkeeper/vrkeeper/zkproto"
)

func TestDigestID(t *testing.T) {
	tests := []struct{ in, want string }{
		// Values ZooKeeper's DigestAuthenticationProvider.generateDigest gives.
		{"super:secret", "super:lK75jTNcA+U9vtVEw5vB51mj/w4="},
		{"alice:pw", "alice:V55/p2T0OpjQ+low3NVAH4aLvm0="},
		{"bob:pw", "bob:ikIaKsbtGweaHnb/jKn7OHqbunM="},
		{"nocolon", "nocolon:" + DigestID([]byte("nocolon"))[len("nocolon:"):]},
	}
	for _, tc := range tests {
		if got := DigestID([]byte(tc.in)); got != tc.want {
			t.Errorf("DigestID(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestDigestAuth(t *testing.T) {
	super := "super:lK75jTNcA+U9vtVEw5vB51mj/w4="
	got := DigestAuth([]byte("super:secret"), super)
	want := []zkproto.Id{{Scheme: "super"}, {Scheme: "digest", ID: super}}
	if !slices.Equal(got, want) {
		t.Errorf("super: %v, want %v", got, want)
	}
	if got := DigestAuth([]byte("super:secret"), ""); len(got) != 1 || got[0].Scheme != "digest" {
		t.Errorf("super disabled: %v", got)
	}
	if got := DigestAuth([]byte("alice:pw"), super); len(got) != 1 {
		t.Errorf("alice: %v", got)
	}
}

func TestValidDigestID(t *testing.T) {
	tests := []struct {
		id string
		ok bool
	}{
		{"a:b", true},
		{":b", true},
		{"a:b:", true},
		{"a:b::", true},
		{"a", false},
		{"a:", false},
		{":", false},
		{"", false},
		{"a:b:c", false},
		{"a::b", false},
	}
	for _, tc := range tests {
		if got := validDigestID([]byte(tc.id)); got != tc.ok {
			t.Errorf("validDigestID(%q) = %v, want %v", tc.id, got, tc.ok)
		}
	}
}

func TestIPMatching(t *testing.T) {
	tests := []struct {
		id, expr string
		valid    bool // the expression is a valid ACL id
		match    bool
	}{
		{"127.0.0.1", "127.0.0.1", true, true},
		{"127.0.0.2", "127.0.0.1", true, false},
		{"127.1.2.3", "127.0.0.0/8", true, true},
		{"128.1.2.3", "127.0.0.0/8", true, false},
		{"10.1.2.3", "10.1.2.0/25", true, true},
		{"10.1.2.200", "10.1.2.0/25", true, false},
		{"1.2.3.4", "9.9.9.9/0", true, true},
		{"1.2.3.4", "1.2.3.4/32", true, true},
		{"1.2.3.4", "1.2.3.4/33", false, false},
		{"1.2.3.4", "1.2.3.4/-1", false, false},
		{"1.2.3.4", "1.2.3.4/", false, false},
		{"1.2.3.4", "1.2.3", false, false},
		{"1.2.3.4", "1.2.3.4.", false, false},
		{"1.2.3.4", "256.2.3.4", false, false},
		{"1.2.3.4", "+1.2.3.4", true, true},
		{"::1", "::1", false, false},
		{"0:0:0:0:0:0:0:1", "127.0.0.1", true, false},
	}
	for _, tc := range tests {
		if got := validIPExpr(tc.expr); got != tc.valid {
			t.Errorf("validIPExpr(%q) = %v, want %v", tc.expr, got, tc.valid)
		}
		if got := ipMatches(tc.id, tc.expr); got != tc.match {
			t.Errorf("ipMatches(%q, %q) = %v, want %v", tc.id, tc.expr, got, tc.match)
		}
	}
}

func TestCheckPerm(t *testing.T) {
	alice := zkproto.Id{Scheme: "digest", ID: DigestID([]byte("alice:pw"))}
	aliceACL := []zkproto.ACL{{Perms: zkproto.PermRead | zkproto.PermWrite, ID: alice}}
	tests := []struct {
		name string
		acl  []zkproto.ACL
		perm int32
		auth []zkproto.Id
		ok   bool
	}{
		{"empty ACL allows all", nil, zkproto.PermAdmin, nil, true},
		{"world anyone", openACL, zkproto.PermDelete, nil, true},
		{"world read only", readACL, zkproto.PermWrite, nil, false},
		{"digest match", aliceACL, zkproto.PermWrite, []zkproto.Id{alice}, true},
		{"digest wrong perm", aliceACL, zkproto.PermAdmin, []zkproto.Id{alice}, false},
		{"digest other user", aliceACL, zkproto.PermRead, []zkproto.Id{{Scheme: "digest", ID: "bob:x"}}, false},
		{"super", aliceACL, zkproto.PermAdmin, []zkproto.Id{{Scheme: "super"}}, true},
		{"ip", []zkproto.ACL{{Perms: 1, ID: zkproto.Id{Scheme: "ip", ID: "10.0.0.0/8"}}}, 1, []zkproto.Id{IPID("10.9.9.9")}, true},
		{"ip scheme needs ip id", []zkproto.ACL{{Perms: 1, ID: zkproto.Id{Scheme: "ip", ID: "10.0.0.0/8"}}}, 1, []zkproto.Id{{Scheme: "digest", ID: "10.9.9.9"}}, false},
		{"any bit of a mask", []zkproto.ACL{{Perms: zkproto.PermAdmin, ID: zkproto.Id{Scheme: "world", ID: "anyone"}}}, zkproto.PermRead | zkproto.PermAdmin, nil, true},
		{"world someone never matches", []zkproto.ACL{{Perms: 31, ID: zkproto.Id{Scheme: "world", ID: "someone"}}}, 1, nil, false},
	}
	for _, tc := range tests {
		if got := CheckPerm(tc.acl, tc.perm, tc.auth); got != tc.ok {
			t.Errorf("%s: CheckPerm = %v, want %v", tc.name, got, tc.ok)
		}
	}
}

func TestOrderIdentities(t *testing.T) {
	// The order ZooKeeper's golden "acl" script showed: alice was added
	// before bob but bob's Id hashes into an earlier bucket.
	alice := zkproto.Id{Scheme: "digest", ID: DigestID([]byte("alice:pw"))}
	bob := zkproto.Id{Scheme: "digest", ID: DigestID([]byte("bob:pw"))}
	ids := []zkproto.Id{IPID("127.0.0.1"), alice, bob}
	OrderIdentities(ids)
	ia, ib := slices.Index(ids, alice), slices.Index(ids, bob)
	if ib > ia {
		t.Errorf("order %v: bob should come before alice", ids)
	}
	if got := javaHash("hello"); got != 99162322 { // "hello".hashCode() in Java
		t.Errorf("javaHash(hello) = %d", got)
	}
	if got := javaHash("\U0001F600"); got != 1772899 { // "😀".hashCode() in Java
		t.Errorf("javaHash(emoji) = %d", got)
	}
}

func TestMaskDigest(t *testing.T) {
	tests := []struct{ in, want string }{
		{"alice:abc=", "alice:x"},
		{"nocolon", "nocolon"},
		{"a:b:c", "a:x"},
		{"a:b\nc:d", "a:x\nc:x"},
		{"a:b\nc", "a:x\nc"},
		{":", ":x"},
	}
	for _, tc := range tests {
		if got := maskDigest(tc.in); got != tc.want {
			t.Errorf("maskDigest(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

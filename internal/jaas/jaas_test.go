package jaas

import (
	"reflect"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	text := `
// the server's users
Server {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       user_super="adminsecret"
       user_bob="bob;secret" /* a ; inside quotes */
       debug=true;
};
Client {
       org.apache.zookeeper.server.auth.DigestLoginModule required
       username="bob"
       password="bob;secret";
};
Kerb { com.sun.security.auth.module.Krb5LoginModule required useKeyTab=true keyTab="/k" principal="zk/h@R"; };
`
	cfg, err := Parse(text)
	if err != nil {
		t.Fatal(err)
	}
	users, found, err := cfg.DigestUsers("Server")
	if err != nil || !found || !reflect.DeepEqual(users, map[string]string{"super": "adminsecret", "bob": "bob;secret"}) {
		t.Fatalf("users %v found %v err %v", users, found, err)
	}
	if cfg["Client"][0].Options["username"] != "bob" {
		t.Fatalf("client section %+v", cfg["Client"])
	}
	if _, found, _ := cfg.DigestUsers("Nope"); found {
		t.Fatal("missing section found")
	}
	if _, _, err := cfg.DigestUsers("Kerb"); err == nil || !strings.Contains(err.Error(), "GSSAPI") {
		t.Fatalf("kerberos: %v", err)
	}
	for _, bad := range []string{"Server {", "Server { m required a=\"b\" }; ", "Server { m maybe; };", "S { m required a; };", "/* open", `S { m required a="b; };`} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

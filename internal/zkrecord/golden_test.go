package zkrecord

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
)

func TestWriteThenParseKeepsEveryEntry(t *testing.T) {
	in := []Entry{
		{Comment: "zkCli: create /a"},
		{Frame: true, Conn: 1, Dir: FromClient, Label: "connect", Payload: []byte{0, 0, 0, 0, 0x2c}},
		{Frame: true, Conn: 12, Dir: FromServer, Label: "create#1:NODEEXISTS", Payload: []byte{0xff, 0x92}},
		{Frame: true, Conn: 2, Dir: FromClient, Label: "ping#-2", Payload: nil},
		{Comment: "> Created /a"},
	}
	var buf bytes.Buffer
	if err := Write(&buf, in); err != nil {
		t.Fatal(err)
	}
	want := "# zkCli: create /a\nC1 connect 000000002c\nS12 create#1:NODEEXISTS ff92\nC2 ping#-2 \n# > Created /a\n"
	if buf.String() != want {
		t.Errorf("written:\n%q\nwant:\n%q", buf.String(), want)
	}
	out, err := Parse(&buf)
	if err != nil {
		t.Fatal(err)
	}
	for i := range out {
		if out[i].Line != i+1 {
			t.Errorf("entry %d has line %d", i, out[i].Line)
		}
		out[i].Line = 0
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("parsed %+v\nwant %+v", out, in)
	}
}

func TestParseRejectsMalformedFrames(t *testing.T) {
	tests := []struct{ name, text, wantErr string }{
		{"unknown direction", "X1 connect 00\n", "direction"},
		{"missing connection number", "C connect 00\n", "connection number"},
		{"connection zero", "S0 connect 00\n", "connection number"},
		{"odd hex", "C1 connect 0\n", "payload"},
		{"not hex", "C1 connect zz\n", "payload"},
		{"too many fields", "C1 connect 00 00\n", "fields"},
		{"label only", "C1\n", "fields"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader("# fine\n\n" + tc.text))
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "line 3") {
				t.Errorf("Parse error = %v, want one about %q on line 3", err, tc.wantErr)
			}
		})
	}
}

package tlsconf

import (
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"strings"
	"unicode/utf16"
)

// SubjectName is a certificate's subject as ZooKeeper's x509
// authentication provider names a client: Java's
// X500Principal.getName(), the RFC 2253 form (the last RDN first, CN, C,
// L, ST, O, OU, STREET, DC and UID by keyword, any other attribute as its
// OID and the hex of its DER value), e.g. "CN=app,OU=ops,O=Example".
func SubjectName(cert *x509.Certificate) string {
	var rdns []atvSET
	if rest, err := asn1.Unmarshal(cert.RawSubject, &rdns); err != nil || len(rest) > 0 {
		return cert.Subject.String()
	}
	var b strings.Builder
	for i := len(rdns) - 1; i >= 0; i-- {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		for j, a := range rdns[i] {
			if j > 0 {
				b.WriteByte('+')
			}
			writeATV(&b, a)
		}
	}
	return b.String()
}

// atv is one attribute of a name, its value kept raw.
type atv struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue
}

// atvSET is one RDN: encoding/asn1 reads a slice type named ...SET as a
// SET OF.
type atvSET []atv

// rfc2253Keywords are the attribute names Java writes in RFC 2253 form.
var rfc2253Keywords = map[string]string{
	"2.5.4.3":                    "CN",
	"2.5.4.6":                    "C",
	"2.5.4.7":                    "L",
	"2.5.4.8":                    "ST",
	"2.5.4.10":                   "O",
	"2.5.4.11":                   "OU",
	"2.5.4.9":                    "STREET",
	"0.9.2342.19200300.100.1.25": "DC",
	"0.9.2342.19200300.100.1.1":  "UID",
}

func writeATV(b *strings.Builder, a atv) {
	kw, ok := rfc2253Keywords[a.Type.String()]
	s, isString := stringValue(a.Value)
	if !ok || !isString {
		b.WriteString(a.Type.String())
		b.WriteString("=#")
		b.WriteString(hex.EncodeToString(a.Value.FullBytes))
		return
	}
	b.WriteString(kw)
	b.WriteByte('=')
	for i, r := range s {
		switch {
		case strings.ContainsRune(",+\"\\<>;", r),
			i == 0 && (r == '#' || r == ' '),
			r == ' ' && i == len(s)-1:
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
}

// stringValue decodes a directory string.
func stringValue(v asn1.RawValue) (string, bool) {
	if v.Class != asn1.ClassUniversal {
		return "", false
	}
	switch v.Tag {
	case asn1.TagUTF8String, asn1.TagPrintableString, asn1.TagIA5String, asn1.TagNumericString:
		return string(v.Bytes), true
	case asn1.TagT61String:
		r := make([]rune, len(v.Bytes))
		for i, c := range v.Bytes {
			r[i] = rune(c)
		}
		return string(r), true
	case asn1.TagBMPString:
		if len(v.Bytes)%2 != 0 {
			return "", false
		}
		u := make([]uint16, len(v.Bytes)/2)
		for i := range u {
			u[i] = uint16(v.Bytes[2*i])<<8 | uint16(v.Bytes[2*i+1])
		}
		return string(utf16.Decode(u)), true
	}
	return "", false
}

package config

import (
	"crypto/tls"
	"testing"
)

func TestParseAddress(t *testing.T) {
	good := []struct {
		in   string
		want Address
	}{
		{"127.0.0.1:443", Address{NetTCP, "127.0.0.1:443"}},
		{"[::1]:443", Address{NetTCP, "[::1]:443"}},
		{"[fe80::1%eth0]:443", Address{NetTCP, "[fe80::1%eth0]:443"}},
		{":0", Address{NetTCP, ":0"}},
		{"db.internal:065535", Address{NetTCP, "db.internal:65535"}},
		{"unix:/run/a.sock", Address{NetUnix, "/run/a.sock"}},
		{"unix:@abstract", Address{NetUnix, "@abstract"}},
	}
	if s := (Address{NetUnix, "/a"}).String(); s != "unix:/a" {
		t.Errorf("String = %q", s)
	}
	for _, tc := range good {
		got, err := ParseAddress(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseAddress(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	bad := map[string]string{
		"unix:":          `invalid address "unix:": empty socket path`,
		"::1":            `invalid address "::1": an IPv6 address needs brackets and a port, like "[::1]:443"`,
		"host":           `invalid address "host": want host:port or unix:/path`,
		"host:http":      `invalid address "host:http": port must be a number from 0 to 65535`,
		"host:-1":        `invalid address "host:-1": port must be a number from 0 to 65535`,
		"host:65536":     `invalid address "host:65536": port must be a number from 0 to 65535`,
		"host:+1":        `invalid address "host:+1": port must be a number from 0 to 65535`,
		"[1.2.3.4]:1":    `invalid address "[1.2.3.4]:1": brackets are only for IPv6 addresses`,
		"[db]:1":         `invalid address "[db]:1": brackets are only for IPv6 addresses`,
		"bad host!:1":    `invalid address "bad host!:1": invalid host name "bad host!"`,
		"":               `invalid address "": want host:port or unix:/path`,
		"tcp://h:1":      `invalid address "tcp://h:1": want host:port or unix:/path`,
		"fe80::1%eth0:1": `invalid address "fe80::1%eth0:1": an IPv6 address needs brackets and a port, like "[::1]:443"`,
	}
	for in, want := range bad {
		if _, err := ParseAddress(in); err == nil || err.Error() != want {
			t.Errorf("ParseAddress(%q) error = %v, want %s", in, err, want)
		}
	}
}

func TestOverlaps(t *testing.T) {
	cases := []struct {
		a, b string
		want bool
	}{
		{"0.0.0.0:80", "127.0.0.1:80", true},
		{"0.0.0.0:80", "0.0.0.0:80", true},
		{"[::]:80", "[::1]:80", true},
		{"[::]:80", "0.0.0.0:80", true}, // Go listens dual-stack on [::]
		{":80", "10.0.0.1:80", true},
		{"127.0.0.1:80", "[::ffff:127.0.0.1]:80", true},
		{"localhost:80", "127.0.0.1:80", true},
		{"localhost:80", "0.0.0.0:80", true},
		{"DB:80", "db:80", true},
		{"unix:/run/a.sock", "unix:/run//a.sock", true},
		{"0.0.0.0:80", "[::1]:80", false},
		{"127.0.0.1:80", "127.0.0.2:80", false},
		{"127.0.0.1:80", "127.0.0.1:81", false},
		{"127.0.0.1:0", "127.0.0.1:0", false}, // each gets a fresh port
		{"db:80", "127.0.0.1:80", false},      // unknown until resolved
		{"db:80", "0.0.0.0:80", false},
		{"unix:/run/a.sock", "unix:/run/b.sock", false},
		{"unix:/80", ":80", false},
	}
	for _, tc := range cases {
		a, err1 := ParseAddress(tc.a)
		b, err2 := ParseAddress(tc.b)
		if err1 != nil || err2 != nil {
			t.Fatalf("parse %q %q: %v %v", tc.a, tc.b, err1, err2)
		}
		if got := overlaps(a, b); got != tc.want || overlaps(b, a) != tc.want {
			t.Errorf("overlaps(%q, %q) = %v, want %v (both ways)", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestTLSNames(t *testing.T) {
	if id, ok := CipherSuiteID("tls_ecdhe_ecdsa_with_aes_128_gcm_sha256"); !ok || id != tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 {
		t.Errorf("CipherSuiteID = %v %v", id, ok)
	}
	for _, name := range []string{"TLS_AES_128_GCM_SHA256", "TLS_RSA_WITH_RC4_128_SHA", "nope"} {
		if _, ok := CipherSuiteID(name); ok {
			t.Errorf("CipherSuiteID(%q) found", name)
		}
	}
	curves := map[string]tls.CurveID{"X25519": tls.X25519, "x25519mlkem768": tls.X25519MLKEM768,
		"P-256": tls.CurveP256, "secp256r1": tls.CurveP256, "SecP384r1MLKEM1024": tls.SecP384r1MLKEM1024, "P-384": tls.CurveP384, "P-521": tls.CurveP521}
	for name, want := range curves {
		if got, ok := CurveID(name); !ok || got != want {
			t.Errorf("CurveID(%q) = %v %v, want %v", name, got, ok, want)
		}
	}
	if v, ok := TLSVersion("1.3"); !ok || v != tls.VersionTLS13 {
		t.Errorf("TLSVersion(1.3) = %v %v", v, ok)
	}
	if _, ok := TLSVersion("1.1"); ok {
		t.Errorf("TLSVersion(1.1) accepted")
	}
}

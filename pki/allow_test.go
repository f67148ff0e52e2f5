package pki

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/internal/pkitest"
)

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func leafOf(t *testing.T, spec pkitest.LeafSpec) *x509.Certificate {
	t.Helper()
	a, err := pkitest.NewAuthority("allow-test CA")
	if err != nil {
		t.Fatal(err)
	}
	c, err := a.Issue(spec)
	if err != nil {
		t.Fatal(err)
	}
	return c.Leaf
}

func allowTunnel(a config.Allow) *config.Tunnel {
	return &config.Tunnel{Name: "redis", Pos: config.Pos{File: "x.hcl", Line: 1, Column: 1}, Allow: a,
		Fields: map[string]config.Pos{"allow.dns": {File: "x.hcl", Line: 4, Column: 5}, "allow.uri": {File: "x.hcl", Line: 5, Column: 5}}}
}

func TestAllowPatterns(t *testing.T) {
	web := leafOf(t, pkitest.LeafSpec{CommonName: "web-1", OrganizationalUnit: []string{"ops", "db"},
		DNSNames: []string{"web-1.eu.Example.com."}})
	node := leafOf(t, pkitest.LeafSpec{CommonName: "n1", URIs: []*url.URL{mustURL(t, "spiffe://prod/node/n1"),
		mustURL(t, "spiffe://prod/ns/a/sa/b")}})
	bare := leafOf(t, pkitest.LeafSpec{CommonName: "bare"})
	tests := []struct {
		name  string
		allow config.Allow
		leaf  *x509.Certificate
		ok    bool
	}{
		{"cn exact", config.Allow{CN: []string{"web-1"}}, web, true},
		{"cn other", config.Allow{CN: []string{"web-2"}}, web, false},
		{"cn is case-sensitive", config.Allow{CN: []string{"WEB-1"}}, web, false},
		{"cn is not a pattern", config.Allow{CN: []string{"web-*"}}, web, false},
		{"ou any of the cert's", config.Allow{OU: []string{"db"}}, web, true},
		{"ou other", config.Allow{OU: []string{"dev"}}, web, false},
		{"dns exact, case and dot ignored", config.Allow{DNS: []string{"WEB-1.eu.example.com"}}, web, true},
		{"dns * one label", config.Allow{DNS: []string{"*.eu.example.com"}}, web, true},
		{"dns * not two labels", config.Allow{DNS: []string{"*.example.com"}}, web, false},
		{"dns * in the middle", config.Allow{DNS: []string{"web-1.*.example.com"}}, web, true},
		{"dns ** two labels", config.Allow{DNS: []string{"**.example.com"}}, web, true},
		{"dns ** one label", config.Allow{DNS: []string{"**.eu.example.com"}}, web, true},
		{"dns ** not zero labels", config.Allow{DNS: []string{"**.web-1.eu.example.com"}}, web, false},
		{"dns other domain", config.Allow{DNS: []string{"**.example.org"}}, web, false},
		{"dns suffix is not a label", config.Allow{DNS: []string{"*.ample.com"}}, web, false},
		{"uri exact", config.Allow{URI: []string{"spiffe://prod/node/n1"}}, node, true},
		{"uri * last segment", config.Allow{URI: []string{"spiffe://prod/node/*"}}, node, true},
		{"uri * trust domain", config.Allow{URI: []string{"spiffe://*/node/n1"}}, node, true},
		{"uri * not two segments", config.Allow{URI: []string{"spiffe://prod/*"}}, node, false},
		{"uri ** many segments", config.Allow{URI: []string{"spiffe://prod/**"}}, node, true},
		{"uri ** in the middle", config.Allow{URI: []string{"spiffe://prod/**/sa/b"}}, node, true},
		{"uri ** not zero segments", config.Allow{URI: []string{"spiffe://prod/node/n1/**"}}, node, false},
		{"uri other trust domain", config.Allow{URI: []string{"spiffe://staging/**"}}, node, false},
		{"uri scheme is literal", config.Allow{URI: []string{"https://prod/node/n1"}}, node, false},
		{"uri * is not empty", config.Allow{URI: []string{"spiffe:/*/prod/node/n1"}}, node, false},
		{"lists are OR'd", config.Allow{CN: []string{"nope"}, URI: []string{"spiffe://prod/node/*"}}, node, true},
		{"no names at all", config.Allow{DNS: []string{"**"}, URI: []string{"**"}}, bare, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a, err := compileAllow(allowTunnel(tc.allow))
			if err != nil {
				t.Fatal(err)
			}
			err = a.check(tc.leaf, []*x509.Certificate{tc.leaf})
			if tc.ok && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !tc.ok {
				var ve *tls.CertificateVerificationError
				if err == nil {
					t.Fatal("accepted")
				}
				if !errors.As(err, &ve) || !strings.Contains(err.Error(), "is not allowed by allow { }") {
					t.Fatalf("error %v (%T), want a CertificateVerificationError saying not allowed", err, err)
				}
				if !strings.Contains(err.Error(), `CN="`+tc.leaf.Subject.CommonName+`"`) {
					t.Errorf("error %q does not name the peer", err)
				}
			}
		})
	}
}

func TestAllowRefusalNamesThePeer(t *testing.T) {
	leaf := leafOf(t, pkitest.LeafSpec{CommonName: "intruder", OrganizationalUnit: []string{"x"},
		DNSNames: []string{"evil.example"}, URIs: []*url.URL{mustURL(t, "spiffe://other/node/e")}})
	a, _ := compileAllow(allowTunnel(config.Allow{CN: []string{"friend"}}))
	err := a.check(leaf, []*x509.Certificate{leaf})
	want := `tls: failed to verify certificate: peer CN="intruder" OU=["x"] DNS=["evil.example"] ` +
		`URI=["spiffe://other/node/e"] is not allowed by allow { }`
	if err == nil || err.Error() != want {
		t.Fatalf("error:\n got %v\nwant %s", err, want)
	}
	if _, err := (&verification{allow: a}).peer(tls.ConnectionState{}); err == nil || !strings.Contains(err.Error(), "no certificate") {
		t.Errorf("no certificate: %v", err)
	}
}

func TestAllowBadPatterns(t *testing.T) {
	for _, tc := range []struct {
		allow config.Allow
		want  string
	}{
		{config.Allow{DNS: []string{"web-*.example.com"}}, `x.hcl:4:5: tunnel "redis": allow.dns: pattern "web-*.example.com": segment "web-*": a wildcard must be a whole segment`},
		{config.Allow{URI: []string{"spiffe://prod/***"}}, `x.hcl:5:5: tunnel "redis": allow.uri: pattern "spiffe://prod/***": segment "***"`},
	} {
		_, err := compileAllow(allowTunnel(tc.allow))
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("error:\n got %v\nwant prefix %s", err, tc.want)
		}
	}
	if a, err := compileAllow(allowTunnel(config.Allow{})); a != nil || err != nil {
		t.Errorf("empty allow: %v, %v", a, err)
	}
}

// A hostile peer picks the value; a pattern of many ** must stay cheap.
func TestMatchSegmentsIsPolynomial(t *testing.T) {
	pat := strings.Split(strings.Repeat("**/", 20)+"x", "/")
	val := strings.Split(strings.Repeat("a/", 2000)+"b", "/")
	if matchSegments(pat, val) {
		t.Fatal("matched")
	}
}

// Passphrase tunnels narrow the cluster's nodes by name: the node cert
// carries CN = node, DNS <node>.<cluster>.passtunnel.internal and URI
// spiffe://<cluster>/node/<node>.
func TestAllowPassphraseNodes(t *testing.T) {
	srvM := newTestManager(Options{NodeName: "db-1"})
	cliM := newTestManager(Options{NodeName: "app-1"})
	for _, tc := range []struct {
		name        string
		srv, cli    config.Allow
		ok          bool
		refusedPeer string
	}{
		{"server allows the client's URI", config.Allow{URI: []string{"spiffe://test/node/*"}}, config.Allow{}, true, ""},
		{"server allows the client's DNS", config.Allow{DNS: []string{"*.test.passtunnel.internal"}}, config.Allow{}, true, ""},
		{"server refuses the client", config.Allow{CN: []string{"app-2"}}, config.Allow{}, false, `CN="app-1"`},
		{"client allows the server", config.Allow{}, config.Allow{CN: []string{"db-1"}}, true, ""},
		{"client refuses the server", config.Allow{}, config.Allow{URI: []string{"spiffe://test/node/db-2"}}, false, `CN="db-1"`},
		{"by cluster OU", config.Allow{OU: []string{"test"}}, config.Allow{OU: []string{"test"}}, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, ct := ptunnel(config.ModeServer, pass1), ptunnel(config.ModeClient, pass1)
			st.Allow, ct.Allow = tc.srv, tc.cli
			r := handshake(t, serverConfig(t, srvM, st), clientConfig(t, cliM, ct))
			if r.ok() != tc.ok {
				t.Fatalf("ok = %v, want %v (server: %v, client: %v)", r.ok(), tc.ok, r.serverErr, r.clientErr)
			}
			if !tc.ok {
				refuser := r.serverErr
				if !tc.cli.Empty() {
					refuser = r.clientErr
				}
				if refuser == nil || !strings.Contains(refuser.Error(), tc.refusedPeer) {
					t.Errorf("refusal %v does not name %s", refuser, tc.refusedPeer)
				}
			}
		})
	}
}

package migrate

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// identity maps cert and key; a server without cert used stunnel's
// compiled-in default certificate.
func (s *svc) identity() {
	cert, hasCert := s.one("cert")
	if hasCert {
		s.tls.set("cert", quote(cert.Value))
	}
	if o, ok := s.one("key"); ok {
		s.tls.set("key", quote(o.Value))
	}
	if !hasCert && !s.client {
		s.tls.set("self_signed", "true")
		s.noteAt(s.sec.File, s.sec.Line, "cert", false, "a server service without cert used stunnel's built-in "+
			"default certificate; the tunnel makes and keeps a self-signed one instead (clients pin its fingerprint): "+
			"set tls.cert and tls.key to keep the old identity")
	}
}

// verifyWant is what stunnel's verify options asked for.
type verifyWant struct {
	chain, peer bool // verifyChain, verifyPeer (verify 2 / 3 / 4)
	optional    bool // a missing peer certificate is accepted (verify 1, requireCert = no)
}

// wanted reads verify (0-4) and stunnel 5's verifyChain, verifyPeer and
// requireCert into one verifyWant.
func (s *svc) wanted() verifyWant {
	var w verifyWant
	if o, ok := s.one("verify"); ok {
		switch n, err := strconv.Atoi(o.Value); {
		case err != nil || n < 0 || n > 4:
			s.note(o, true, "invalid level %q (want 0 to 4): no verification carried; set it by hand", o.Value)
		case n == 1:
			w = verifyWant{chain: true, optional: true}
		case n == 2:
			w.chain = true
		case n == 3:
			w = verifyWant{chain: true, peer: true}
		case n == 4:
			w.peer = true
		}
	}
	if o, ok := s.one("verifychain"); ok {
		w.chain = yes(o.Value)
	}
	if o, ok := s.one("verifypeer"); ok {
		w.peer = yes(o.Value)
	}
	if o, ok := s.one("requirecert"); ok {
		w.optional = !yes(o.Value)
		if !w.chain && !w.peer {
			s.note(o, false, "not carried: it only qualifies verifyChain or verifyPeer, and neither is set")
		}
	}
	return w
}

// verification maps how the peer is checked; see docs/migration.md.
func (s *svc) verification() {
	w := s.wanted()
	ca := s.caFile(w)
	s.revocation(w)
	if w.peer {
		s.pins()
	}
	if s.client {
		s.clientVerify(w, ca)
	} else {
		s.serverVerify(w, ca)
	}
}

// caFile carries CAfile (or, for CApath, names a file to make) when the
// chain is verified; it returns the file.
func (s *svc) caFile(w verifyWant) string {
	cafile, hasFile := s.one("cafile")
	capath, hasPath := s.one("capath")
	if !w.chain {
		return ""
	}
	if hasFile {
		if hasPath {
			s.note(capath, true, "not carried beside CAfile: append the certificates of %s to %s", capath.Value, cafile.Value)
		}
		s.tls.set("ca", quote(cafile.Value))
		return cafile.Value
	}
	if hasPath && systemStore[filepath.Clean(capath.Value)] && s.client {
		s.tls.set("system_roots", "true")
		s.note(capath, false, "the system's certificate store: carried as system_roots = true")
		return capath.Value
	}
	if hasPath {
		bundle := filepath.Join(capath.Value, "passtunnel-ca.pem")
		s.tls.set("ca", quote(bundle))
		s.note(capath, false, "not carried as a directory: tls.ca is one file. Make it: cat %s/*.pem > %s "+
			"(the tunnel refuses to start until it exists)", capath.Value, bundle)
		return bundle
	}
	return ""
}

// systemStore holds the usual CApath of the OS's trust store.
var systemStore = map[string]bool{"/etc/ssl/certs": true, "/etc/pki/tls/certs": true, "/etc/pki/ca-trust/extracted/pem": true}

// revocation maps CRLfile to tls.crl; CRLpath and OCSP are reported.
func (s *svc) revocation(w verifyWant) {
	for _, o := range s.all("crlfile") {
		if w.chain || w.peer {
			s.tls.appendList("crl", o.Value)
		} else {
			s.note(o, false, "not carried: the peer is not verified (verify), so stunnel never used it")
		}
	}
	if o, ok := s.one("crlpath"); ok {
		s.note(o, true, "not carried: tls.crl takes files, not a hashed directory: list the CRL files of %s in tls.crl", o.Value)
	}
}

// pins carries verifyPeer (verify 3/4): the peer's certificate must be one
// of those in CAfile, which becomes tls.pin by fingerprint.
func (s *svc) pins() {
	o, ok := s.one("cafile")
	if !ok {
		s.noteAt(s.sec.File, s.sec.Line, "verifyPeer", true, "not carried: no CAfile holds the peer certificates; "+
			"set tls.pin to the output of `passtunnel pki fingerprint PEER.crt`")
		return
	}
	fps, err := fingerprints(o.Value)
	if err != nil || len(fps) == 0 {
		s.noteAt(o.File, o.Line, "verifyPeer", true, "(verify 3/4) not carried: cannot read the peer certificates of CAfile (%v); "+
			"set tls.pin to the output of `passtunnel pki fingerprint PEER.crt`", orNone(err))
		return
	}
	s.tls.set("pin", list(fps...))
	s.noteAt(o.File, o.Line, "verifyPeer", false, "(verify 3/4): the %d certificate(s) of %s are pinned by fingerprint; "+
		"when a peer's certificate changes, update tls.pin", len(fps), o.Value)
}

func orNone(err error) error {
	if err == nil {
		return fmt.Errorf("no certificate in it")
	}
	return err
}

// fingerprints returns the SHA-256 fingerprints of the PEM certificates
// of path, as tls.pin takes them.
func fingerprints(path string) ([]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var fps []string
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return fps, nil
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		sum := sha256.Sum256(b.Bytes)
		hex := make([]string, len(sum))
		for i, c := range sum {
			hex[i] = fmt.Sprintf("%02X", c)
		}
		fps = append(fps, "SHA256:"+strings.Join(hex, ":"))
	}
}

package pki

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"

	"software.sslmate.com/src/go-pkcs12"
)

// parsePKCS12 reads the leaf, its key and the chain from a PKCS#12 file.
// The CA certificates inside are the chain presented to peers, never trust
// anchors: whom a tunnel trusts is tls.ca alone.
func parsePKCS12(data []byte, file string, pass []byte) (tls.Certificate, error) {
	if err := pkcs12Work(data); err != nil {
		return tls.Certificate{}, newFileError(rolePKCS12, file, err)
	}
	key, leaf, cas, err := pkcs12.DecodeChain(data, string(pass))
	if err != nil {
		return tls.Certificate{}, newFileError(rolePKCS12, file, pkcs12Error(err, pass))
	}
	signer, err := signerOf(key)
	if err != nil {
		return tls.Certificate{}, newFileError(rolePKCS12, file, err)
	}
	certs := append([]*x509.Certificate{leaf}, orderChain(leaf, cas)...)
	if err := matchKey(certs, signer, file, true); err != nil {
		return tls.Certificate{}, newFileError(rolePKCS12, file, err)
	}
	return chainCertificate(signer, certs), nil
}

// pkcs12Error says what to do about a failed decode.
func pkcs12Error(err error, pass []byte) error {
	switch {
	case errors.Is(err, pkcs12.ErrIncorrectPassword) && len(pass) == 0:
		return errors.New("the PKCS#12 file is protected by a password: set tls.key_passphrase = file(\"...\") or env(\"...\")")
	case errors.Is(err, pkcs12.ErrIncorrectPassword):
		return errors.New("wrong key_passphrase: the PKCS#12 file does not open with it")
	}
	return fmt.Errorf("not a readable PKCS#12 file (%w); a PEM or DER certificate goes in tls.cert/tls.key, "+
		"and openssl pkcs12 -export -in cert.pem -inkey key.pem -out node.p12 makes one", err)
}

// orderChain puts the CA certificates of a PKCS#12 file in chain order from
// leaf's issuer up: the file's bag order is arbitrary. Certificates not on
// that path follow, in file order.
func orderChain(leaf *x509.Certificate, cas []*x509.Certificate) []*x509.Certificate {
	rest := append([]*x509.Certificate(nil), cas...)
	var out []*x509.Certificate
	for cur := leaf; !bytes.Equal(cur.RawIssuer, cur.RawSubject); {
		i := issuerIndex(cur, rest)
		if i < 0 {
			break
		}
		cur = rest[i]
		out = append(out, cur)
		rest = append(rest[:i], rest[i+1:]...)
	}
	return append(out, rest...)
}

func issuerIndex(c *x509.Certificate, cands []*x509.Certificate) int {
	for i, p := range cands {
		if bytes.Equal(c.RawIssuer, p.RawSubject) && c.CheckSignatureFrom(p) == nil {
			return i
		}
	}
	return -1
}

// looksLikePKCS12 reports whether data decodes as PKCS#12 (with a
// password or without), to point a .p12 given as tls.cert to tls.pkcs12.
func looksLikePKCS12(data []byte) bool {
	if pkcs12Work(data) != nil {
		return false // too costly to find out; this only picks a hint
	}
	_, _, _, err := pkcs12.DecodeChain(data, "")
	return err == nil || errors.Is(err, pkcs12.ErrIncorrectPassword)
}

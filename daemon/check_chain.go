package daemon

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"

	"github.com/passtunnel/passtunnel/config"
	"github.com/passtunnel/passtunnel/pki"
)

// rootsFunc gives the roots a server certificate is checked against; nil
// means the system's (tests give their own).
type rootsFunc func() (*x509.CertPool, error)

// chainWarning is the warning, or "", for a server tunnel whose
// certificate file (tls.cert or tls.pkcs12) does not chain to a known
// root: the system roots, with the intermediates the file holds. A client
// that trusts only the system roots refuses such a certificate; for a
// private CA that is expected, and the warning says what such clients
// need. Identities that never chain to a public root by design (passphrase,
// self-signed, SPIFFE) and ACME ones (the CA's chain) are not checked.
func chainWarning(t *config.Tunnel, e *pki.Endpoint, roots rootsFunc) string {
	c := t.TLS
	if t.Mode != config.ModeServer || c == nil || e == nil || e.Config == nil ||
		t.Passphrase.IsSet() || c.SelfSigned || t.ACME != nil || t.SPIFFE != nil ||
		(c.Cert == "" && c.PKCS12 == "") {
		return ""
	}
	field, file := "tls.cert", c.Cert
	if file == "" {
		field, file = "tls.pkcs12", c.PKCS12
	}
	err := verifyToRoots(e.Config, roots)
	if err == nil {
		return ""
	}
	return fmt.Sprintf("%s %s does not chain to a system root (%v): clients that trust only the system roots "+
		"refuse it; expected for a private CA, whose clients must trust that CA (their tls.ca)", field, file, err)
}

// verifyToRoots verifies the certificate cfg presents, with the
// intermediates it sends along, against roots.
func verifyToRoots(cfg *tls.Config, roots rootsFunc) error {
	cert, err := presented(cfg)
	if err != nil || cert == nil || len(cert.Certificate) == 0 {
		return fmt.Errorf("no certificate to verify: %v", err)
	}
	chain := make([]*x509.Certificate, 0, len(cert.Certificate))
	for _, der := range cert.Certificate {
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return fmt.Errorf("parse the certificate: %w", err)
		}
		chain = append(chain, c)
	}
	if roots == nil {
		roots = x509.SystemCertPool
	}
	pool, err := roots()
	if err != nil {
		return fmt.Errorf("no system roots: %w", err)
	}
	inter := x509.NewCertPool()
	for _, c := range chain[1:] {
		inter.AddCert(c)
	}
	_, err = chain[0].Verify(x509.VerifyOptions{
		Roots: pool, Intermediates: inter, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	return err
}

// presented is the certificate a server config presents to a handshake
// without SNI.
func presented(cfg *tls.Config) (*tls.Certificate, error) {
	if cfg.GetCertificate != nil {
		return cfg.GetCertificate(&tls.ClientHelloInfo{})
	}
	if len(cfg.Certificates) > 0 {
		return &cfg.Certificates[0], nil
	}
	return nil, nil
}

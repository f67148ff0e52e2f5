package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
)

var (
	errNoCert = errors.New("no PEM certificate found")
	errNoKey  = errors.New("no PEM private key found")
)

// pemFile is what one PEM file holds that we care about.
type pemFile struct {
	certs []*x509.Certificate
	keys  []*pem.Block
}

// splitPEM parses every certificate block of data and collects the private
// key blocks. Other blocks (EC PARAMETERS, text from openssl pkcs12) are
// skipped, because tools routinely emit them alongside.
func splitPEM(data []byte) (pemFile, error) {
	var f pemFile
	n := 0
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return f, nil
		}
		n++
		switch {
		case b.Type == "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return f, fmt.Errorf("PEM block #%d is not a valid certificate: %w", n, err)
			}
			f.certs = append(f.certs, c)
		case strings.HasSuffix(b.Type, "PRIVATE KEY"):
			f.keys = append(f.keys, b)
		}
	}
}

// LoadKeyPair loads a certificate chain (leaf first) and its private key,
// PEM or DER. With keyFile "" the key is expected in certFile, in any order
// with the certificates. Keys may be PKCS#8 (RSA, ECDSA, Ed25519), PKCS#1
// or SEC1; encrypted ones need LoadKeyPairFiles and a passphrase.
func LoadKeyPair(certFile, keyFile string) (tls.Certificate, error) {
	return identityFiles{cert: certFile, key: keyFile}.load()
}

// parseKeyPair is LoadKeyPair on bytes already read (keyData is ignored
// when keyFile is ""); hot reload reads the files itself to hash what it
// parses. pass opens an encrypted key.
func parseKeyPair(certData, keyData []byte, certFile, keyFile string, pass []byte) (tls.Certificate, error) {
	cf, err := splitPEM(certData)
	if err != nil {
		return tls.Certificate{}, newFileError(roleCert, certFile, err)
	}
	if len(cf.certs) == 0 && !isPEM(certData) {
		if cf.certs, err = derCertificates(certData); err != nil {
			return tls.Certificate{}, newFileError(roleCert, certFile, err)
		}
	}
	if len(cf.certs) == 0 {
		return tls.Certificate{}, newFileError(roleCert, certFile, errNoCert)
	}
	keyRole, keyPath, keys := roleCert, certFile, cf.keys
	var key crypto.Signer
	if keyFile != "" {
		keyRole, keyPath = roleKey, keyFile
		kf, err := splitPEM(keyData)
		if err != nil {
			return tls.Certificate{}, newFileError(roleKey, keyFile, err)
		}
		keys = kf.keys
		if len(keys) == 0 && !isPEM(keyData) {
			if key, err = derKey(keyData, pass); err != nil {
				return tls.Certificate{}, newFileError(roleKey, keyFile, err)
			}
		}
	}
	if key == nil {
		if key, err = singleKey(keys, keyFile == "", pass); err != nil {
			return tls.Certificate{}, newFileError(keyRole, keyPath, err)
		}
	}
	if err := matchKey(cf.certs, key, certFile, keyFile == ""); err != nil {
		return tls.Certificate{}, newFileError(keyRole, keyPath, err)
	}
	return chainCertificate(key, cf.certs), nil
}

// chainCertificate is the tls.Certificate of key and certs, leaf first.
func chainCertificate(key crypto.Signer, certs []*x509.Certificate) tls.Certificate {
	cert := tls.Certificate{PrivateKey: key, Leaf: certs[0]}
	for _, c := range certs {
		cert.Certificate = append(cert.Certificate, c.Raw)
	}
	return cert
}

// singleKey insists on exactly one key: with two, which one the operator
// meant is a guess, and a wrong guess fails later with a vaguer message.
func singleKey(blocks []*pem.Block, combined bool, pass []byte) (crypto.Signer, error) {
	switch {
	case len(blocks) == 0 && combined:
		return nil, fmt.Errorf("%w in the certificate file and no separate key file is set", errNoKey)
	case len(blocks) == 0:
		return nil, errNoKey
	case len(blocks) > 1:
		return nil, fmt.Errorf("found %d private keys, expected exactly one", len(blocks))
	}
	return parsePrivateKey(blocks[0], pass)
}

func parsePrivateKey(b *pem.Block, pass []byte) (crypto.Signer, error) {
	b, err := decryptBlock(b, pass)
	if err != nil {
		return nil, err
	}
	var key any
	switch b.Type {
	case "PRIVATE KEY":
		key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(b.Bytes)
	default:
		return nil, fmt.Errorf("unsupported key block %q: use PKCS#8 (PRIVATE KEY), PKCS#1 or SEC1", b.Type)
	}
	if err != nil {
		if b.Headers[decryptedMark] != "" {
			return nil, errWrongPassphrase // CBC padding matched by chance
		}
		return nil, fmt.Errorf("cannot parse %s block: %w", b.Type, err)
	}
	return signerOf(key)
}

// signerOf accepts the key types crypto/tls can sign with.
func signerOf(key any) (crypto.Signer, error) {
	switch k := key.(type) {
	case *rsa.PrivateKey:
		return k, nil
	case *ecdsa.PrivateKey:
		return k, nil
	case ed25519.PrivateKey:
		return k, nil
	default:
		return nil, fmt.Errorf("unsupported private key type %T: need RSA, ECDSA or Ed25519", key)
	}
}

// matchKey checks that key belongs to the leaf, and says so precisely when
// the key belongs to another certificate of the chain (leaf not first).
func matchKey(certs []*x509.Certificate, key crypto.Signer, certFile string, combined bool) error {
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok {
		return fmt.Errorf("unsupported public key type %T", key.Public())
	}
	if pub.Equal(certs[0].PublicKey) {
		return nil
	}
	where := "the first certificate"
	if !combined {
		where = fmt.Sprintf("the first certificate of %q", certFile)
	}
	for i, c := range certs[1:] {
		if pub.Equal(c.PublicKey) {
			return fmt.Errorf("private key does not match %s but certificate #%d (%s): the leaf certificate must come first",
				where, i+2, describe(c))
		}
	}
	return fmt.Errorf("private key does not match %s (%s)", where, describe(certs[0]))
}

// describe names a certificate the way an operator would look it up.
func describe(c *x509.Certificate) string {
	return fmt.Sprintf("subject %q, issuer %q", c.Subject.String(), c.Issuer.String())
}

// LoadCertPool reads a PEM bundle of one or more CA certificates.
func LoadCertPool(file string) (*x509.CertPool, error) {
	certs, err := loadCerts(roleCA, file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	for _, c := range certs {
		pool.AddCert(c)
	}
	return pool, nil
}

// loadCerts reads every certificate of a PEM file; at least one is required.
func loadCerts(role fileRole, file string) ([]*x509.Certificate, error) {
	data, err := readFile(role, file)
	if err != nil {
		return nil, err
	}
	f, err := splitPEM(data)
	if err != nil {
		return nil, newFileError(role, file, err)
	}
	if len(f.certs) == 0 {
		return nil, newFileError(role, file, errNoCert)
	}
	return f.certs, nil
}

package pki

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// The formats a certificate or key file may have besides plain PEM: DER,
// encrypted PKCS#8 (PBES2, pbes2.go) and legacy encrypted PEM. PKCS#12 is
// in pkcs12.go. Each error names what was tried and how to convert.

// errNeedPassphrase names the field to set: the operator has the password,
// not the knowledge of where it goes.
var errNeedPassphrase = errors.New("the private key is encrypted: set tls.key_passphrase = file(\"...\") or env(\"...\") " +
	"to the password that opens it")

// decryptedMark marks a block decryptBlock produced, so that a parse
// failure after it reads as a wrong password.
const decryptedMark = "decrypted"

// isPEM reports whether data holds any PEM block: a file that does is
// read as PEM only, so a PEM file with a broken block is not retried as
// DER and reported as the wrong format.
func isPEM(data []byte) bool {
	b, _ := pem.Decode(data)
	return b != nil
}

// derCertificates parses a file without PEM blocks as DER certificates
// (one, or several back to back).
func derCertificates(data []byte) ([]*x509.Certificate, error) {
	certs, err := x509.ParseCertificates(data)
	if err == nil && len(certs) > 0 {
		return certs, nil
	}
	if looksLikePKCS12(data) {
		return nil, errors.New("this is a PKCS#12 file: set it as tls.pkcs12 instead of tls.cert/tls.key")
	}
	return nil, fmt.Errorf("%w, and not a DER certificate either (%v); tls.cert takes PEM or DER "+
		"(openssl x509 -in FILE -out cert.pem converts others)", errNoCert, err)
}

// derKey parses a key file without PEM blocks as DER: PKCS#8, PKCS#1,
// SEC1, or encrypted PKCS#8.
func derKey(data, pass []byte) (crypto.Signer, error) {
	if k, err := x509.ParsePKCS8PrivateKey(data); err == nil {
		return signerOf(k)
	}
	if k, err := x509.ParsePKCS1PrivateKey(data); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(data); err == nil {
		return k, nil
	}
	b := &pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: data}
	if _, err := decryptPKCS8(data, nil); errors.Is(err, errNotEncryptedPKCS8) {
		if looksLikePKCS12(data) {
			return nil, errors.New("this is a PKCS#12 file: set it as tls.pkcs12 instead of tls.cert/tls.key")
		}
		return nil, fmt.Errorf("%w, and not a DER key either (tried PKCS#8, PKCS#1, SEC1 and encrypted PKCS#8); "+
			"openssl pkey -in FILE -out key.pem converts others", errNoKey)
	}
	return parsePrivateKey(b, pass)
}

// decryptBlock returns b decrypted when it is encrypted, b itself when not.
func decryptBlock(b *pem.Block, pass []byte) (*pem.Block, error) {
	legacy := x509.IsEncryptedPEMBlock(b) //nolint:staticcheck // legacy format, accepted with a warning
	if b.Type != "ENCRYPTED PRIVATE KEY" && !legacy {
		return b, nil
	}
	if len(pass) == 0 {
		return nil, errNeedPassphrase
	}
	if legacy {
		der, err := x509.DecryptPEMBlock(b, pass) //nolint:staticcheck // see above
		if err != nil {
			if errors.Is(err, x509.IncorrectPasswordError) {
				return nil, errWrongPassphrase
			}
			return nil, fmt.Errorf("cannot decrypt the legacy encrypted PEM key: %w", err)
		}
		return &pem.Block{Type: b.Type, Bytes: der, Headers: map[string]string{decryptedMark: "1"}}, nil
	}
	der, err := decryptPKCS8(b.Bytes, pass)
	if err != nil {
		return nil, err
	}
	return &pem.Block{Type: "PRIVATE KEY", Bytes: der, Headers: map[string]string{decryptedMark: "1"}}, nil
}

// legacyEncrypted reports whether data holds a key in the legacy
// encrypted PEM format (Proc-Type: 4,ENCRYPTED), whose key derivation is a
// single MD5: it is accepted, with a warning.
func legacyEncrypted(data []byte) bool {
	for {
		var b *pem.Block
		if b, data = pem.Decode(data); b == nil {
			return false
		}
		if x509.IsEncryptedPEMBlock(b) { //nolint:staticcheck // detecting it is the point
			return true
		}
	}
}

// legacyAdvice is the warning's text: what is weak and the command that fixes it.
const legacyAdvice = "the private key is in the legacy encrypted PEM format (Proc-Type: 4,ENCRYPTED), " +
	"whose key derivation is one MD5 round; convert it: " +
	"openssl pkcs8 -topk8 -v2 aes-256-cbc -in key.pem -out key-pkcs8.pem"

package pki

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
)

// CertPEM encodes one DER certificate as a PEM block.
func CertPEM(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// KeyPEM encodes a private key as PKCS#8 ("PRIVATE KEY"), which every
// current tool reads whatever the key type.
func KeyPEM(key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// WriteKeyPair writes cert's chain to dir/name.crt (0644) and its key to
// dir/name.key (0600), the layout of a Kubernetes TLS secret when name is
// "tls". Each file is written to a temporary name and renamed into place, so
// a reader never sees a half-written file.
func WriteKeyPair(dir, name string, cert tls.Certificate) (certPath, keyPath string, err error) {
	signer, ok := cert.PrivateKey.(crypto.Signer)
	if !ok {
		return "", "", fmt.Errorf("write key pair %q: private key %T is not a crypto.Signer", name, cert.PrivateKey)
	}
	if len(cert.Certificate) == 0 {
		return "", "", fmt.Errorf("write key pair %q: no certificate", name)
	}
	keyPEM, err := KeyPEM(signer)
	if err != nil {
		return "", "", fmt.Errorf("write key pair %q: %w", name, err)
	}
	var chain []byte
	for _, der := range cert.Certificate {
		chain = append(chain, CertPEM(der)...)
	}
	certPath = filepath.Join(dir, name+".crt")
	keyPath = filepath.Join(dir, name+".key")
	if err := WriteFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return "", "", err
	}
	if err := WriteFileAtomic(certPath, chain, 0o644); err != nil {
		return "", "", err
	}
	return certPath, keyPath, nil
}

// WriteFileAtomic writes data to path through a temporary file in the same
// directory, renamed over path: a reader never sees half a file, and
// whatever path was (a symlink someone planted) is replaced, never
// followed. The temporary file is created 0600 (os.CreateTemp's mode,
// exclusively, under a random name), so key bytes are never readable by
// others, and widened to perm through its descriptor.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(perm)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

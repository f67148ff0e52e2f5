package pki

import (
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"

	"github.com/passtunnel/passtunnel/config"
)

// identityFiles are the files a presented identity comes from: tls.cert and
// tls.key (PEM or DER, the key maybe encrypted), or tls.pkcs12; and the
// tls.key_passphrase that opens an encrypted key or PKCS#12 file.
type identityFiles struct {
	cert, key, p12 string
	pass           config.Secret
}

// filesOf is the identity files of a tls block.
func filesOf(c *config.TLS) identityFiles {
	return identityFiles{cert: c.Cert, key: c.Key, p12: c.PKCS12, pass: c.KeyPassphrase}
}

// set reports whether the block names identity files at all.
func (p identityFiles) set() bool { return p.cert != "" || p.p12 != "" }

// paths are the files to read and watch.
func (p identityFiles) paths() []string {
	if p.p12 != "" {
		return []string{p.p12}
	}
	return pairPaths(p.cert, p.key)
}

// main is the file logs name for the pair.
func (p identityFiles) main() string {
	if p.p12 != "" {
		return p.p12
	}
	return p.cert
}

// keyFile is the file that holds the private key, whose mode matters.
func (p identityFiles) keyFile() string {
	switch {
	case p.p12 != "":
		return p.p12
	case p.key != "":
		return p.key
	}
	return p.cert
}

// shareKey tells endpoints that may share one reload entry: the same files
// opened with the same passphrase (hashed: the key is no place for it).
func (p identityFiles) shareKey(tunnel string) string {
	k := "pair\x00" + tunnel + "\x00" + p.cert + "\x00" + p.key + "\x00" + p.p12
	if p.pass.IsSet() {
		sum := sha256.Sum256([]byte("passtunnel key_passphrase\x00" + p.pass.Reveal()))
		k += "\x00" + hex.EncodeToString(sum[:])
	}
	return k
}

// load reads and parses the files once.
func (p identityFiles) load() (tls.Certificate, error) {
	_, cert, _, err := p.read()
	if err != nil {
		return tls.Certificate{}, err
	}
	return *cert, nil
}

// read reads the files through their symlinks (os.ReadFile follows them,
// and the Kubernetes `..data` swap is atomic) and parses them. legacy
// reports a key in the weak legacy encrypted PEM format.
func (p identityFiles) read() (id contentID, cert *tls.Certificate, legacy bool, err error) {
	pass := []byte(p.pass.Reveal())
	if p.p12 != "" {
		data, err := readOrErr(rolePKCS12, p.p12)
		id = idOf(data)
		if err != nil {
			return id, nil, false, err
		}
		c, err := parsePKCS12(data, p.p12, pass)
		if err != nil {
			return id, nil, false, err
		}
		return id, &c, false, nil
	}
	certData, certErr := readOrErr(roleCert, p.cert)
	var keyData []byte
	var keyErr error
	if p.key != "" {
		keyData, keyErr = readOrErr(roleKey, p.key)
	}
	id = idOf(certData, keyData)
	if certErr != nil {
		return id, nil, false, certErr
	}
	if keyErr != nil {
		return id, nil, false, keyErr
	}
	c, err := parseKeyPair(certData, keyData, p.cert, p.key, pass)
	if err != nil {
		return id, nil, false, err
	}
	if p.key == "" {
		keyData = certData
	}
	return id, &c, legacyEncrypted(keyData), nil
}

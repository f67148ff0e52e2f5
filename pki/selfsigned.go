package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/passtunnel/passtunnel/config"
)

// selfSignedValidity is long on purpose: clients pin the fingerprint, and a
// new certificate means a new fingerprint to hand out to every client.
const selfSignedValidity = 10 * 365 * 24 * time.Hour

// hostName is what a host name must look like to go into a DNS SAN.
var hostName = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]{0,251}[a-z0-9])?$`)

// selfSigned returns the tunnel's self-signed certificate, kept in
// <state>/self-signed/<tunnel>.crt and .key so that it, and the fingerprint
// clients pinned, survive restarts. It is made on first use. The
// fingerprint is logged on every call, so an operator finds it in the log of
// any start.
func (m *Manager) selfSigned(t *config.Tunnel) (tls.Certificate, error) {
	fail := func(err error) (tls.Certificate, error) {
		return tls.Certificate{}, fieldError(t, "tls.self_signed", err)
	}
	if m.readOnly {
		return m.peekSelfSigned(t, fail)
	}
	state, err := m.stateDir()
	if err != nil {
		return fail(err)
	}
	dir := filepath.Join(state, "self-signed")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fail(fmt.Errorf("create %s: %w", dir, err))
	}
	// Tunnel names are unique, but a reload may build a tunnel while the
	// running one is still being built: one maker at a time.
	m.selfMu.Lock()
	defer m.selfMu.Unlock()
	certPath, keyPath := filepath.Join(dir, t.Name+".crt"), filepath.Join(dir, t.Name+".key")
	cert, err := LoadKeyPair(certPath, keyPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		// First start, or a crash between writing the key and the
		// certificate: no fingerprint was ever logged for this pair.
		cert, err = m.makeSelfSigned(certPath, keyPath)
	case err != nil:
		return fail(fmt.Errorf("%w (delete %s and %s to make a new certificate; its fingerprint will change)",
			err, certPath, keyPath))
	case !m.now().Before(cert.Leaf.NotAfter):
		m.log.Warn("self-signed certificate expired: making a new one; clients that pinned the old fingerprint must pin the new one",
			"tunnel", t.Name, "file", certPath, "not_after", cert.Leaf.NotAfter)
		cert, err = m.makeSelfSigned(certPath, keyPath)
	}
	if err != nil {
		return fail(err)
	}
	m.log.Info("self-signed certificate", "tunnel", t.Name, "fingerprint", Fingerprint(cert.Leaf.Raw),
		"file", certPath, "not_after", cert.Leaf.NotAfter.UTC().Format(time.RFC3339))
	return cert, nil
}

// peekSelfSigned is selfSigned for a Manager that writes nothing (check):
// the kept pair, when there is one where run looks for it, or else one
// made in memory and forgotten, so that the rest of the tunnel's config is
// still checked. No state directory is made.
func (m *Manager) peekSelfSigned(t *config.Tunnel, fail func(error) (tls.Certificate, error)) (tls.Certificate, error) {
	dirs := []string{m.stateDirFlag}
	if m.stateDirFlag == "" || m.stateDirFlag == DefaultStateDir {
		dirs = []string{DefaultStateDir}
		if user, err := userStateDir(); err == nil {
			dirs = append(dirs, user)
		}
	}
	for _, state := range dirs {
		dir := filepath.Join(state, "self-signed")
		certPath, keyPath := filepath.Join(dir, t.Name+".crt"), filepath.Join(dir, t.Name+".key")
		cert, err := LoadKeyPair(certPath, keyPath)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			return fail(fmt.Errorf("%w (delete %s and %s to make a new certificate; its fingerprint will change)",
				err, certPath, keyPath))
		}
		return cert, nil
	}
	return m.newSelfSigned()
}

// makeSelfSigned makes a self-signed certificate and writes it. The key
// goes first: a crash before the certificate is written leaves a pair that
// does not load, which is made again.
func (m *Manager) makeSelfSigned(certPath, keyPath string) (tls.Certificate, error) {
	cert, err := m.newSelfSigned()
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := KeyPEM(cert.PrivateKey.(crypto.Signer)) // newSelfSigned made an *ecdsa.PrivateKey
	if err != nil {
		return tls.Certificate{}, err
	}
	if err := WriteFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return tls.Certificate{}, err
	}
	if err := WriteFileAtomic(certPath, CertPEM(cert.Certificate[0]), 0o644); err != nil {
		return tls.Certificate{}, err
	}
	return cert, nil
}

// newSelfSigned makes an ECDSA P-256 certificate for this host's names and
// loopback addresses, in memory.
func (m *Manager) newSelfSigned() (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("generate key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return tls.Certificate{}, err
	}
	names := []string{"localhost"}
	if h, err := os.Hostname(); err == nil {
		if h = strings.ToLower(h); hostName.MatchString(h) && h != "localhost" {
			names = append([]string{h}, names...)
		}
	}
	now := m.now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: names[0], Organization: []string{"passtunnel self-signed"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              now.Add(selfSignedValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              names,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("self-sign: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("parse self-signed certificate: %w", err)
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// DefaultStateDir is where passtunnel keeps what it makes and must find
// again after a restart (self-signed certificates): the --state-dir default.
const DefaultStateDir = "/var/lib/passtunnel"

// ResolveStateDir turns the --state-dir value into a directory that exists
// (made 0700 if needed) and is writable. An explicit directory must work as
// given. The default ("" or DefaultStateDir) falls back to the user's state
// directory, $XDG_STATE_HOME/passtunnel or ~/.local/state/passtunnel, when
// it is not writable: a non-root user then needs no flag.
func ResolveStateDir(flagValue string) (string, error) {
	return resolveStateDir(flagValue, DefaultStateDir)
}

func resolveStateDir(flagValue, def string) (string, error) {
	if flagValue != "" && flagValue != def {
		if err := ensureWritableDir(flagValue); err != nil {
			return "", fmt.Errorf("state directory %s: %w", flagValue, err)
		}
		return flagValue, nil
	}
	defErr := ensureWritableDir(def)
	if defErr == nil {
		return def, nil
	}
	user, err := userStateDir()
	if err == nil {
		if err = ensureWritableDir(user); err == nil {
			return user, nil
		}
		err = fmt.Errorf("%s: %w", user, err)
	}
	return "", fmt.Errorf("no usable state directory (set --state-dir): %s: %w; fallback %w", def, defErr, err)
}

// userStateDir follows the XDG base directory spec, which ignores a
// relative $XDG_STATE_HOME.
func userStateDir() (string, error) {
	if x := os.Getenv("XDG_STATE_HOME"); filepath.IsAbs(x) {
		return filepath.Join(x, "passtunnel"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".local", "state", "passtunnel"), nil
}

// ensureWritableDir makes dir (0700) and proves it writable by creating a
// file in it: mode bits say nothing of read-only mounts.
func ensureWritableDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = fmt.Errorf("create %s: %w", pe.Path, pe.Err)
		}
		return err
	}
	f, err := os.CreateTemp(dir, ".write-probe-*")
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return fmt.Errorf("not writable: %w", err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

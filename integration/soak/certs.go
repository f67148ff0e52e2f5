package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"

	"github.com/passtunnel/passtunnel/internal/pkitest"
	"github.com/passtunnel/passtunnel/pki"
)

// secretMount is a directory laid out as Kubernetes mounts a TLS Secret:
// tls.crt, tls.key and ca.crt are symlinks into ..data, itself a symlink
// to a versioned directory. A rotation writes a new version and renames a
// new ..data over the old one, so a reader sees the old pair or the new
// one, never half of each: what cert-manager does to a running sidecar.
type secretMount struct {
	dir     string
	ca      *pkitest.Authority
	spec    pkitest.LeafSpec
	version int
}

func (m *secretMount) cert() string { return filepath.Join(m.dir, "tls.crt") }
func (m *secretMount) key() string  { return filepath.Join(m.dir, "tls.key") }
func (m *secretMount) caFile() string {
	return filepath.Join(m.dir, "ca.crt")
}

// newSecretMount makes the mount in dir with a first certificate for spec.
func newSecretMount(dir string, ca *pkitest.Authority, spec pkitest.LeafSpec) (*secretMount, error) {
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("secret mount: %w", err)
	}
	m := &secretMount{dir: dir, ca: ca, spec: spec}
	if err := m.rotate(); err != nil {
		return nil, err
	}
	for _, name := range []string{"tls.crt", "tls.key", "ca.crt"} {
		if err := os.Symlink(filepath.Join("..data", name), filepath.Join(dir, name)); err != nil {
			return nil, fmt.Errorf("secret mount: %w", err)
		}
	}
	return m, nil
}

// rotate issues a fresh key and certificate from the same authority and
// swaps them in; the previous version is removed, as the kubelet does.
func (m *secretMount) rotate() error {
	leaf, err := m.ca.Issue(m.spec)
	if err != nil {
		return err
	}
	m.version++
	version := fmt.Sprintf("..v%06d", m.version)
	vdir := filepath.Join(m.dir, version)
	if err := os.Mkdir(vdir, 0o700); err != nil {
		return fmt.Errorf("rotate %s: %w", m.dir, err)
	}
	if _, _, err := pki.WriteKeyPair(vdir, "tls", leaf); err != nil {
		return fmt.Errorf("rotate %s: %w", m.dir, err)
	}
	if err := pki.WriteFileAtomic(filepath.Join(vdir, "ca.crt"), m.ca.CertPEM(), 0o644); err != nil {
		return fmt.Errorf("rotate %s: %w", m.dir, err)
	}
	old, _ := os.Readlink(filepath.Join(m.dir, "..data"))
	tmp := filepath.Join(m.dir, "..data_tmp")
	if err := os.Symlink(version, tmp); err != nil {
		return fmt.Errorf("rotate %s: %w", m.dir, err)
	}
	if err := os.Rename(tmp, filepath.Join(m.dir, "..data")); err != nil {
		return fmt.Errorf("rotate %s: %w", m.dir, err)
	}
	if old != "" {
		if err := os.RemoveAll(filepath.Join(m.dir, old)); err != nil {
			return fmt.Errorf("rotate %s: remove %s: %w", m.dir, old, err)
		}
	}
	return nil
}

// identities are the two mounts of the run: the server tunnel's and the
// client tunnel's, issued by one authority each trusts.
type identities struct {
	server, client *secretMount
}

func newIdentities(dir string) (*identities, error) {
	ca, err := pkitest.NewAuthority("passtunnel soak CA")
	if err != nil {
		return nil, err
	}
	srv, err := newSecretMount(filepath.Join(dir, "server-tls"), ca, pkitest.LeafSpec{
		CommonName: "localhost", DNSNames: []string{"localhost"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, Server: true})
	if err != nil {
		return nil, err
	}
	cli, err := newSecretMount(filepath.Join(dir, "client-tls"), ca, pkitest.LeafSpec{
		CommonName: "soak-client", Client: true})
	if err != nil {
		return nil, err
	}
	return &identities{server: srv, client: cli}, nil
}

// rotate gives both tunnels a new certificate and key.
func (ids *identities) rotate() error {
	if err := ids.server.rotate(); err != nil {
		return err
	}
	return ids.client.rotate()
}

package pki

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/passtunnel/passtunnel/config"
)

// crl is one revocation list of tls.crl, its signature checked against
// the tls.ca certificate that issued it.
type crl struct {
	file    string
	issuer  []byte // Raw of the CA certificate that signed it
	next    time.Time
	serials map[string]bool // revoked serial numbers, in decimal
	stale   *onceSet        // warned "past its NextUpdate", shared by the set
}

// crlSet is every CRL of a tunnel as last loaded. It is immutable; hot
// reload swaps in a new one.
type crlSet struct {
	lists []crl
	log   *slog.Logger
	stale onceSet
}

// readCRLs reads the CRL files and checks each one's signature against
// the certificates of caFile. A CRL signed by none of them is refused: an
// unsigned list could un-revoke nothing, but a forged one could make
// the operator believe it works.
func readCRLs(caFile string, files []string, log *slog.Logger) (*crlSet, error) {
	cas, err := loadCerts(roleCA, caFile)
	if err != nil {
		return nil, err
	}
	set := &crlSet{log: orDiscard(log)}
	for _, file := range files {
		data, err := readCRLFile(file)
		if err != nil {
			return nil, err
		}
		list, err := parseCRL(data)
		if err != nil {
			return nil, fmt.Errorf("tls.crl %q: %w", file, err)
		}
		c, err := checkCRL(file, list, cas)
		if err != nil {
			return nil, err
		}
		c.stale = &set.stale
		set.lists = append(set.lists, c)
	}
	return set, nil
}

// readCRLFile reads a CRL that must be as safe from others' writes as a
// CA bundle: whoever can replace it can un-revoke a certificate.
func readCRLFile(file string) ([]byte, error) {
	if err := config.CheckTrustFile(file, config.StakeTrust); err != nil {
		return nil, err
	}
	data, err := os.ReadFile(file)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("tls.crl %q: %w", file, err)
	}
	return data, nil
}

// parseCRL takes a PEM ("X509 CRL") or DER revocation list.
func parseCRL(data []byte) (*x509.RevocationList, error) {
	if b, _ := pem.Decode(data); b != nil {
		if b.Type != "X509 CRL" {
			return nil, fmt.Errorf("PEM block %q; want X509 CRL", b.Type)
		}
		data = b.Bytes
	} else if bytes.HasPrefix(bytes.TrimSpace(data), []byte("-----")) {
		return nil, errors.New("malformed PEM")
	}
	list, err := x509.ParseRevocationList(data)
	if err != nil {
		return nil, fmt.Errorf("not a PEM or DER CRL: %w", err)
	}
	return list, nil
}

// checkCRL finds the certificate of cas that signed list.
func checkCRL(file string, list *x509.RevocationList, cas []*x509.Certificate) (crl, error) {
	for _, ca := range cas {
		if !bytes.Equal(ca.RawSubject, list.RawIssuer) {
			continue
		}
		if err := list.CheckSignatureFrom(ca); err != nil {
			continue
		}
		c := crl{file: file, issuer: ca.Raw, next: list.NextUpdate, serials: map[string]bool{}}
		for _, r := range list.RevokedCertificateEntries {
			c.serials[r.SerialNumber.String()] = true
		}
		return c, nil
	}
	return crl{}, fmt.Errorf("tls.crl %q: not signed by any certificate of tls.ca (issuer %q)", file, issuerName(list))
}

func issuerName(list *x509.RevocationList) string { return list.Issuer.String() }

// check refuses chain (leaf to root, as verification built it) when a CRL
// of an issuer in it lists the certificate below. A certificate whose
// issuer has no CRL here is not checked. A CRL past its NextUpdate is
// still used, with a warning: it still lists what it revoked, and
// refusing every peer because the CRL was not republished in time would
// turn a late cron job into an outage.
func (s *crlSet) check(chain []*x509.Certificate, now time.Time) error {
	for i := 0; i+1 < len(chain); i++ {
		cert, issuer := chain[i], chain[i+1]
		for _, c := range s.lists {
			if !bytes.Equal(c.issuer, issuer.Raw) {
				continue
			}
			if !c.next.IsZero() && now.After(c.next) && c.stale.first(c.file) {
				s.log.Warn("CRL is past its next update; still using it", "file", c.file,
					"next_update", c.next.UTC().Format(time.RFC3339))
			}
			if c.serials[cert.SerialNumber.String()] {
				return &revokedError{cert: cert, why: fmt.Sprintf("is revoked by tls.crl %q", c.file)}
			}
		}
	}
	return nil
}

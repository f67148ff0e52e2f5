package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// opensslCA is a CA run by `openssl ca` in a temporary directory.
type opensslCA struct {
	openssl, dir, cnf, cert string
}

const opensslCAConfig = `[ ca ]
default_ca = it
[ it ]
dir              = %s
database         = $dir/index.txt
new_certs_dir    = $dir/newcerts
certificate      = $dir/ca.crt
private_key      = $dir/ca.key
serial           = $dir/serial
crlnumber        = $dir/crlnumber
default_md       = sha256
default_days     = 1
default_crl_days = 1
policy           = any
unique_subject   = no
x509_extensions  = client
[ any ]
commonName = supplied
[ client ]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
`

// runOpenSSL runs openssl to completion and fails the test on an error.
func runOpenSSL(t *testing.T, openssl string, args ...string) {
	t.Helper()
	p := startProc(t, openssl, args, procOpts{})
	if code := p.mustExit(t, 30*time.Second); code != 0 {
		t.Fatalf("openssl %s: exit %d\n%s", strings.Join(args, " "), code, p.stderr.String())
	}
}

func newOpenSSLCA(t *testing.T, openssl string) *opensslCA {
	t.Helper()
	dir := t.TempDir()
	ca := &opensslCA{openssl: openssl, dir: dir, cnf: filepath.Join(dir, "ca.cnf"), cert: filepath.Join(dir, "ca.crt")}
	writeFile(t, dir, "ca.cnf", []byte(fmt.Sprintf(opensslCAConfig, dir)))
	writeFile(t, dir, "index.txt", nil)
	writeFile(t, dir, "serial", []byte("1000\n"))
	writeFile(t, dir, "crlnumber", []byte("01\n"))
	if err := os.Mkdir(filepath.Join(dir, "newcerts"), 0o700); err != nil {
		t.Fatal(err)
	}
	runOpenSSL(t, openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
		"-keyout", filepath.Join(dir, "ca.key"), "-out", ca.cert, "-subj", "/CN=passtunnel-it CRL CA", "-days", "2",
		"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
	return ca
}

// client issues a client certificate named cn.
func (ca *opensslCA) client(t *testing.T, cn string) pair {
	t.Helper()
	p := pair{cert: filepath.Join(ca.dir, cn+".crt"), key: filepath.Join(ca.dir, cn+".key")}
	csr := filepath.Join(ca.dir, cn+".csr")
	runOpenSSL(t, ca.openssl, "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
		"-keyout", p.key, "-out", csr, "-subj", "/CN="+cn)
	runOpenSSL(t, ca.openssl, "ca", "-batch", "-config", ca.cnf, "-in", csr, "-out", p.cert, "-notext")
	return p
}

// crl writes the CA's current CRL to name in format PEM or DER.
func (ca *opensslCA) crl(t *testing.T, name, format string) string {
	t.Helper()
	pemFile := filepath.Join(ca.dir, name+".pem")
	runOpenSSL(t, ca.openssl, "ca", "-batch", "-config", ca.cnf, "-gencrl", "-out", pemFile)
	if format == "PEM" {
		return pemFile
	}
	der := filepath.Join(ca.dir, name+".der")
	runOpenSSL(t, ca.openssl, "crl", "-in", pemFile, "-outform", "DER", "-out", der)
	return der
}

// replace puts src's content at dst by a rename, as deployment tools do.
func replace(t *testing.T, src, dst string) {
	t.Helper()
	tmp := dst + ".new"
	if err := os.WriteFile(tmp, mustRead(t, src), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		t.Fatal(err)
	}
}

// TestCRLRevokesClient: a server tunnel with tls.crl refuses a client
// whose certificate `openssl ca -revoke` revoked, with reason revoked,
// on a resumed session too, and accepts it again once the CRL file is
// replaced by one that does not list it, without a restart.
func TestCRLRevokesClient(t *testing.T) {
	t.Parallel()
	openssl := needProgram(t, "openssl")
	f := newFixture(t)
	ca := newOpenSSLCA(t, openssl)
	revoked, good := ca.client(t, "it-revoked"), ca.client(t, "it-good")
	clean := ca.crl(t, "clean", "DER")
	runOpenSSL(t, openssl, "ca", "-batch", "-config", ca.cnf, "-revoke", revoked.cert)
	listing := ca.crl(t, "listing", "PEM")

	crlDir := t.TempDir()
	crl := filepath.Join(crlDir, "clients.crl")
	replace(t, clean, crl)
	srv := f.serverTun("s", "127.0.0.1:0", startEcho(t).addr)
	srv.ca = ca.cert
	pt := runText(t, configBlocks(strings.Replace(srv.hcl(), "  tls {\n", fmt.Sprintf("  tls {\n    crl = [%q]\n", crl), 1)), nil)
	addr := pt.listenAddr(t, "s")
	session := filepath.Join(t.TempDir(), "session.pem")

	connect := func(p pair, line string, extra ...string) *proc {
		args := append([]string{"s_client", "-connect", addr, "-CAfile", f.caA, "-verify_return_error",
			"-servername", "localhost", "-tls1_3", "-quiet", "-cert", p.cert, "-key", p.key}, extra...)
		c := startProc(t, openssl, args, procOpts{stdin: true})
		_, _ = c.stdin.Write([]byte(line + "\n"))
		return c
	}
	accepted := func(t *testing.T, p pair, line string, extra ...string) {
		t.Helper()
		c := connect(p, line, extra...)
		c.mustLine(t, c.stdout, ioTimeout, "echoing "+line, func(l string) bool { return l == line })
		c.kill()
	}
	refused := func(t *testing.T, p pair, line string, extra ...string) {
		t.Helper()
		before := len(pt.logs(logMatch("handshake failed", "tunnel", "s", "reason", "revoked")))
		c := connect(p, line, extra...)
		e := pt.waitLogs(t, ioTimeout, before+1, "handshake failed reason revoked",
			logMatch("handshake failed", "tunnel", "s", "reason", "revoked"))[before]
		wantError(t, e, "it-revoked", "revoked by tls.crl")
		c.waitExit(5 * time.Second)
		if strings.Contains(c.stdout.String(), line) {
			t.Fatal("a revoked client's bytes were echoed")
		}
	}
	reloaded := func(t *testing.T, n int) {
		t.Helper()
		pt.waitLogs(t, ioTimeout, n, "CRL reloaded", logMatch("CRL reloaded", "tunnel", "s"))
	}

	t.Run("before revocation: accepted, session kept", func(t *testing.T) {
		accepted(t, revoked, "before revocation", "-sess_out", session)
		if _, err := os.Stat(session); err != nil {
			t.Fatalf("s_client kept no session: %v", err)
		}
	})
	t.Run("revoked: refused, resumed session too", func(t *testing.T) {
		replace(t, listing, crl)
		reloaded(t, 1)
		refused(t, revoked, "resumed after revocation", "-sess_in", session)
		refused(t, revoked, "full handshake after revocation")
		accepted(t, good, "a good client")
	})
	t.Run("clean CRL again: accepted without restart", func(t *testing.T) {
		replace(t, clean, crl)
		reloaded(t, 2)
		accepted(t, revoked, "after the CRL no longer lists it")
	})
	// The session refused above was one the server resumes: so that
	// refusal was of a resumption, not of a full handshake.
	t.Run("the kept session resumes", func(t *testing.T) {
		c := startProc(t, openssl, []string{"s_client", "-connect", addr, "-CAfile", f.caA, "-verify_return_error",
			"-servername", "localhost", "-tls1_3", "-ign_eof", "-cert", revoked.cert, "-key", revoked.key, "-sess_in", session},
			procOpts{stdin: true})
		_, _ = c.stdin.Write([]byte("resumed\n"))
		c.mustLine(t, c.stdout, ioTimeout, "Reused, TLSv1.3", func(l string) bool { return strings.HasPrefix(l, "Reused, TLSv1.3") })
		c.kill()
	})
}

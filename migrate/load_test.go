package migrate

import (
	"path/filepath"
	"testing"

	"github.com/passtunnel/passtunnel/config"
)

// TestImportedHCLLoads: what the importers write is a config passtunnel
// accepts (config's parse and validation; the files it names are not
// read). Cases that use fields added beside this importer (tls.verify,
// tls.crl, tls.pkcs12, tls.key_passphrase, connect_proxy, spiffe) fail
// until those fields exist: newFields names them.
func TestImportedHCLLoads(t *testing.T) {
	t.Setenv("PASSTUNNEL_KEY_PASSPHRASE", "placeholder-for-the-test")
	t.Setenv("SPIFFE_ENDPOINT_SOCKET", "unix:///run/spire/agent.sock")
	stunnel := func(name string) func(t *testing.T) Result {
		return func(t *testing.T) Result {
			r, err := ImportStunnel(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
	}
	ghost := func(args ...string) func(t *testing.T) Result {
		return func(t *testing.T) Result { return importArgs(t, args...) }
	}
	cases := []struct {
		name      string
		newFields string // the fields the case needs from the other branches
		result    func(t *testing.T) Result
	}{
		{"stunnel sample", "", stunnel("stunnel.conf-sample")},
		{"hypershell server", "", stunnel("hypershell-server.conf")},
		{"hypershell client", "", stunnel("hypershell-client.conf")},
		{"include (verify chain)", "tls.verify", stunnel("with-include.conf")},
		{"ghostunnel server", "", ghost("server", "--listen", "0.0.0.0:8443", "--target", "127.0.0.1:8080",
			"--cert", "/s.crt", "--key", "/s.key", "--cacert", "/ca.crt", "--allow-cn", "client", "--status", "127.0.0.1:6060")},
		{"ghostunnel client", "", ghost("client", "--listen", "127.0.0.1:8080", "--target", "db:8443",
			"--cert", "/c.crt", "--key", "/c.key", "--cacert", "/ca.crt", "--verify-dns", "db")},
		{"ghostunnel keystore", "tls.pkcs12, tls.key_passphrase", ghost("client", "--listen", "127.0.0.1:8080", "--target", "db:8443",
			"--keystore", "/id.p12", "--storepass", "x", "--cacert", "/ca.crt")},
		{"ghostunnel connect proxy", "connect_proxy", ghost("client", "--listen", "127.0.0.1:8080", "--target", "db:8443",
			"--cacert", "/ca.crt", "--connect-proxy", "http://proxy:3128")},
		{"ghostunnel workload api", "spiffe", ghost("server", "--listen", "0.0.0.0:8443", "--target", "127.0.0.1:8080",
			"--use-workload-api", "--allow-uri", "spiffe://d/*")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := c.result(t)
			loader := config.Loader{Env: config.NewEnviron(func(string) {})}
			if _, err := loader.Parse([]byte(r.HCL), "imported.hcl"); err != nil {
				if c.newFields != "" {
					t.Errorf("needs %s (added on other branches): %v", c.newFields, err)
					return
				}
				t.Errorf("imported HCL does not load: %v\n%s", err, r.HCL)
			}
		})
	}
}

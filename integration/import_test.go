package integration

import (
	"fmt"
	"strings"
	"testing"
)

// TestImportStunnelCarriesTraffic: a HyperShell-style pair. Real stunnel
// runs the server side (cert, key, CAfile, verify = 2); the client side's
// stunnel.conf (client = yes, verify = 2, CAfile, checkHost) is imported,
// the HCL passes `check`, and passtunnel running it carries a line through
// the stunnel server to the backend.
func TestImportStunnelCarriesTraffic(t *testing.T) {
	t.Parallel()
	stunnel := needProgram(t, "stunnel4", "stunnel")
	f := newFixture(t)
	be := startEcho(t)
	server := startStunnel(t, stunnel, fmt.Sprintf("connect = %s\ncert = %s\nkey = %s\nCAfile = %s\nverify = 2\n",
		be.addr, f.server.cert, f.server.key, f.caA))
	dir := t.TempDir()
	conf := writeFile(t, dir, "client.conf", fmt.Appendf(nil, `; the client host of a HyperShell-style pair
foreground = yes
pid =

[hypershell]
client    = yes
accept    = 127.0.0.1:0
connect   = %s
cert      = %s
key       = %s
CAfile    = %s
verify    = 2
checkHost = localhost
`, server, f.client.cert, f.client.key, f.caA))

	imp := runProc(t, checkTimeout, binPath, "import", "stunnel", conf)
	hcl := imp.stdout.String()
	for _, want := range []string{`tunnel "hypershell"`, `mode   = "client"`, `server_name = "localhost"`, `ca          = "` + f.caA} {
		if !strings.Contains(hcl, want) {
			t.Errorf("imported HCL lacks %q:\n%s", want, hcl)
		}
	}
	if !strings.Contains(imp.stderr.String(), "foreground") {
		t.Errorf("stderr does not report foreground:\n%s", imp.stderr.String())
	}
	runProc(t, checkTimeout, binPath, "check", "-config", writeFile(t, dir, "imported.hcl", []byte(hcl)))

	pt := runText(t, hcl+"\nlog_format = \"json\"\n", nil)
	echoOnce(t, pt.listenAddr(t, "hypershell"), "a line through the imported client and stunnel's server")
}

// TestImportExitStatus: an import that drops verification exits 1 and
// still writes the HCL; one that carries everything exits 0.
func TestImportExitStatus(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	cases := []struct {
		conf string
		code int
		want string // on stderr
	}{
		{"[a]\naccept = 1\nconnect = 2\ncert = /c.pem\nkey = /k.pem\nCAfile = /ca.pem\nverifyChain = yes\n", 0, ""},
		{"[a]\nclient = yes\naccept = 127.0.0.1:1\nconnect = h:2\nPSKsecrets = /psk.txt\n", 1, "SECURITY: PSKsecrets"},
	}
	for i, c := range cases {
		path := writeFile(t, dir, fmt.Sprintf("c%d.conf", i), []byte(c.conf))
		p := startProc(t, binPath, []string{"import", "stunnel", path}, procOpts{})
		if code := p.mustExit(t, checkTimeout); code != c.code {
			t.Errorf("case %d: exit %d, want %d; stderr:\n%s", i, code, c.code, p.stderr.String())
		}
		if !strings.Contains(p.stdout.String(), `tunnel "a"`) {
			t.Errorf("case %d: no HCL on stdout:\n%s", i, p.stdout.String())
		}
		if !strings.Contains(p.stderr.String(), c.want) {
			t.Errorf("case %d: stderr lacks %q:\n%s", i, c.want, p.stderr.String())
		}
	}
}

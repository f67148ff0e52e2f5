package integration

import (
	"bufio"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// setAttr replaces the value of `name = "..."` in an HCL text, so a
// manifest's config can run on loopback ports here.
func setAttr(t *testing.T, hcl, name, value string) string {
	t.Helper()
	re := regexp.MustCompile(`(?m)^(\s*` + name + `\s*=\s*)"[^"]*"`)
	if !re.MatchString(hcl) {
		t.Fatalf("config has no %s attribute:\n%s", name, hcl)
	}
	return re.ReplaceAllString(hcl, `${1}"`+value+`"`)
}

// onLoopback moves a manifest's config to loopback: its tunnel listens on
// a free port, dials target, and its admin endpoint is on a free port too.
func onLoopback(t *testing.T, hcl, target string) string {
	t.Helper()
	hcl = setAttr(t, setAttr(t, hcl, "listen", "127.0.0.1:0"), "target", target)
	return setAttr(t, hcl, "admin", "127.0.0.1:0")
}

// runSidecar runs a manifest's config as its sidecar would and waits until
// the endpoints its probes ask answer 200: /readyz (startup, readiness) and
// /healthz (liveness).
func runSidecar(t *testing.T, hcl string) *proc {
	t.Helper()
	p := runConfigText(t, hcl, nil)
	admin := newAdminClient(t, p.adminAddr(t, 0))
	admin.waitStatus(t, "/readyz", http.StatusOK, startTimeout)
	admin.expect(t, "/healthz", http.StatusOK, "ok")
	return p
}

// TestKubernetesExample runs the configs of redis-server.yaml and
// redis-client.yaml as the sidecars would, on loopback, with the
// passphrase where the Secret volume puts it: both probes' endpoints
// answer 200, and a line crosses client and server sidecars.
func TestKubernetesExample(t *testing.T) {
	t.Parallel()
	passphrase := newPassphrase(t)
	serverHCL := materializeSecrets(t, loadManifest(t, "redis-server.yaml").config(t), passphrase, nil)
	clientHCL := materializeSecrets(t, loadManifest(t, "redis-client.yaml").config(t), passphrase, nil)

	be := startEcho(t)
	srv := runSidecar(t, onLoopback(t, serverHCL, be.addr))
	cli := runSidecar(t, onLoopback(t, clientHCL, srv.listenAddr(t, "redis")))
	c := dial(t, cli.listenAddr(t, "redis"))
	roundTrip(t, c, bufio.NewReader(c), "PING from the app pod", "PING from the app pod")
}

// TestKubernetesCertManagerExample runs the config of
// redis-server-certmanager.yaml with a certificate, key and CA where
// cert-manager's Secret puts them: a client of that CA gets through, one
// of another CA does not.
func TestKubernetesCertManagerExample(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	hcl := materializeSecrets(t, loadManifest(t, "redis-server-certmanager.yaml").config(t), "", f)
	be := startEcho(t)
	srv := runSidecar(t, onLoopback(t, hcl, be.addr))
	addr := srv.listenAddr(t, "redis")

	c := dialTLS(t, addr, f.clientTLS(f.client))
	roundTrip(t, c, bufio.NewReader(c), "PING over cert-manager's certificate", "PING over cert-manager's certificate")
	intruder := dialTLS(t, addr, f.clientTLS(f.clientB))
	if _, err := bufio.NewReader(intruder).ReadString('\n'); err == nil {
		t.Fatal("a client of another CA got an answer")
	}
}

// runConfigText runs `passtunnel run` on a config text with extra
// environment variables, logging JSON so that listenAddr can read it.
func runConfigText(t *testing.T, hcl string, env []string) *proc {
	t.Helper()
	return runText(t, setAttr(t, hcl, "log_format", "json"), env)
}

// TestKubernetesTransparentExample holds the transparent cluster manifest
// to its promise: only the rules init container has a capability
// (NET_ADMIN) and it applies the rules of the very config the sidecar
// runs; the config makes rules. The mechanism itself is
// TestTransparentCluster's; the sidecar's own checklist,
// TestKubernetesManifestsDecodeStrictly's.
func TestKubernetesTransparentExample(t *testing.T) {
	t.Parallel()
	m := loadManifest(t, "transparent-cluster.yaml")
	if len(m.pods) != 1 {
		t.Fatalf("%d workloads, want one StatefulSet", len(m.pods))
	}
	spec := m.pods[0].spec.Spec
	var added []string
	for _, c := range append(spec.InitContainers, spec.Containers...) {
		if sc := c.SecurityContext; sc != nil && sc.Capabilities != nil {
			for _, capability := range sc.Capabilities.Add {
				added = append(added, c.Name+":"+string(capability))
			}
		}
	}
	rules := spec.InitContainers[0]
	if len(added) != 1 || added[0] != rules.Name+":NET_ADMIN" ||
		strings.Join(rules.Args, " ") != "rules -config "+sidecarConfig+" -apply" {
		t.Fatalf("capabilities added %q; want NET_ADMIN only, for the first init container, which applies the rules of %s", added, sidecarConfig)
	}
	if rules.RestartPolicy != nil {
		t.Fatal("the rules init container must run to completion before the sidecar starts")
	}
	path := writeFile(t, t.TempDir(), "passtunnel.hcl", []byte(materializeSecrets(t, m.config(t), newPassphrase(t), nil)))
	p := startProc(t, binPath, []string{"rules", "-config", path, "-backend", "nftables"}, procOpts{})
	if code := p.mustExit(t, ioTimeout); code != 0 || !strings.Contains(p.stdout.String(), "15001") {
		t.Fatalf("rules: exit %d, no redirect to the tunnel's port 15001:\n%s%s", code, p.stdout, p.stderr)
	}
}

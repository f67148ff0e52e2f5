package integration

import (
	"bufio"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// embeddedHCL returns the `passtunnel.hcl: |` block of a Kubernetes
// manifest, de-indented: the config the sidecar would read.
func embeddedHCL(t *testing.T, manifest string) string {
	t.Helper()
	var out []string
	indent := -1
	in := false
	for _, line := range strings.Split(manifest, "\n") {
		if !in {
			in = strings.TrimSpace(line) == "passtunnel.hcl: |"
			continue
		}
		trimmed := strings.TrimLeft(line, " ")
		if trimmed == "" {
			out = append(out, "")
			continue
		}
		if indent < 0 {
			indent = len(line) - len(trimmed)
		}
		if len(line)-len(trimmed) < indent {
			break
		}
		out = append(out, line[indent:])
	}
	if len(out) == 0 {
		t.Fatal("manifest has no `passtunnel.hcl: |` block")
	}
	return strings.Join(out, "\n")
}

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

// TestKubernetesExample runs the configs embedded in examples/kubernetes as
// the sidecars would (passphrase from the environment variable the manifest
// maps from the Secret), on loopback: a line crosses client and server
// sidecars. It also holds the manifests to what the README promises: the
// NetworkPolicy admits exactly the server tunnel's port, and the
// passphrase never appears as an argument.
func TestKubernetesExample(t *testing.T) {
	t.Parallel()
	dir := filepath.Join("..", "examples", "kubernetes")
	serverYAML := string(mustRead(t, filepath.Join(dir, "redis-server.yaml")))
	clientYAML := string(mustRead(t, filepath.Join(dir, "redis-client.yaml")))
	serverHCL, clientHCL := embeddedHCL(t, serverYAML), embeddedHCL(t, clientYAML)

	listenPort := regexp.MustCompile(`listen\s*=\s*"[^"]*:(\d+)"`).FindStringSubmatch(serverHCL)
	policyPort := regexp.MustCompile(`(?s)kind: NetworkPolicy.*port: (\d+)`).FindStringSubmatch(serverYAML)
	if listenPort == nil || policyPort == nil || listenPort[1] != policyPort[1] {
		t.Fatalf("NetworkPolicy port %v does not match the server tunnel's listen port %v", policyPort, listenPort)
	}
	for _, m := range []string{serverYAML, clientYAML} {
		if !strings.Contains(m, "secretKeyRef: {name: passtunnel-passphrase, key: passphrase}") ||
			!strings.Contains(m, "name: PASSTUNNEL_PASSPHRASE") {
			t.Fatal("a manifest does not map the Secret to PASSTUNNEL_PASSPHRASE")
		}
		if strings.Contains(m, "--passphrase") {
			t.Fatal("a manifest passes a passphrase flag")
		}
	}

	env := []string{"PASSTUNNEL_PASSPHRASE=" + newPassphrase(t)}
	be := startEcho(t)
	serverHCL = setAttr(t, setAttr(t, serverHCL, "listen", "127.0.0.1:0"), "target", be.addr)
	srv := runConfigText(t, serverHCL, env)
	srvAddr := srv.listenAddr(t, "redis")
	clientHCL = setAttr(t, setAttr(t, clientHCL, "listen", "127.0.0.1:0"), "target", srvAddr)
	cli := runConfigText(t, clientHCL, env)
	c := dial(t, cli.listenAddr(t, "redis"))
	roundTrip(t, c, bufio.NewReader(c), "PING from the app pod", "PING from the app pod")
}

// runConfigText runs `passtunnel run` on a config text with extra
// environment variables, logging JSON so that listenAddr can read it.
func runConfigText(t *testing.T, hcl string, env []string) *proc {
	t.Helper()
	return runText(t, setAttr(t, hcl, "log_format", "json"), env)
}

// TestKubernetesTransparentExample holds the transparent cluster manifest
// to its promise: only the init container has a capability (NET_ADMIN) and
// it applies the rules of the very config the sidecar runs; the sidecar
// drops every capability; the config passes `check` and `rules` makes
// rules of it. The mechanism itself is TestTransparentCluster's.
func TestKubernetesTransparentExample(t *testing.T) {
	t.Parallel()
	manifest := string(mustRead(t, filepath.Join("..", "examples", "kubernetes", "transparent-cluster.yaml")))
	if got := strings.Count(manifest, "add: [\"NET_ADMIN\"]"); got != 1 ||
		!regexp.MustCompile(`(?s)initContainers:.*add: \["NET_ADMIN"\].*\n      containers:`).MatchString(manifest) {
		t.Fatalf("NET_ADMIN is added %d time(s); want once, in the init container", got)
	}
	if !strings.Contains(manifest, `args: ["rules", "-config", "/etc/passtunnel/passtunnel.hcl", "-apply"]`) ||
		!strings.Contains(manifest, `args: ["run", "-config", "/etc/passtunnel/passtunnel.hcl"]`) {
		t.Fatal("the init container and the sidecar do not use the same config file")
	}
	if strings.Count(manifest, `capabilities: {drop: ["ALL"]}`) != 1 {
		t.Fatal("the sidecar does not drop every capability")
	}
	dir := t.TempDir()
	path := writeFile(t, dir, "passtunnel.hcl", []byte(embeddedHCL(t, manifest)))
	env := []string{"PASSTUNNEL_PASSPHRASE=" + newPassphrase(t)}
	check := startProc(t, binPath, []string{"check", "-config", path}, procOpts{env: env})
	if code := check.mustExit(t, ioTimeout); code != 0 {
		t.Fatalf("check: exit %d\n%s", code, check.stderr)
	}
	rules := startProc(t, binPath, []string{"rules", "-config", path, "-backend", "nftables"}, procOpts{env: env})
	if code := rules.mustExit(t, ioTimeout); code != 0 || !strings.Contains(rules.stdout.String(), "15001") {
		t.Fatalf("rules: exit %d, no redirect to the tunnel's port 15001:\n%s%s", code, rules.stdout, rules.stderr)
	}
}

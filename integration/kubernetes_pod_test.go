package integration

import (
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
)

const sidecarConfig = "/etc/passtunnel/passtunnel.hcl"

var (
	pinnedImage   = regexp.MustCompile(`^ghcr\.io/passtunnel/passtunnel(-rules)?:v\d+\.\d+\.\d+$`)
	adminAttr     = regexp.MustCompile(`(?m)^admin\s*=\s*"([^"]*):(\d+)"`)
	secretPath    = regexp.MustCompile(`"(/run/secrets/[^"]+)"`)
	drainAttr     = regexp.MustCompile(`drain_timeout\s*=\s*"([^"]+)"`)
	tunnelBlock   = regexp.MustCompile(`(?m)^tunnel\s+"`)
	sidecarSecret = int32(0o440)
)

// checkSidecarPod holds a workload's pod to what a production sidecar
// needs: passtunnel as a native sidecar with a pinned image, probes on the
// admin port, resources, a locked-down securityContext, its secrets as
// read-only Secret files, and a grace period longer than the drain.
func checkSidecarPod(t *testing.T, m *k8sManifest, p podTemplate) (hcl string) {
	t.Helper()
	spec := &p.spec.Spec
	sc := sidecar(t, p)
	hcl = sidecarHCL(t, m, p, sc)

	for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
		if strings.HasPrefix(c.Image, "ghcr.io/passtunnel/") && !pinnedImage.MatchString(c.Image) {
			t.Errorf("%s: container %s: image %q is not pinned to a release tag", p.workload, c.Name, c.Image)
		}
		if strings.HasSuffix(c.Image, ":latest") || !strings.ContainsAny(path.Base(c.Image), ":@") {
			t.Errorf("%s: container %s: image %q has no pinned tag", p.workload, c.Name, c.Image)
		}
		req, lim := c.Resources.Requests, c.Resources.Limits
		if req.Cpu().IsZero() || req.Memory().IsZero() || lim.Memory().IsZero() {
			t.Errorf("%s: container %s: want CPU and memory requests and a memory limit, have %v / %v", p.workload, c.Name, req, lim)
		}
	}
	if s := spec.SecurityContext; s == nil || s.SeccompProfile == nil || s.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: the pod's seccompProfile is not RuntimeDefault", p.workload)
	}
	checkSidecarSecurity(t, p, sc)
	checkProbes(t, p, sc, hcl)
	checkSecretFiles(t, m, p, sc, hcl)
	checkGracePeriod(t, p, hcl)
	return hcl
}

// sidecar returns the init container that runs `passtunnel run`, which must
// be a native sidecar; no regular container may run passtunnel.
func sidecar(t *testing.T, p podTemplate) *corev1.Container {
	t.Helper()
	var found []*corev1.Container
	for i, c := range p.spec.Spec.InitContainers {
		if len(c.Args) > 0 && c.Args[0] == "run" {
			found = append(found, &p.spec.Spec.InitContainers[i])
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: %d init containers run passtunnel, want one native sidecar", p.workload, len(found))
	}
	for _, c := range p.spec.Spec.Containers {
		if strings.Contains(c.Image, "passtunnel") {
			t.Errorf("%s: container %s runs passtunnel as a plain sidecar", p.workload, c.Name)
		}
	}
	if rp := found[0].RestartPolicy; rp == nil || *rp != corev1.ContainerRestartPolicyAlways {
		t.Errorf("%s: the passtunnel init container is not a native sidecar (restartPolicy: Always)", p.workload)
	}
	return found[0]
}

// sidecarHCL returns the config the sidecar runs: the passtunnel.hcl of the
// ConfigMap mounted where its -config points.
func sidecarHCL(t *testing.T, m *k8sManifest, p podTemplate, sc *corev1.Container) string {
	t.Helper()
	if !slices.Equal(sc.Args, []string{"run", "-config", sidecarConfig}) {
		t.Fatalf("%s: sidecar args %q, want run -config %s", p.workload, sc.Args, sidecarConfig)
	}
	v := mountedVolume(t, p, sc, path.Dir(sidecarConfig))
	if v.ConfigMap == nil {
		t.Fatalf("%s: %s is not a ConfigMap volume", p.workload, path.Dir(sidecarConfig))
	}
	hcl, ok := m.configMap(t, v.ConfigMap.Name).Data[path.Base(sidecarConfig)]
	if !ok {
		t.Fatalf("%s: ConfigMap %s has no %s", p.workload, v.ConfigMap.Name, path.Base(sidecarConfig))
	}
	return hcl
}

// mountedVolume returns the volume c mounts read-only at dir.
func mountedVolume(t *testing.T, p podTemplate, c *corev1.Container, dir string) *corev1.Volume {
	t.Helper()
	for _, vm := range c.VolumeMounts {
		if vm.MountPath != dir {
			continue
		}
		if !vm.ReadOnly {
			t.Errorf("%s: container %s mounts %s writable", p.workload, c.Name, dir)
		}
		for i, v := range p.spec.Spec.Volumes {
			if v.Name == vm.Name {
				return &p.spec.Spec.Volumes[i]
			}
		}
		t.Fatalf("%s: container %s mounts the undeclared volume %s", p.workload, c.Name, vm.Name)
	}
	t.Fatalf("%s: container %s mounts nothing at %s", p.workload, c.Name, dir)
	return nil
}

// checkSidecarSecurity: non-root 65532, read-only root, no privilege
// escalation, no capability (container settings over the pod's).
func checkSidecarSecurity(t *testing.T, p podTemplate, sc *corev1.Container) {
	t.Helper()
	pod := p.spec.Spec.SecurityContext
	c := sc.SecurityContext
	if c == nil {
		t.Fatalf("%s: the sidecar has no securityContext", p.workload)
	}
	nonRoot, user := c.RunAsNonRoot, c.RunAsUser
	if nonRoot == nil && pod != nil {
		nonRoot = pod.RunAsNonRoot
	}
	if user == nil && pod != nil {
		user = pod.RunAsUser
	}
	switch {
	case nonRoot == nil || !*nonRoot || user == nil || *user != 65532:
		t.Errorf("%s: the sidecar does not run as non-root uid 65532", p.workload)
	case c.ReadOnlyRootFilesystem == nil || !*c.ReadOnlyRootFilesystem:
		t.Errorf("%s: the sidecar's root filesystem is writable", p.workload)
	case c.AllowPrivilegeEscalation == nil || *c.AllowPrivilegeEscalation:
		t.Errorf("%s: the sidecar may escalate privileges", p.workload)
	case c.Capabilities == nil || !slices.Equal(c.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(c.Capabilities.Add) > 0:
		t.Errorf("%s: the sidecar does not drop every capability: %+v", p.workload, c.Capabilities)
	}
}

// checkProbes: startup and readiness on /readyz, liveness on /healthz, all
// on the admin port of the config, which binds every address so that the
// kubelet reaches it on the pod's IP.
func checkProbes(t *testing.T, p podTemplate, sc *corev1.Container, hcl string) {
	t.Helper()
	admin := adminAttr.FindStringSubmatch(hcl)
	if admin == nil || admin[1] != "0.0.0.0" {
		t.Fatalf("%s: the config's admin is %q, want 0.0.0.0:PORT for the kubelet's probes", p.workload, admin)
	}
	port, _ := strconv.Atoi(admin[2])
	for _, pr := range []struct {
		kind, path string
		probe      *corev1.Probe
	}{{"startup", "/readyz", sc.StartupProbe}, {"readiness", "/readyz", sc.ReadinessProbe}, {"liveness", "/healthz", sc.LivenessProbe}} {
		if pr.probe == nil || pr.probe.HTTPGet == nil {
			t.Errorf("%s: no %s httpGet probe", p.workload, pr.kind)
			continue
		}
		g := pr.probe.HTTPGet
		got := g.Port.IntValue()
		for _, cp := range sc.Ports {
			if g.Port.StrVal != "" && cp.Name == g.Port.StrVal {
				got = int(cp.ContainerPort)
			}
		}
		if g.Path != pr.path || got != port {
			t.Errorf("%s: %s probe GET %s on port %v (%d), want %s on the admin port %d", p.workload, pr.kind, g.Path, g.Port.String(), got, pr.path, port)
		}
	}
}

// checkSecretFiles: every /run/secrets/... file of the config (file(),
// tls.cert, tls.key, tls.ca) comes from a Secret volume mounted read-only,
// mode 0440 with the pod's fsGroup 65532; no secret is an environment
// variable; with a cert-manager Certificate, its Secret is the one mounted.
func checkSecretFiles(t *testing.T, m *k8sManifest, p podTemplate, sc *corev1.Container, hcl string) {
	t.Helper()
	paths := secretPath.FindAllStringSubmatch(hcl, -1)
	if len(paths) == 0 {
		t.Fatalf("%s: the config reads no file under /run/secrets", p.workload)
	}
	for _, e := range sc.Env {
		if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
			t.Errorf("%s: env %s comes from a Secret: mount it as a file, which rotates", p.workload, e.Name)
		}
	}
	if pod := p.spec.Spec.SecurityContext; pod == nil || pod.FSGroup == nil || *pod.FSGroup != 65532 {
		t.Errorf("%s: no fsGroup 65532: the sidecar cannot read Secret files of mode 0440", p.workload)
	}
	for _, sp := range paths {
		for _, c := range configReaders(p) {
			mountedVolume(t, p, c, path.Dir(sp[1]))
		}
		v := mountedVolume(t, p, sc, path.Dir(sp[1]))
		if v.Secret == nil || v.Secret.DefaultMode == nil || *v.Secret.DefaultMode != sidecarSecret {
			t.Errorf("%s: %s is not on a Secret volume of mode 0440", p.workload, sp[1])
			continue
		}
		if len(m.certificates) > 0 && !slices.ContainsFunc(m.certificates, func(c *certificate) bool {
			return c.Spec.SecretName == v.Secret.SecretName
		}) {
			t.Errorf("%s: Secret %s is no Certificate's secretName", p.workload, v.Secret.SecretName)
		}
	}
	if strings.Contains(m.text, "--passphrase") {
		t.Errorf("%s: a passphrase flag appears in the manifest", m.name)
	}
}

// configReaders returns the containers that read the sidecar's config
// (the sidecar, and a transparent pod's rules init container): each needs
// the files the config reads.
func configReaders(p podTemplate) []*corev1.Container {
	var out []*corev1.Container
	for i, c := range p.spec.Spec.InitContainers {
		if slices.Contains(c.Args, sidecarConfig) {
			out = append(out, &p.spec.Spec.InitContainers[i])
		}
	}
	return out
}

// checkGracePeriod: every tunnel states its drain_timeout, and the pod's
// terminationGracePeriodSeconds is longer than the longest, so that the
// kubelet does not kill the sidecar in the middle of its drain.
func checkGracePeriod(t *testing.T, p podTemplate, hcl string) {
	t.Helper()
	drains := drainAttr.FindAllStringSubmatch(hcl, -1)
	if n := len(tunnelBlock.FindAllString(hcl, -1)); n != len(drains) {
		t.Fatalf("%s: %d tunnels, %d drain_timeout: state it in each", p.workload, n, len(drains))
	}
	var longest time.Duration
	for _, d := range drains {
		v, err := time.ParseDuration(d[1])
		if err != nil {
			t.Fatalf("%s: drain_timeout %q: %v", p.workload, d[1], err)
		}
		longest = max(longest, v)
	}
	g := p.spec.Spec.TerminationGracePeriodSeconds
	if g == nil || time.Duration(*g)*time.Second <= longest {
		t.Errorf("%s: terminationGracePeriodSeconds is unset or not longer than drain_timeout %v", p.workload, longest)
	}
}

// checkNetworkPolicies: a policy admits the ports the Services lead to and
// never the admin port, which only the kubelet (from the node) probes.
func checkNetworkPolicies(t *testing.T, m *k8sManifest, hcls []string) {
	t.Helper()
	var admin []int
	for _, h := range hcls {
		if a := adminAttr.FindStringSubmatch(h); a != nil {
			port, _ := strconv.Atoi(a[2])
			admin = append(admin, port)
		}
	}
	var targets []int
	for _, s := range m.services {
		for _, sp := range s.Spec.Ports {
			targets = append(targets, sp.TargetPort.IntValue(), int(sp.Port))
		}
	}
	for _, np := range m.policies {
		for _, rule := range np.Spec.Ingress {
			for _, pp := range rule.Ports {
				if pp.Port == nil || !slices.Contains(targets, pp.Port.IntValue()) || slices.Contains(admin, pp.Port.IntValue()) {
					t.Errorf("NetworkPolicy %s admits port %v: not a Service's, or the admin port", np.Name, pp.Port)
				}
			}
		}
	}
}

// materializeSecrets points the config's /run/secrets/... paths at files of
// a temporary directory, as the kubelet would mount them: "passphrase" the
// passphrase given, tls.crt, tls.key and ca.crt the fixture's server pair
// and CA A. It returns the new config text.
func materializeSecrets(t *testing.T, hcl, passphrase string, f *fixture) string {
	t.Helper()
	dir := t.TempDir()
	for _, sp := range secretPath.FindAllStringSubmatch(hcl, -1) {
		dst := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(sp[1], "/run/secrets/")))
		if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
			t.Fatal(err)
		}
		var data []byte
		switch path.Base(sp[1]) {
		case "passphrase":
			data = []byte(passphrase)
		case "tls.crt":
			data = mustRead(t, f.server.cert)
		case "tls.key":
			data = mustRead(t, f.server.key)
		case "ca.crt":
			data = mustRead(t, f.caA)
		default:
			t.Fatalf("no test content for the secret file %s", sp[1])
		}
		if _, err := os.Stat(dst); err == nil {
			continue // a file read twice (a passphrase two tunnels share)
		}
		writeFile(t, filepath.Dir(dst), filepath.Base(dst), data)
	}
	return strings.ReplaceAll(hcl, `"/run/secrets/`, `"`+dir+"/")
}

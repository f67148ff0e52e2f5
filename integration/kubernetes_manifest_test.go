package integration

import (
	"errors"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// k8sManifest is one file of examples/kubernetes, every document decoded
// strictly into the Kubernetes API type of its kind.
type k8sManifest struct {
	name         string
	text         string
	configMaps   []*corev1.ConfigMap
	secrets      []*corev1.Secret
	services     []*corev1.Service
	policies     []*networkingv1.NetworkPolicy
	certificates []*certificate
	pods         []podTemplate // of the Deployments and StatefulSets
}

// podTemplate is the pod a workload runs, named after the workload.
type podTemplate struct {
	workload string
	spec     *corev1.PodTemplateSpec
}

// certificate holds the fields of a cert-manager.io/v1 Certificate that the
// examples use. cert-manager's types are not in k8s.io/api and its module
// drags in controller-runtime, so this struct stands in for them: strict
// decoding into it still fails on a misspelt or unexpected field, and the
// names follow cert-manager's v1 API.
type certificate struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		SecretName  string   `json:"secretName"`
		CommonName  string   `json:"commonName,omitempty"`
		DNSNames    []string `json:"dnsNames,omitempty"`
		Duration    string   `json:"duration,omitempty"`
		RenewBefore string   `json:"renewBefore,omitempty"`
		Usages      []string `json:"usages,omitempty"`
		PrivateKey  struct {
			Algorithm      string `json:"algorithm,omitempty"`
			Size           int    `json:"size,omitempty"`
			RotationPolicy string `json:"rotationPolicy,omitempty"`
		} `json:"privateKey"`
		IssuerRef struct {
			Name  string `json:"name"`
			Kind  string `json:"kind,omitempty"`
			Group string `json:"group,omitempty"`
		} `json:"issuerRef"`
	} `json:"spec"`
}

var docSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// loadManifest reads examples/kubernetes/name and decodes each of its
// documents strictly: an unknown or misspelt field, a duplicate key, a
// value of the wrong type or a kind the examples do not use fails the test.
func loadManifest(t *testing.T, name string) *k8sManifest {
	t.Helper()
	m := &k8sManifest{name: name, text: string(mustRead(t, filepath.Join("..", "examples", "kubernetes", name)))}
	for i, doc := range docSeparator.Split(m.text, -1) {
		if strings.TrimSpace(stripComments(doc)) == "" {
			continue
		}
		if err := m.add([]byte(doc)); err != nil {
			t.Fatalf("%s: document %d: %v", name, i+1, err)
		}
	}
	return m
}

func stripComments(doc string) string {
	return regexp.MustCompile(`(?m)^\s*#.*$`).ReplaceAllString(doc, "")
}

// add decodes one document by its apiVersion and kind.
func (m *k8sManifest) add(doc []byte) error {
	var tm metav1.TypeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		return err
	}
	strict := func(obj any) error { return decodeStrict(doc, obj, tm) }
	switch tm.APIVersion + " " + tm.Kind {
	case "v1 ConfigMap":
		return decodeInto(strict, &m.configMaps)
	case "v1 Secret":
		return decodeInto(strict, &m.secrets)
	case "v1 Service":
		return decodeInto(strict, &m.services)
	case "networking.k8s.io/v1 NetworkPolicy":
		return decodeInto(strict, &m.policies)
	case "cert-manager.io/v1 Certificate":
		return decodeInto(strict, &m.certificates)
	case "apps/v1 Deployment":
		var d appsv1.Deployment
		if err := strict(&d); err != nil {
			return err
		}
		m.pods = append(m.pods, podTemplate{"Deployment " + d.Name, &d.Spec.Template})
	case "apps/v1 StatefulSet":
		var s appsv1.StatefulSet
		if err := strict(&s); err != nil {
			return err
		}
		m.pods = append(m.pods, podTemplate{"StatefulSet " + s.Name, &s.Spec.Template})
	default:
		return fmt.Errorf("apiVersion %q kind %q: not a kind the examples use", tm.APIVersion, tm.Kind)
	}
	return nil
}

// decodeStrict decodes a YAML document as the API server's strict field
// validation does: yaml.UnmarshalStrict refuses duplicate keys and unknown
// fields, and sigs.k8s.io/json, the decoder of k8s.io/apimachinery, adds
// what encoding/json lets through: a field spelt in another case
// ("restartpolicy"), which the API server does not take for restartPolicy.
func decodeStrict(doc []byte, obj any, tm metav1.TypeMeta) error {
	if err := yaml.UnmarshalStrict(doc, obj); err != nil {
		return fmt.Errorf("%s %s: %w", tm.APIVersion, tm.Kind, err)
	}
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return fmt.Errorf("%s %s: %w", tm.APIVersion, tm.Kind, err)
	}
	strictErrs, err := kjson.UnmarshalStrict(js, obj, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
	if err = errors.Join(append(strictErrs, err)...); err != nil {
		return fmt.Errorf("%s %s: %w", tm.APIVersion, tm.Kind, err)
	}
	return nil
}

// decodeInto decodes a document into a new T and appends it to list.
func decodeInto[T any](strict func(any) error, list *[]*T) error {
	obj := new(T)
	if err := strict(obj); err != nil {
		return err
	}
	*list = append(*list, obj)
	return nil
}

// config returns the passtunnel.hcl of the manifest's only ConfigMap.
func (m *k8sManifest) config(t *testing.T) string {
	t.Helper()
	if len(m.configMaps) != 1 {
		t.Fatalf("%s: %d ConfigMaps, want one", m.name, len(m.configMaps))
	}
	return m.configMap(t, m.configMaps[0].Name).Data["passtunnel.hcl"]
}

// configMap returns the ConfigMap called name, or fails.
func (m *k8sManifest) configMap(t *testing.T, name string) *corev1.ConfigMap {
	t.Helper()
	for _, c := range m.configMaps {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("%s: no ConfigMap %q", m.name, name)
	return nil
}

// TestKubernetesManifestsDecodeStrictly decodes every manifest of
// examples/kubernetes into the real Kubernetes API types, refusing unknown
// fields, holds each workload to the production checklist of
// checkSidecarPod, and runs `passtunnel check` on each sidecar's config
// with its Secret files in place.
func TestKubernetesManifestsDecodeStrictly(t *testing.T) {
	t.Parallel()
	names, err := filepath.Glob(filepath.Join("..", "examples", "kubernetes", "*.yaml"))
	if err != nil || len(names) < 4 {
		t.Fatalf("examples/kubernetes: %d manifests (%v), want at least 4", len(names), err)
	}
	for _, path := range names {
		name := filepath.Base(path)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m := loadManifest(t, name)
			if len(m.pods) == 0 {
				t.Fatal("no Deployment or StatefulSet")
			}
			f := newFixture(t)
			var hcls []string
			for _, p := range m.pods {
				hcl := checkSidecarPod(t, m, p)
				hcls = append(hcls, hcl)
				checkConfig(t, materializeSecrets(t, hcl, newPassphrase(t), f))
			}
			checkNetworkPolicies(t, m, hcls)
		})
	}
}

// checkConfig runs `passtunnel check` on a config text: it must pass.
func checkConfig(t *testing.T, hcl string) {
	t.Helper()
	path := writeFile(t, t.TempDir(), "passtunnel.hcl", []byte(hcl))
	check := startProc(t, binPath, []string{"check", "-config", path}, procOpts{})
	if code := check.mustExit(t, ioTimeout); code != 0 {
		t.Fatalf("check: exit %d\n%s", code, check.stderr)
	}
}

// TestKubernetesStrictDecodingRefusesUnknownFields shows that the decoding
// above is strict: a misspelt field (restartPolicy put a level too high)
// fails, where a lax decoder would drop it and leave a plain sidecar, and
// so does a field in the wrong case, which encoding/json would accept.
func TestKubernetesStrictDecodingRefusesUnknownFields(t *testing.T) {
	t.Parallel()
	doc := []byte("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  template:\n    spec:\n" +
		"      restartPolicy: Always\n      initContainers:\n        - name: passtunnel\n          restartPolicyy: Always\n")
	m := &k8sManifest{name: "inline"}
	err := m.add(doc)
	if err == nil || !strings.Contains(err.Error(), "restartPolicyy") {
		t.Fatalf("decoding a misspelt field: %v, want an error naming it", err)
	}
	err = m.add([]byte("apiVersion: cert-manager.io/v1\nkind: Certificate\nmetadata: {name: x}\nspec: {secretname: x}\n"))
	if err == nil || !strings.Contains(err.Error(), "secretname") {
		t.Fatalf("decoding a field in the wrong case: %v, want an error naming it", err)
	}
	if err := m.add([]byte("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n")); err == nil {
		t.Fatal("a kind the examples do not use decoded")
	}
}

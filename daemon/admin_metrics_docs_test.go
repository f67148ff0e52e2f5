package daemon

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// docsMetricRow is a row of docs/behaviour.md's metrics table: name,
// type, labels.
var docsMetricRow = regexp.MustCompile("(?m)^\\| `(passtunnel_[a-z_]+)` \\| [a-z]+ \\| ([^|]*) \\|")

// descParts reads a metric's name and labels from its Desc: client_golang
// exposes them only through String.
var descParts = regexp.MustCompile(`fqName: "([^"]+)".*variableLabels: \{([^}]*)\}`)

// The metrics table of docs/behaviour.md lists every metric the collector
// describes, with its labels, and no other: a metric added without its row
// fails here.
func TestMetricsTableMatchesCollector(t *testing.T) {
	doc, err := os.ReadFile("../docs/behaviour.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]string{}
	for _, m := range docsMetricRow.FindAllStringSubmatch(string(doc), -1) {
		labels := strings.NewReplacer("`", "", " ", "").Replace(m[2])
		if labels == "—" || labels == "-" {
			labels = ""
		}
		documented[m[1]] = labels
	}
	c := newCollectorOf("v", nil, nil, nil)
	var described []string
	for _, d := range c.descs() {
		m := descParts.FindStringSubmatch(d.String())
		if m == nil {
			t.Fatalf("cannot read %s", d)
		}
		described = append(described, m[1])
		labels, ok := documented[m[1]]
		switch {
		case !ok:
			t.Errorf("docs/behaviour.md's metrics table lacks %s (labels %s)", m[1], m[2])
		case !sameLabels(labels, m[2]):
			t.Errorf("docs/behaviour.md gives %s the labels %q, the collector %q", m[1], labels, m[2])
		}
	}
	for name := range documented {
		if !slices.Contains(described, name) {
			t.Errorf("docs/behaviour.md's metrics table lists %s, which the collector does not describe", name)
		}
	}
}

// sameLabels compares comma-separated label lists in any order.
func sameLabels(a, b string) bool {
	as, bs := strings.Split(a, ","), strings.Split(b, ",")
	slices.Sort(as)
	slices.Sort(bs)
	return slices.Equal(as, bs)
}

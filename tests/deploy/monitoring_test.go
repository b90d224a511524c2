package deploy_test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v3"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

var iantName = regexp.MustCompile(`\biant_[a-z0-9_]+`)

// TestDashboardAndAlertsNameRealMetrics runs a network (a state behind a
// leaf node among them, so that every family exists), makes it post,
// deliver and refuse, scrapes its /metrics as Prometheus would, and checks
// that every iant_* name the Grafana dashboard and the alert rules use is
// served.
func TestDashboardAndAlertsNameRealMetrics(t *testing.T) {
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US", "JM"}, LeafStates: []string{"JM"}, MetricsAddr: "127.0.0.1:0"})
	posted := nettest.Post(t, nettest.Dial(t, nw, testenv.FocalPoint("MX")), nettest.Draft("for the scrape", "US", "JM"))
	nettest.WaitStored(t, nettest.Dial(t, nw, testenv.Analyst("US")), posted.GetBulletin().GetId())
	_, err := nettest.Dial(t, nw, testenv.Analyst("US")).PostBulletin(t.Context(), &iantv1.PostBulletinRequest{Bulletin: nettest.Draft("refused", "MX")})
	if status.Code(err) != codes.PermissionDenied {
		t.Fatalf("an analyst's post = %v, want PermissionDenied", err)
	}
	served := scrapeNames(t, nw.MetricsURL())

	dash := dashboardExprs(t)
	rules := alertRules(t)
	if len(dash) < 20 || len(rules) < 10 {
		t.Fatalf("%d dashboard queries and %d alert rules, want the dashboard and the rules", len(dash), len(rules))
	}
	exprs := map[string]string{}
	for _, e := range dash {
		exprs[e] = "deploy/grafana/iant-network.json"
	}
	for _, r := range rules {
		exprs[r.Expr] = "deploy/prometheus/iant-alerts.yaml (" + r.Alert + ")"
	}
	used := map[string]bool{}
	for e, where := range exprs {
		for _, name := range iantName.FindAllString(e, -1) {
			used[name] = true
			if !served[name] {
				t.Errorf("%s uses %s, which the network's /metrics does not serve", where, name)
			}
		}
	}
	if len(used) < 25 {
		t.Errorf("the dashboard and rules use %d iant_* names, want most of them", len(used))
	}
}

// TestAlertRulesAreComplete: each rule has a name, an expression, a
// severity, a summary and a runbook that exists (a page, and the section
// its anchor names); the scrape config's job names are those the rules
// use.
func TestAlertRulesAreComplete(t *testing.T) {
	ops, err := os.ReadFile("../../docs/operations.md")
	if err != nil {
		t.Fatal(err)
	}
	anchors := map[string]bool{}
	for _, l := range strings.Split(string(ops), "\n") {
		if h, ok := strings.CutPrefix(l, "#"); ok {
			anchors[slug(strings.TrimLeft(h, "# "))] = true
		}
	}
	for _, r := range alertRules(t) {
		switch {
		case r.Alert == "" || r.Expr == "":
			t.Errorf("rule %+v: alert and expr are required", r)
		case r.Labels["severity"] != "warning" && r.Labels["severity"] != "critical":
			t.Errorf("%s: severity %q, want warning or critical", r.Alert, r.Labels["severity"])
		case r.Annotations["summary"] == "":
			t.Errorf("%s: no summary", r.Alert)
		case strings.Count(r.Expr, "(") != strings.Count(r.Expr, ")"):
			t.Errorf("%s: unbalanced parentheses in %q", r.Alert, r.Expr)
		}
		page, anchor, _ := strings.Cut(r.Annotations["runbook"], "#")
		if _, err := os.Stat(filepath.Join("../..", page)); page == "" || err != nil {
			t.Errorf("%s: runbook page %q does not exist", r.Alert, page)
		}
		if anchor != "" && (page != "docs/operations.md" || !anchors[anchor]) {
			t.Errorf("%s: runbook %s names no section of %s", r.Alert, r.Annotations["runbook"], page)
		}
	}
	var prom struct {
		ScrapeConfigs []struct {
			JobName string `yaml:"job_name"`
		} `yaml:"scrape_configs"`
	}
	readYAML(t, "../../deploy/prometheus/prometheus.yml", &prom, false)
	var jobs []string
	for _, s := range prom.ScrapeConfigs {
		jobs = append(jobs, s.JobName)
	}
	for _, r := range alertRules(t) {
		for _, m := range regexp.MustCompile(`job="([^"]+)"`).FindAllStringSubmatch(r.Expr, -1) {
			if !slices.Contains(jobs, m[1]) {
				t.Errorf("%s uses job %q; prometheus.yml scrapes %v", r.Alert, m[1], jobs)
			}
		}
	}
}

// slug is GitHub's anchor of a heading: lower case, spaces to hyphens,
// punctuation dropped.
func slug(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		switch {
		case r == ' ' || r == '-':
			b.WriteRune('-')
		case r == '_' || r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
		}
	}
	return b.String()
}

// scrapeNames gets url as Prometheus does and returns every sample name
// served (a histogram's _bucket, _sum and _count too).
func scrapeNames(t *testing.T, url string) map[string]bool {
	t.Helper()
	resp, err := http.Get(url) //nolint:gosec // the test network's
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	names := map[string]bool{}
	for name, f := range fams {
		names[name] = true
		if f.GetType() == dto.MetricType_HISTOGRAM {
			for _, s := range []string{"_bucket", "_sum", "_count"} {
				names[name+s] = true
			}
		}
	}
	return names
}

// dashboardExprs returns every query of the Grafana dashboard: panel
// targets and template variables.
func dashboardExprs(t *testing.T) []string {
	t.Helper()
	data, err := os.ReadFile("../../deploy/grafana/iant-network.json")
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("dashboard JSON: %v", err)
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && (k == "expr" || k == "definition") {
					out = append(out, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	return out
}

// rule is one alerting rule.
type rule struct {
	Alert       string            `yaml:"alert"`
	Expr        string            `yaml:"expr"`
	For         string            `yaml:"for"`
	Labels      map[string]string `yaml:"labels"`
	Annotations map[string]string `yaml:"annotations"`
}

func alertRules(t *testing.T) []rule {
	t.Helper()
	var f struct {
		Groups []struct {
			Name  string `yaml:"name"`
			Rules []rule `yaml:"rules"`
		} `yaml:"groups"`
	}
	readYAML(t, "../../deploy/prometheus/iant-alerts.yaml", &f, true)
	var out []rule
	for _, g := range f.Groups {
		out = append(out, g.Rules...)
	}
	return out
}

// readYAML decodes the file at path into v; strict refuses fields v
// does not name.
func readYAML(t *testing.T, path string, v any, strict bool) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(strict)
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// count returns how many bulletins person p's node lists to them.
func count(t *testing.T, c iantv1.BulletinServiceClient) int {
	t.Helper()
	resp, err := c.ListBulletins(t.Context(), &iantv1.ListBulletinsRequest{PageSize: 500})
	if err != nil {
		t.Fatal(err)
	}
	return len(resp.GetBulletins())
}

func TestCLIExportImportFeed(t *testing.T) {
	dir := t.TempDir()
	nw := nettest.Start(t, testenv.Options{Dir: dir, States: []string{"MX", "US", "JM"}})
	ctxFile := func(name string) string { return filepath.Join(dir, "contexts", name+".yaml") }
	fpMX, fpUS, anUS, anJM := ctxFile("mx-focal-point-focal"), ctxFile("us-focal-point-focal"), ctxFile("us-analyst-analyst"), ctxFile("jm-analyst-analyst")
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	amber := nettest.Draft("Courier with a lost passport", "US", "JM")
	amber.Indicators = append(amber.Indicators, &iantv1.Indicator{Type: iantv1.IndicatorType_INDICATOR_TYPE_NETWORK, Value: "198.51.100.7"})
	b1 := nettest.Post(t, mx, amber).GetBulletin().GetId()
	red := nettest.Draft("Named source in danger", "US")
	red.Marking = iantv1.Marking_MARKING_RED
	b2 := nettest.Post(t, mx, red).GetBulletin().GetId()
	us := nettest.Dial(t, nw, testenv.FocalPoint("US"))
	nettest.WaitStored(t, us, b1)
	nettest.WaitStored(t, us, b2)

	t.Run("export stix", func(t *testing.T) {
		out, errLine := iant(t, t.Context(), "--context", anUS, "export", b1, "--format", "stix")
		var bundle struct {
			Type    string
			Objects []map[string]any
		}
		if errLine != "" || json.Unmarshal([]byte(out), &bundle) != nil || bundle.Type != "bundle" {
			t.Fatalf("export = %q, %q", out, errLine)
		}
		var found bool
		for _, o := range bundle.Objects {
			found = found || o["type"] == "report" && o["x_iant_bulletin_id"] == b1 && o["name"] == "Courier with a lost passport"
		}
		if !found {
			t.Errorf("no report of %s in %s", b1, out)
		}
		_, errLine = iant(t, t.Context(), "--context", anUS, "export", b2, "--format", "stix")
		if !strings.HasPrefix(errLine, "PermissionDenied:") {
			t.Errorf("an analyst's export of a RED bulletin = %q, want PermissionDenied", errLine)
		}
	})

	t.Run("feed misp", func(t *testing.T) {
		feed := filepath.Join(t.TempDir(), "feed")
		out, errLine := iant(t, t.Context(), "--context", anUS, "feed", "misp", "--dir", feed)
		if errLine != "" || !strings.Contains(out, "wrote a MISP feed of 1 events") {
			t.Fatalf("feed = %q, %q", out, errLine)
		}
		manifest := readManifest(t, feed)
		if len(manifest) != 1 {
			t.Errorf("analyst's feed manifest = %v, want the AMBER bulletin only", manifest)
		}
		for uuid, e := range manifest {
			if e["info"] != "Courier with a lost passport" {
				t.Errorf("manifest entry %s = %v", uuid, e)
			}
			if _, err := os.Stat(filepath.Join(feed, uuid+".json")); err != nil {
				t.Error(err)
			}
		}
		if data, err := os.ReadFile(filepath.Join(feed, "hashes.csv")); err != nil || !strings.Contains(string(data), ",") {
			t.Errorf("hashes.csv = %q, %v", data, err)
		}
		out, _ = iant(t, t.Context(), "--context", fpUS, "feed", "misp", "--dir", feed)
		if !strings.Contains(out, "of 1 events") || !strings.Contains(out, "1 bulletins left out") {
			t.Errorf("focal point's feed without --include-red = %q", out)
		}
		out, _ = iant(t, t.Context(), "--context", fpUS, "feed", "misp", "--dir", feed, "--include-red")
		if !strings.Contains(out, "of 2 events") || len(readManifest(t, feed)) != 2 {
			t.Errorf("focal point's feed with --include-red = %q", out)
		}
	})

	t.Run("import", func(t *testing.T) {
		files := t.TempDir()
		stixFile, mispFile := filepath.Join(files, "b1.stix.json"), filepath.Join(files, "b1.misp.json")
		for file, format := range map[string]string{stixFile: "stix", mispFile: "misp"} {
			if _, errLine := iant(t, t.Context(), "--context", fpMX, "export", b1, "--format", format, "-f", file); errLine != "" {
				t.Fatalf("export %s: %s", format, errLine)
			}
		}
		before := count(t, mx)
		out, errLine := iant(t, t.Context(), "--context", fpMX, "import", stixFile, "--dry-run")
		if errLine != "" || !strings.Contains(out, "title:       Courier with a lost passport") || !strings.Contains(out, "nothing posted") {
			t.Errorf("import --dry-run = %q, %q", out, errLine)
		}
		if n := count(t, mx); n != before {
			t.Errorf("a dry run posted: %d bulletins, then %d", before, n)
		}
		for _, file := range []string{stixFile, mispFile} {
			out, errLine = iant(t, t.Context(), "--context", fpMX, "import", file, "--release", "JM")
			if errLine != "" || !strings.Contains(out, "posted ") || !strings.Contains(out, "to 1 states: JM") {
				t.Errorf("import %s = %q, %q", filepath.Base(file), out, errLine)
			}
		}
		// Another state may not post MX's bulletin as its own.
		_, errLine = iant(t, t.Context(), "--context", fpUS, "import", stixFile)
		if !strings.Contains(errLine, ".created_by_ref: this report was issued by MX through IANT") {
			t.Errorf("import at US of MX's bundle = %q", errLine)
		}
		_, errLine = iant(t, t.Context(), "--context", fpUS, "import", mispFile)
		if !strings.Contains(errLine, "Event.Orgc.uuid: this event was issued by MX") {
			t.Errorf("import at US of MX's event = %q", errLine)
		}
		// A foreign MISP event: the release comes from the flags.
		foreign := filepath.Join("..", "..", "pkg", "misp", "testdata", "foreign_event.json")
		_, errLine = iant(t, t.Context(), "--context", fpUS, "import", foreign)
		if !strings.Contains(errLine, "Event.Tag: releasability is required") {
			t.Errorf("import without a release = %q, want the path of the missing releasability", errLine)
		}
		out, errLine = iant(t, t.Context(), "--context", fpUS, "import", foreign, "--release", "JM")
		if errLine != "" || !strings.Contains(out, "to 1 states: JM") {
			t.Errorf("import of a foreign MISP event = %q, %q", out, errLine)
		}
		// An analyst's import is refused by the node, like a post.
		_, errLine = iant(t, t.Context(), "--context", anJM, "import", foreign, "--release", "US")
		if !strings.Contains(errLine, "PermissionDenied:") {
			t.Errorf("an analyst's import = %q, want PermissionDenied", errLine)
		}
	})

	t.Run("bad files post nothing", func(t *testing.T) {
		files := t.TempDir()
		good, errLine := iant(t, t.Context(), "--context", fpMX, "export", b1, "--format", "stix")
		if errLine != "" {
			t.Fatal(errLine)
		}
		tests := []struct{ name, data, want string }{
			{"bad pattern", strings.Replace(good, "[ipv4-addr:value = '198.51.100.7']", "[ipv4-addr:value MATCHES '^198']", 1), "objects[3].pattern: at offset 17: operator MATCHES is not supported"},
			{"duplicate key", strings.Replace(good, `"pattern_type": "stix",`, `"pattern_type": "stix", "pattern_type": "stix",`, 1), `pattern_type: key "pattern_type" appears twice`},
			{"TLP 1.0", strings.ReplaceAll(good, "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"), "is TLP 1.0 (TLP:AMBER)"},
			{"huge", `{"type":"bundle","pad":"` + strings.Repeat("x", 5<<20) + `"}`, "(document): more than"},
		}
		before := count(t, mx)
		for _, tt := range tests {
			file := filepath.Join(files, strings.ReplaceAll(tt.name, " ", "-")+".json")
			if err := os.WriteFile(file, []byte(tt.data), 0o600); err != nil {
				t.Fatal(err)
			}
			_, errLine := iant(t, t.Context(), "--context", fpMX, "import", file)
			if !strings.Contains(errLine, tt.want) || strings.Contains(errLine, "\n") {
				t.Errorf("import of %s = %q, want one line containing %q", tt.name, errLine, tt.want)
			}
		}
		if n := count(t, mx); n != before {
			t.Errorf("bad files posted: %d bulletins, then %d", before, n)
		}
	})
}

func readManifest(t *testing.T, dir string) map[string]map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

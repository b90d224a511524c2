package misp_test

import (
	"crypto/md5"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/oas-cicte/iant/pkg/misp"
)

func TestFeedWritesManifestEventsAndHashes(t *testing.T) {
	dir := t.TempDir()
	stale := filepath.Join(dir, "0b8c1f43-2f8a-4b6e-9a51-5a3a7c2d9e10.json")
	if err := os.WriteFile(stale, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	foreignFile := filepath.Join(dir, "notes.json")
	if err := os.WriteFile(foreignFile, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	b := sample()
	b.Revises = ""
	ev, err := misp.FromBulletin(misp.Version{Bulletin: b})
	if err != nil {
		t.Fatal(err)
	}
	f, err := misp.NewFeed(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Add(ev); err != nil {
		t.Fatal(err)
	}
	if err := f.Add(ev); err != nil { // twice: written once
		t.Fatal(err)
	}
	n, err := f.Close()
	if err != nil || n != 1 {
		t.Fatalf("Close = %d, %v; want 1 event", n, err)
	}
	var manifest map[string]map[string]any
	readJSON(t, filepath.Join(dir, "manifest.json"), &manifest)
	entry, ok := manifest[ev.UUID]
	if !ok || entry["info"] != b.Title || entry["threat_level_id"] != "1" || entry["Orgc"].(map[string]any)["uuid"] != misp.OrgOf("MX").UUID {
		t.Errorf("manifest = %v", manifest)
	}
	im, err := misp.Decode(mustRead(t, filepath.Join(dir, ev.UUID+".json")))
	if err != nil || im.Bulletin.ID != b.ID {
		t.Errorf("the event file decodes to %+v, %v", im, err)
	}
	lines := strings.Split(strings.TrimSpace(string(mustRead(t, filepath.Join(dir, "hashes.csv")))), "\n")
	want := fmt.Sprintf("%x,%s", md5.Sum([]byte("198.51.100.7")), ev.UUID)
	if len(lines) != len(ev.Attribute) || !slices.Contains(lines, want) {
		t.Errorf("hashes.csv has %d lines %v, want %d with %q", len(lines), lines, len(ev.Attribute), want)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("an event file of an earlier run is still there: %v", err)
	}
	if _, err := os.Stat(foreignFile); err != nil {
		t.Errorf("a file that is not an event file was removed: %v", err)
	}
	if err := f.Add(ev); err == nil {
		t.Error("Add after Close succeeded")
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	if err := json.Unmarshal(mustRead(t, path), v); err != nil {
		t.Fatal(err)
	}
}

package misp

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/google/uuid"
)

// Feed writes a MISP feed into a directory: one <uuid>.json per event,
// then, on Close, manifest.json (uuid → the event's summary) and
// hashes.csv (MD5 of each attribute value, event uuid), which a MISP
// instance reads to subscribe to the feed. Every file is written to a
// temporary name and renamed, so a MISP instance polling the directory
// never reads half a file. Close removes event files of earlier runs that
// this run did not write, so what is no longer readable leaves the feed.
type Feed struct {
	dir      string
	manifest map[string]manifestEntry
	hashes   []string
	closed   bool
}

// manifestEntry is an event's line in manifest.json.
type manifestEntry struct {
	Orgc          Org    `json:"Orgc"`
	Tag           []Tag  `json:"Tag"`
	Info          string `json:"info"`
	Date          string `json:"date"`
	Analysis      string `json:"analysis"`
	ThreatLevelID string `json:"threat_level_id"`
	Timestamp     string `json:"timestamp"`
}

// NewFeed prepares to write a feed into dir, creating it if needed.
func NewFeed(dir string) (*Feed, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("misp: feed: %w", err)
	}
	return &Feed{dir: dir, manifest: map[string]manifestEntry{}}, nil
}

// Add writes the file of event ev. An event added twice is written once,
// the later one winning.
func (f *Feed) Add(ev Event) error {
	if f.closed {
		return errors.New("misp: feed: closed")
	}
	if _, err := uuid.Parse(ev.UUID); err != nil {
		return fmt.Errorf("misp: feed: event uuid %q: %w", ev.UUID, err)
	}
	data, err := json.MarshalIndent(File{Event: ev}, "", " ")
	if err != nil {
		return fmt.Errorf("misp: feed: %w", err)
	}
	if err := writeFile(filepath.Join(f.dir, ev.UUID+".json"), data); err != nil {
		return err
	}
	f.manifest[ev.UUID] = manifestEntry{Orgc: ev.Orgc, Tag: ev.Tag, Info: ev.Info, Date: ev.Date,
		Analysis: ev.Analysis, ThreatLevelID: ev.ThreatLevelID, Timestamp: ev.Timestamp}
	f.hashes = slices.DeleteFunc(f.hashes, func(l string) bool { return strings.HasSuffix(l, ","+ev.UUID) })
	f.hashes = append(f.hashes, Hashes(ev)...)
	return nil
}

// Close writes manifest.json and hashes.csv and removes the event files
// of earlier runs not written by this one. It returns the number of
// events in the feed.
func (f *Feed) Close() (int, error) {
	if f.closed {
		return 0, errors.New("misp: feed: closed")
	}
	f.closed = true
	data, err := json.MarshalIndent(f.manifest, "", " ")
	if err != nil {
		return 0, fmt.Errorf("misp: feed: %w", err)
	}
	if err := writeFile(filepath.Join(f.dir, "manifest.json"), data); err != nil {
		return 0, err
	}
	csv := strings.Join(f.hashes, "\n")
	if csv != "" {
		csv += "\n"
	}
	if err := writeFile(filepath.Join(f.dir, "hashes.csv"), []byte(csv)); err != nil {
		return 0, err
	}
	return len(f.manifest), f.removeStale()
}

func (f *Feed) removeStale() error {
	old, err := filepath.Glob(filepath.Join(f.dir, "*.json"))
	if err != nil {
		return fmt.Errorf("misp: feed: %w", err)
	}
	for _, p := range old {
		name := strings.TrimSuffix(filepath.Base(p), ".json")
		if _, err := uuid.Parse(name); err != nil || len(name) != 36 {
			continue // manifest.json, or not ours
		}
		if _, keep := f.manifest[name]; !keep {
			if err := os.Remove(p); err != nil {
				return fmt.Errorf("misp: feed: %w", err)
			}
		}
	}
	return nil
}

// writeFile writes data to path through a temporary file and a rename.
func writeFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return fmt.Errorf("misp: feed: %w", err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr, os.Chmod(tmp.Name(), 0o644)); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("misp: feed: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("misp: feed: %w", err)
	}
	return nil
}

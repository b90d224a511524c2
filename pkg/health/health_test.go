package health_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/health"
)

func TestMonitor(t *testing.T) {
	var diskFull atomic.Bool
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var reported []health.Result
	m := health.NewMonitor([]health.Check{
		{Name: "svid", Run: func(context.Context) error { return nil }},
		{Name: "disk", Run: func(context.Context) error {
			if diskFull.Load() {
				return errors.New("data dir /x has 1 MiB free")
			}
			return nil
		}},
		{Name: "slow", Run: func(ctx context.Context) error { <-ctx.Done(); return nil }},
	}, health.Options{Timeout: 50 * time.Millisecond, Now: func() time.Time { return clock },
		Report: func(r health.Result) { reported = append(reported, r) }})
	if got := m.Results(); health.Healthy(got) || got[0].Detail != "not checked yet" {
		t.Errorf("before the first run: %+v, want none healthy, not checked yet", got)
	}
	rs := m.CheckNow(context.Background())
	if !rs[0].OK || !rs[1].OK || rs[2].OK || !strings.Contains(rs[2].Detail, "timed out") {
		t.Errorf("CheckNow() = %+v, want svid and disk OK, slow timed out", rs)
	}
	if len(reported) != 3 {
		t.Errorf("reported %d results, want 3", len(reported))
	}
	first := clock
	clock = clock.Add(time.Minute)
	diskFull.Store(true)
	rs = m.CheckNow(context.Background())
	if rs[1].OK || rs[1].Since != clock || rs[0].Since != first || !rs[0].Checked.Equal(clock) {
		t.Errorf("after the disk filled: %+v, want disk failing since %v, svid OK since %v", rs, clock, first)
	}
	if got := health.Failing(rs); !strings.HasPrefix(got, "disk: data dir /x has 1 MiB free; slow: ") {
		t.Errorf("Failing() = %q", got)
	}
}

func TestRoom(t *testing.T) {
	d := health.Dir{Name: "data", Path: t.TempDir()}
	if err := health.Room(d, 1); err != nil {
		t.Errorf("Room(%v, 1 byte) = %v", d, err)
	}
	err := health.Room(d, 1<<62)
	if !errors.Is(err, health.ErrLowDisk) || !strings.Contains(err.Error(), "data dir "+d.Path) {
		t.Errorf("Room(%v, 4 EiB) = %v, want ErrLowDisk naming the data dir", d, err)
	}
	var seen uint64
	if err := (health.Disk{Dirs: []health.Dir{d}, Min: 1, Record: func(_ health.Dir, free uint64) { seen = free }}).Check(context.Background()); err != nil || seen == 0 {
		t.Errorf("Disk.Check = %v, recorded %d free", err, seen)
	}
	if err := health.Room(health.Dir{Name: "data", Path: "/nonexistent/iant"}, 1); err == nil {
		t.Error("Room of a missing directory = nil")
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]uint64{"256MiB": 256 << 20, "1 GiB": 1 << 30, "1048576": 1 << 20} {
		if got, err := health.ParseBytes(in); err != nil || got != want {
			t.Errorf("ParseBytes(%q) = %d, %v, want %d", in, got, err, want)
		}
	}
}

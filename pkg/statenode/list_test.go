package statenode_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestListBulletinsNewestFirst pages through a node's bulletins both ways:
// every bulletin once, in order, and the tokens of one order are refused
// in the other.
func TestListBulletinsNewestFirst(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "US")
	fp := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	var posted []string
	for i := range 7 {
		posted = append(posted, nettest.Post(t, fp, nettest.Draft(fmt.Sprintf("bulletin %d", i), "US")).GetBulletin().GetId())
	}
	newest := slices.Clone(posted)
	slices.Reverse(newest)

	list := func(newestFirst bool) (ids []string, tokens []string) {
		t.Helper()
		req := &iantv1.ListBulletinsRequest{PageSize: 3, NewestFirst: newestFirst}
		for range 10 {
			resp, err := fp.ListBulletins(t.Context(), req)
			if err != nil {
				t.Fatalf("ListBulletins(newest_first %v, token %q) = %v", newestFirst, req.PageToken, err)
			}
			for _, b := range resp.GetBulletins() {
				ids = append(ids, b.GetBulletin().GetId())
			}
			if resp.GetNextPageToken() == "" {
				return ids, tokens
			}
			tokens = append(tokens, resp.GetNextPageToken())
			req.PageToken = resp.GetNextPageToken()
		}
		t.Fatal("ListBulletins did not end within 10 pages")
		return nil, nil
	}
	gotNewest, newestTokens := list(true)
	if diff := cmp.Diff(newest, gotNewest); diff != "" {
		t.Errorf("newest-first pages (-want +got):\n%s", diff)
	}
	gotOldest, oldestTokens := list(false)
	if diff := cmp.Diff(posted, gotOldest); diff != "" {
		t.Errorf("oldest-first pages (-want +got):\n%s", diff)
	}
	if len(newestTokens) == 0 || len(oldestTokens) == 0 {
		t.Fatalf("tokens: newest first %q, oldest first %q; want some of each", newestTokens, oldestTokens)
	}

	bad := []struct {
		name        string
		token       string
		newestFirst bool
	}{
		{"newest-first token, oldest first", newestTokens[0], false},
		{"oldest-first token, newest first", oldestTokens[0], true},
		{"not a number", "abc", false},
		{"not a number, newest first", "nabc", true},
		{"prefix alone", "n", true},
		{"zero, newest first", "n0", true},
		{"leading zero", "01", false},
		{"sign", "+1", false},
		{"beyond the newest, newest first", "n999999", true},
		{"beyond the newest, oldest first", "999999", false},
		{"beyond int64", "n18446744073709551615", true},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			_, err := fp.ListBulletins(t.Context(), &iantv1.ListBulletinsRequest{PageToken: tt.token, NewestFirst: tt.newestFirst})
			if status.Code(err) != codes.InvalidArgument || nettest.ErrorField(err) != "page_token" {
				t.Errorf("ListBulletins(token %q, newest_first %v) = %v (field %q), want InvalidArgument naming page_token",
					tt.token, tt.newestFirst, err, nettest.ErrorField(err))
			}
		})
	}
}

// TestListPagesOnlyWhatTheReaderMayRead: US holds, from MX, a RED CBRN
// bulletin between two AMBER ones. US's analyst, who may not read RED,
// pages through everything one bulletin a page and gets the two AMBER
// ones, every page full but the last, never an empty page with a token;
// asking for RED, or for CBRN, gets nothing and no token: neither the
// page nor its token tells the analyst that a bulletin they may not read
// matches the filter. US's focal point lists all three.
func TestListPagesOnlyWhatTheReaderMayRead(t *testing.T) {
	t.Parallel()
	nw := nettest.StartStates(t, "MX", "US")
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	older := nettest.Post(t, mx, nettest.Draft("older", "US")).GetBulletin().GetId()
	red := marked("red", iantv1.Marking_MARKING_RED, "US")
	red.Category = iantv1.Category_CATEGORY_CBRN
	redID := nettest.Post(t, mx, red).GetBulletin().GetId()
	newer := nettest.Post(t, mx, nettest.Draft("newer", "US")).GetBulletin().GetId()
	focal := nettest.Dial(t, nw, testenv.FocalPoint("US"))
	for _, id := range []string{older, redID, newer} {
		nettest.WaitStored(t, focal, id)
	}

	pages := func(c iantv1.BulletinServiceClient, newestFirst bool, filter *iantv1.BulletinFilter) (ids []string, sizes []int) {
		t.Helper()
		req := &iantv1.ListBulletinsRequest{PageSize: 1, NewestFirst: newestFirst, Filter: filter}
		for range 10 {
			resp, err := c.ListBulletins(t.Context(), req)
			if err != nil {
				t.Fatalf("ListBulletins(%v) = %v", req, err)
			}
			for _, b := range resp.GetBulletins() {
				ids = append(ids, b.GetBulletin().GetId())
			}
			sizes = append(sizes, len(resp.GetBulletins()))
			if req.PageToken = resp.GetNextPageToken(); req.PageToken == "" {
				return ids, sizes
			}
		}
		t.Fatal("ListBulletins did not end within 10 pages")
		return nil, nil
	}
	analyst := nettest.Dial(t, nw, testenv.Analyst("US"))
	for _, newestFirst := range []bool{false, true} {
		want := []string{older, newer}
		if newestFirst {
			want = []string{newer, older}
		}
		ids, sizes := pages(analyst, newestFirst, nil)
		if diff := cmp.Diff(want, ids); diff != "" {
			t.Errorf("the analyst's pages, newest first %v (-want +got):\n%s", newestFirst, diff)
		}
		for i, n := range sizes[:len(sizes)-1] {
			if n != 1 {
				t.Errorf("the analyst's page %d of %v holds %d bulletins, want 1 (a page cut short tells of a hidden bulletin)", i, sizes, n)
			}
		}
		for _, f := range []*iantv1.BulletinFilter{
			{Markings: []iantv1.Marking{iantv1.Marking_MARKING_RED}},
			{Categories: []iantv1.Category{iantv1.Category_CATEGORY_CBRN}},
		} {
			if ids, sizes := pages(analyst, newestFirst, f); len(ids) != 0 || len(sizes) != 1 {
				t.Errorf("the analyst's list of %v = %v in %d pages, want one empty page without a token", f, ids, len(sizes))
			}
		}
	}
	if ids, _ := pages(focal, false, nil); !slices.Equal(ids, []string{older, redID, newer}) {
		t.Errorf("the focal point's pages = %v, want all three", ids)
	}
}

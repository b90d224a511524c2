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

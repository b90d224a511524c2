package statenode_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/spiffeid"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/prototext"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/policy"
	"github.com/oas-cicte/iant/pkg/statenode"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// TestSearchOnlyWhatTheReaderMayRead: MX releases four bulletins to US
// and CA, every one with the word QZSEARCHMARK in its title: an AMBER
// one anybody there reads, a RED one (focal points only), a GREEN one
// whose own conditions forbid analysts, and a GREEN one with the caveat
// law-enforcement-only. US's analyst is a sworn officer, CA's is not.
// Each person's search finds exactly what they may read — the analysts
// never the RED nor the narrowed one, CA's analyst not the
// law-enforcement one — and nothing of a hidden bulletin shows in the
// answer, not even its title, whatever words are asked (its own title
// words, its indicator value). Filtering a search is not a refusal: the
// audit log holds no refusal for the hits left out, only the one of an
// explicit Get made after the searches, as List does.
func TestSearchOnlyWhatTheReaderMayRead(t *testing.T) {
	t.Parallel()
	const marker = "QZSEARCHMARK"
	td := spiffeid.RequireTrustDomainFromString("iant.test")
	nw := nettest.Start(t, testenv.Options{States: []string{"MX", "US", "CA"}, TrustDomain: td.Name(),
		NodeConfig: func(cc string, c *statenode.Config) {
			if cc == "US" {
				c.People = map[string]policy.PersonAttrs{testenv.Analyst("US").ID(td).String(): {LawEnforcement: true}}
			}
		}})
	mx := nettest.Dial(t, nw, testenv.FocalPoint("MX"))
	post := func(title string, edit func(*iantv1.Bulletin)) string {
		t.Helper()
		d := nettest.Draft(title, "US", "CA")
		d.Marking = iantv1.Marking_MARKING_GREEN
		edit(d)
		return nettest.Post(t, mx, d).GetBulletin().GetId()
	}
	amber := post("Open "+marker+" courier", func(b *iantv1.Bulletin) { b.Marking = iantv1.Marking_MARKING_AMBER })
	red := post("Secret "+marker+" QZREDTITLE source", func(b *iantv1.Bulletin) {
		b.Marking = iantv1.Marking_MARKING_RED
		b.Body = "Only focal points read QZREDBODY."
		b.Indicators[0].Value = "QZREDPASS1"
	})
	narrowed := post("Narrowed "+marker+" QZNARROWTITLE", func(b *iantv1.Bulletin) {
		b.Conditions = `@id("no-analysts")
forbid (principal is Person, action == Action::"read", resource) when { principal.role == "analyst" };`
	})
	lawOnly := post("Sworn "+marker+" QZLAWTITLE", func(b *iantv1.Bulletin) {
		b.Caveats = []iantv1.Caveat{iantv1.Caveat_CAVEAT_LAW_ENFORCEMENT_ONLY}
	})
	all := []string{amber, red, narrowed, lawOnly}
	for _, cc := range []string{"US", "CA"} {
		fp := nettest.Dial(t, nw, testenv.FocalPoint(cc))
		for _, id := range all {
			nettest.WaitStored(t, fp, id)
		}
	}

	search := func(c iantv1.BulletinServiceClient, query string) (ids []string, text string) {
		t.Helper()
		resp, err := c.SearchBulletins(t.Context(), &iantv1.SearchBulletinsRequest{Query: query})
		if err != nil {
			t.Fatalf("SearchBulletins(%q) = %v", query, err)
		}
		for _, b := range resp.GetBulletins() {
			ids = append(ids, b.GetBulletin().GetId())
		}
		slices.Sort(ids)
		return ids, prototext.Format(resp)
	}
	sorted := func(ids ...string) []string { return slices.Sorted(slices.Values(ids)) }
	for _, tt := range []struct {
		name   string
		reader identity.Principal
		want   []string
		hidden []string // title words of what the reader may not see
	}{
		{"US focal point", testenv.FocalPoint("US"), all, nil},
		{"CA focal point", testenv.FocalPoint("CA"), all, nil},
		{"US analyst, law enforcement", testenv.Analyst("US"), []string{amber, lawOnly}, []string{"QZREDTITLE", "QZNARROWTITLE"}},
		{"CA analyst", testenv.Analyst("CA"), []string{amber}, []string{"QZREDTITLE", "QZNARROWTITLE", "QZLAWTITLE"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := nettest.Dial(t, nw, tt.reader)
			got, text := search(c, strings.ToLower(marker))
			if !slices.Equal(got, sorted(tt.want...)) {
				t.Errorf("SearchBulletins(%q) = %v, want %v", marker, got, sorted(tt.want...))
			}
			for _, w := range tt.hidden {
				if strings.Contains(text, w) {
					t.Errorf("the search answer shows %q of a bulletin the reader may not read:\n%s", w, text)
				}
			}
			if tt.hidden == nil {
				return
			}
			// Asking for the hidden bulletins' own words (the RED one's
			// body and indicator value too) finds nothing — not even a
			// next page: a token on an empty page would tell the reader
			// that a bulletin they may not read holds the word.
			for _, q := range append(slices.Clone(tt.hidden), "qzredbody", "QZREDPASS1") {
				for _, size := range []int32{0, 1} {
					resp, err := c.SearchBulletins(t.Context(), &iantv1.SearchBulletinsRequest{Query: q, PageSize: size})
					if err != nil || len(resp.GetBulletins()) != 0 || resp.GetNextPageToken() != "" {
						t.Errorf("SearchBulletins(%q, page size %d) = %d bulletins, next page %q, %v; want nothing",
							q, size, len(resp.GetBulletins()), resp.GetNextPageToken(), err)
					}
				}
			}
		})
	}

	// An explicit Get of the RED bulletin by CA's analyst is a refusal,
	// audited; the searches before it left no refusal in the log.
	_, err := nettest.Dial(t, nw, testenv.Analyst("CA")).GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: red, Origin: "MX"})
	wantRefusal(t, err, codes.PermissionDenied, "read-red-focal-points-only")
	auditor := nettest.AuditClient(t, nw, testenv.Auditor())
	refusals := func(id string) (n int, get bool) {
		for _, l := range nettest.Leaves(t, auditor, "MX", id) {
			if e := l.Event; e.Kind == audit.EventRefused {
				n++
				get = get || e.State == "CA" && e.Rule == "read-red-focal-points-only" && e.Detail == "read"
			}
		}
		return n, get
	}
	deadline := time.Now().Add(nettest.Eventually)
	for _, get := refusals(red); !get; _, get = refusals(red) {
		if time.Now().After(deadline) {
			t.Fatalf("CA's refused Get of the RED bulletin not logged within %s", nettest.Eventually)
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, id := range all {
		want := 0
		if id == red {
			want = 1
		}
		if n, _ := refusals(id); n != want {
			t.Errorf("bulletin %s has %d refusals in the audit log, want %d: a search's filtered hits are not refusals", id, n, want)
		}
	}
}

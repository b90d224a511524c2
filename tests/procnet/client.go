package procnet

import (
	"cmp"
	"io"
	"net/http"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"google.golang.org/grpc"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/client"
)

// Conn connects person (a PKI stem such as "mx-focal-point-focal") to
// node nd, writing their context file into Dir/ctx, and closes the
// connection when the test ends.
func (n *Net) Conn(t testing.TB, person string, nd Node) *grpc.ClientConn {
	t.Helper()
	c := client.Context{Node: nd.Addr(), NodeID: nd.ID(), TrustDomain: TrustDomain,
		Cert: filepath.Join(n.PKI, "svid", person+".pem"), Key: filepath.Join(n.PKI, "svid", person+".key"),
		Bundle: filepath.Join(n.PKI, "bundle.pem")}
	if err := c.Save(filepath.Join(n.Dir, "ctx", person+".yaml")); err != nil {
		t.Fatal(err)
	}
	cx, cancel := ctx(20 * time.Second)
	defer cancel()
	conn, _, err := client.Dial(cx, c)
	if err != nil {
		t.Fatalf("dial %s as %s: %v", nd.Name, person, err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// Bulletins is Conn's BulletinService.
func (n *Net) Bulletins(t testing.TB, person string, nd Node) iantv1.BulletinServiceClient {
	t.Helper()
	return iantv1.NewBulletinServiceClient(n.Conn(t, person, nd))
}

// Draft is a GREEN IMMEDIATE bulletin titled title for recipients.
func Draft(title string, recipients ...string) *iantv1.Bulletin {
	return &iantv1.Bulletin{
		Title: title, Body: "system test: " + title,
		Precedence: iantv1.Precedence_PRECEDENCE_IMMEDIATE, Category: iantv1.Category_CATEGORY_OTHER,
		Marking: iantv1.Marking_MARKING_GREEN, Language: iantv1.Language_LANGUAGE_EN,
		Releasability: &iantv1.Releasability{States: recipients},
	}
}

// Post posts a draft and returns the answer or the error, within d.
func Post(bs iantv1.BulletinServiceClient, b *iantv1.Bulletin, d time.Duration) (*iantv1.PostBulletinResponse, error) {
	cx, cancel := ctx(d)
	defer cancel()
	return bs.PostBulletin(cx, &iantv1.PostBulletinRequest{Bulletin: b})
}

// Stored returns the ids of the bulletins received at the node bs talks
// to, in the order it stored them (cursor order), and how many records
// each id has.
func Stored(t testing.TB, bs iantv1.BulletinServiceClient) (order []string, count map[string]int) {
	t.Helper()
	count = map[string]int{}
	type rec struct {
		cursor uint64
		id     string
	}
	var recs []rec
	token := ""
	for {
		cx, cancel := ctx(20 * time.Second)
		resp, err := bs.ListBulletins(cx, &iantv1.ListBulletinsRequest{PageSize: 500, PageToken: token})
		cancel()
		if err != nil {
			t.Fatalf("ListBulletins: %v", err)
		}
		for _, b := range resp.GetBulletins() {
			if b.GetDirection() == iantv1.Direction_DIRECTION_RECEIVED {
				recs = append(recs, rec{b.GetCursor(), b.GetBulletin().GetId()})
				count[b.GetBulletin().GetId()]++
			}
		}
		if token = resp.GetNextPageToken(); token == "" {
			break
		}
	}
	slices.SortFunc(recs, func(a, b rec) int { return cmp.Compare(a.cursor, b.cursor) })
	for _, r := range recs {
		order = append(order, r.id)
	}
	return order, count
}

// WaitStored waits until every id of want is stored at the node bs talks
// to, or d passes; it returns the ids stored, in order, and their counts.
func WaitStored(t testing.TB, bs iantv1.BulletinServiceClient, want []string, d time.Duration) ([]string, map[string]int) {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		order, count := Stored(t, bs)
		missing := 0
		for _, id := range want {
			if count[id] == 0 {
				missing++
			}
		}
		if missing == 0 || time.Now().After(deadline) {
			return order, count
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// Subsequence reports whether want appears within got in order.
func Subsequence(got, want []string) bool {
	i := 0
	for _, g := range got {
		if i < len(want) && g == want[i] {
			i++
		}
	}
	return i == len(want)
}

// OnlyIn keeps the ids of got that are among of, in got's order.
func OnlyIn(got, of []string) []string {
	set := map[string]bool{}
	for _, id := range of {
		set[id] = true
	}
	var out []string
	for _, id := range got {
		if set[id] {
			out = append(out, id)
		}
	}
	return out
}

// HTTPGet gets url and returns the status code and body (0 and the
// error's text when it cannot connect).
func HTTPGet(url string) (int, string) {
	c := http.Client{Timeout: 10 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// Eventually polls ok until it returns true or d passes; it reports
// whether it did.
func Eventually(d time.Duration, ok func() bool) bool {
	deadline := time.Now().Add(d)
	for !ok() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
	return true
}

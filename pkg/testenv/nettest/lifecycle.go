package nettest

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/testenv"
)

// Helpers for the bulletin's life: revise, revoke, reply, and wait for
// what each node then holds.

// Revise publishes draft as the next revision of bulletin id through c and
// fails the test if the node refuses it.
func Revise(t testing.TB, c iantv1.BulletinServiceClient, id string, draft *iantv1.Bulletin) *iantv1.ReviseBulletinResponse {
	t.Helper()
	resp, err := c.ReviseBulletin(t.Context(), &iantv1.ReviseBulletinRequest{Id: id, Bulletin: draft})
	if err != nil {
		t.Fatalf("ReviseBulletin(%s) = %v", id, err)
	}
	return resp
}

// Revoke revokes bulletin id through c and fails the test if the node
// refuses it.
func Revoke(t testing.TB, c iantv1.BulletinServiceClient, id, reason string) *iantv1.RevokeBulletinResponse {
	t.Helper()
	resp, err := c.RevokeBulletin(t.Context(), &iantv1.RevokeBulletinRequest{Id: id, Reason: reason})
	if err != nil {
		t.Fatalf("RevokeBulletin(%s) = %v", id, err)
	}
	return resp
}

// Reply sends req through c and fails the test if the node refuses it.
func Reply(t testing.TB, c iantv1.BulletinServiceClient, req *iantv1.ReplyToBulletinRequest) *iantv1.StoredBulletin {
	t.Helper()
	resp, err := c.ReplyToBulletin(t.Context(), req)
	if err != nil {
		t.Fatalf("ReplyToBulletin(%s) = %v", req.GetId(), err)
	}
	return resp.GetReply()
}

// WaitGet polls c's GetBulletin of id (of origin, "" for any) until ok
// accepts the answer, and returns it.
func WaitGet(t testing.TB, c iantv1.BulletinServiceClient, origin, id string, ok func(*iantv1.GetBulletinResponse) bool) *iantv1.GetBulletinResponse {
	t.Helper()
	deadline := time.Now().Add(Eventually)
	for {
		resp, err := c.GetBulletin(t.Context(), &iantv1.GetBulletinRequest{Id: id, Origin: origin, History: true})
		if err == nil && ok(resp) {
			return resp
		}
		if err != nil && status.Code(err) != codes.NotFound {
			t.Fatalf("GetBulletin(%s) = %v", id, err)
		}
		if time.Now().After(deadline) {
			t.Fatalf("GetBulletin(%s) not as wanted within %s; last: %v, %v", id, Eventually, resp, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitRevision waits until c's node holds revision rev of bulletin id.
func WaitRevision(t testing.TB, c iantv1.BulletinServiceClient, id string, rev uint32) *iantv1.GetBulletinResponse {
	t.Helper()
	return WaitGet(t, c, "", id, func(r *iantv1.GetBulletinResponse) bool {
		return r.GetBulletin().GetBulletin().GetRevision() == rev && r.GetBulletin().GetState() == iantv1.BulletinState_BULLETIN_STATE_ACTIVE
	})
}

// WaitRevoked waits until c's node holds only the tombstone of id.
func WaitRevoked(t testing.TB, c iantv1.BulletinServiceClient, id string) *iantv1.StoredBulletin {
	t.Helper()
	return WaitGet(t, c, "", id, func(r *iantv1.GetBulletinResponse) bool {
		return r.GetBulletin().GetState() == iantv1.BulletinState_BULLETIN_STATE_REVOKED
	}).GetBulletin()
}

// Redraft is a copy of draft with edit applied, for a revision.
func Redraft(draft *iantv1.Bulletin, edit func(*iantv1.Bulletin)) *iantv1.Bulletin {
	b := proto.Clone(draft).(*iantv1.Bulletin)
	edit(b)
	return b
}

// NodeDir is the data directory of state cc's node in nw.
func NodeDir(nw *testenv.Network, cc string) string {
	return filepath.Join(filepath.Dir(nw.PKI.Dir), "data", strings.ToLower(cc))
}

// FilesHolding lists the files under dir whose bytes contain marker,
// ignoring case.
func FilesHolding(t testing.TB, dir, marker string) []string {
	t.Helper()
	var out []string
	want := bytes.ToLower([]byte(marker))
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if bytes.Contains(bytes.ToLower(b), want) {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// WaitNoFileHolds polls until no file under dir holds marker (a node
// scrubs its files once a revocation is stored).
func WaitNoFileHolds(t testing.TB, dir, marker string) {
	t.Helper()
	deadline := time.Now().Add(Eventually)
	for {
		files := FilesHolding(t, dir, marker)
		if len(files) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("files under %s still hold %q: %v", dir, marker, files)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

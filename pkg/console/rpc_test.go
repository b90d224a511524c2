package console_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/testenv"
	"github.com/oas-cicte/iant/pkg/testenv/nettest"
)

// apiErr is the error body of the console.
type apiErr struct {
	Code, Message, Field, Rule string
}

func decodeErr(t *testing.T, body string) apiErr {
	t.Helper()
	var e apiErr
	if err := json.Unmarshal([]byte(body), &e); err != nil {
		t.Fatalf("error body %q: %v", body, err)
	}
	return e
}

// draftJSON is nettest.Draft as the console's pages send it.
func draftJSON(t *testing.T, title string, to ...string) string {
	t.Helper()
	b, err := protojson.Marshal(&iantv1.PostBulletinRequest{Bulletin: nettest.Draft(title, to...)})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestRPCBadInput(t *testing.T) {
	c := startConsoles(t)
	fp := login(t, c.fp)
	for _, tc := range []struct {
		name, method, path, body string
		want                     int
		code, field              string
	}{
		{"unknown method", "POST", "/api/rpc/DeleteEverything", "{}", 404, "NotFound", "method"},
		{"method not on the list", "POST", "/api/rpc/ExplainRead", "{}", 404, "NotFound", "method"},
		{"GET of a call", "GET", "/api/rpc/ListBulletins", "", 404, "NotFound", "path"},
		{"not JSON", "POST", "/api/rpc/ListBulletins", "{", 400, "InvalidArgument", "body"},
		{"not an object", "POST", "/api/rpc/ListBulletins", "[1]", 400, "InvalidArgument", "body"},
		{"unknown field", "POST", "/api/rpc/ListBulletins", `{"pageSize":1,"evil":true}`, 400, "InvalidArgument", "body"},
		{"wrong type", "POST", "/api/rpc/ListBulletins", `{"pageSize":"many"}`, 400, "InvalidArgument", "body"},
		{"unknown enum", "POST", "/api/rpc/ListBulletins", `{"filter":{"markings":["MARKING_PURPLE"]}}`, 400, "InvalidArgument", "body"},
		{"too large", "POST", "/api/rpc/PostBulletin", `{"bulletin":{"title":"` + strings.Repeat("x", 2<<20) + `"}}`, 413, "InvalidArgument", "body"},
		{"node refuses: no title, field named", "POST", "/api/rpc/PostBulletin", strings.Replace(draftJSON(t, "x", "US"), `"title":"x",`, "", 1), 400, "InvalidArgument", "title"},
		{"node refuses: bad releasability", "POST", "/api/rpc/PostBulletin", draftJSON(t, "t", "ZZ"), 400, "InvalidArgument", "releasability"},
		{"node refuses: no such bulletin", "POST", "/api/rpc/GetBulletin", `{"id":"01JZZZZZZZZZZZZZZZZZZZZZZZ"}`, 404, "NotFound", ""},
		{"token of the other order", "POST", "/api/rpc/ListBulletins", `{"newestFirst":true,"pageToken":"5"}`, 400, "InvalidArgument", "page_token"},
		{"bad events filter", "GET", "/api/events?filter=%7B", "", 400, "InvalidArgument", "filter"},
		{"events filter with unknown field", "GET", `/api/events?filter={"evil":1}`, "", 400, "InvalidArgument", "filter"},
		{"bad events cursor", "GET", "/api/events?after=-1", "", 400, "InvalidArgument", "filter"},
		{"verify: unknown field", "POST", "/api/verify", `{"evil":1}`, 400, "InvalidArgument", "body"},
		{"verify: two values", "POST", "/api/verify", `{}{}`, 400, "InvalidArgument", "body"},
		{"no such page", "GET", "/admin", "", 404, "NotFound", "path"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := fp.do(tc.method, tc.path, tc.body, nil)
			if resp.StatusCode != tc.want {
				t.Fatalf("%s %s = %s %s, want %d", tc.method, tc.path, resp.Status, body, tc.want)
			}
			if tc.code == "" {
				return
			}
			e := decodeErr(t, body)
			if e.Code != tc.code || !strings.HasPrefix(e.Field, tc.field) {
				t.Errorf("%s %s = %+v, want code %s field %s", tc.method, tc.path, e, tc.code, tc.field)
			}
		})
	}
}

func TestRPCEndpoints(t *testing.T) {
	c := startConsoles(t, "JM")
	fp, an := login(t, c.fp), login(t, c.an)
	usNode := nettest.Dial(t, c.nw, testenv.Analyst("US"))

	var posted iantv1.PostBulletinResponse
	if err := protojson.Unmarshal([]byte(fp.rpc(t, "PostBulletin", draftJSON(t, "Posted through the console", "US"))), &posted); err != nil {
		t.Fatal(err)
	}
	id := posted.GetBulletin().GetBulletin().GetId()
	nettest.WaitStored(t, usNode, id)
	ref := `{"id":"` + id + `","origin":"MX"}`

	t.Run("ListBulletins", func(t *testing.T) {
		if out := an.rpc(t, "ListBulletins", `{"filter":{"origins":["MX"]},"pageSize":10}`); !strings.Contains(out, id) {
			t.Errorf("ListBulletins = %s, want %s", out, id)
		}
	})
	t.Run("ListBulletins newest first", func(t *testing.T) {
		second := nettest.Post(t, nettest.Dial(t, c.nw, testenv.FocalPoint("MX")), nettest.Draft("The newer one", "US")).GetBulletin().GetId()
		nettest.WaitStored(t, usNode, second)
		var page iantv1.ListBulletinsResponse
		if err := protojson.Unmarshal([]byte(an.rpc(t, "ListBulletins", `{"newestFirst":true,"pageSize":1}`)), &page); err != nil {
			t.Fatal(err)
		}
		if len(page.GetBulletins()) != 1 || page.GetBulletins()[0].GetBulletin().GetId() != second || page.GetNextPageToken() == "" {
			t.Fatalf("ListBulletins(newest first, 1) = %v, want %s and a next page", &page, second)
		}
		next := an.rpc(t, "ListBulletins", `{"newestFirst":true,"pageSize":1,"pageToken":"`+page.GetNextPageToken()+`"}`)
		if !strings.Contains(next, id) {
			t.Errorf("ListBulletins(newest first, page 2) = %s, want %s", next, id)
		}
	})
	t.Run("ListReports", func(t *testing.T) {
		au := login(t, c.au)
		deadline := time.Now().Add(nettest.Eventually)
		for !strings.Contains(au.rpc(t, "ListReports", `{"pageSize":5}`), id) {
			if time.Now().After(deadline) {
				t.Fatalf("ListReports never listed %s", id)
			}
			time.Sleep(50 * time.Millisecond)
		}
		resp, body := au.do("POST", "/api/rpc/ListReports", `{"pageSize":1000}`, nil)
		if e := decodeErr(t, body); resp.StatusCode != http.StatusBadRequest || e.Field != "page_size" {
			t.Errorf("ListReports(page size 1000) = %s %+v, want 400 naming page_size", resp.Status, e)
		}
		resp, body = an.do("POST", "/api/rpc/ListReports", `{}`, nil)
		if resp.StatusCode == http.StatusOK {
			t.Errorf("ListReports by a state's analyst = %s, want a refusal", body)
		}
	})
	t.Run("GetBulletin", func(t *testing.T) {
		if out := an.rpc(t, "GetBulletin", `{"id":"`+id+`","origin":"MX","history":true}`); !strings.Contains(out, "Posted through the console") {
			t.Errorf("GetBulletin = %s", out)
		}
	})
	t.Run("SearchBulletins", func(t *testing.T) {
		out := an.rpc(t, "SearchBulletins", `{"query":"console"}`)
		if !strings.Contains(out, id) {
			t.Errorf("SearchBulletins = %s, want %s", out, id)
		}
	})
	usFP := login(t, startConsole(t, c.nw, testenv.FocalPoint("US")))
	t.Run("the node decides: an analyst may not acknowledge", func(t *testing.T) {
		resp, body := an.do("POST", "/api/rpc/AcknowledgeBulletin", ref, nil)
		if e := decodeErr(t, body); resp.StatusCode != http.StatusForbidden || e.Rule != "ack.role" {
			t.Errorf("AcknowledgeBulletin by an analyst = %s %+v, want 403 naming rule ack.role", resp.Status, e)
		}
	})
	t.Run("AcknowledgeBulletin", func(t *testing.T) {
		usFP.rpc(t, "AcknowledgeBulletin", ref)
		got := nettest.WaitGet(t, usNode, "MX", id, func(r *iantv1.GetBulletinResponse) bool { return r.GetBulletin().GetAcknowledgeTime() != nil })
		if by := got.GetBulletin().GetAcknowledgedBy(); !strings.Contains(by, "focal-point") {
			t.Errorf("acknowledged by %q, want the US focal point", by)
		}
	})
	t.Run("ReplyToBulletin", func(t *testing.T) {
		out := usFP.rpc(t, "ReplyToBulletin", `{"id":"`+id+`","origin":"MX","kind":"REPLY_KIND_NOTE","to":"REPLY_AUDIENCE_ORIGIN","title":"Note","body":"Seen at the border","marking":"MARKING_AMBER"}`)
		if !strings.Contains(out, `"reply"`) {
			t.Errorf("ReplyToBulletin = %s", out)
		}
	})
	t.Run("the node decides: an analyst may not revoke", func(t *testing.T) {
		resp, body := an.do("POST", "/api/rpc/RevokeBulletin", `{"id":"`+id+`","reason":"no"}`, nil)
		if resp.StatusCode == http.StatusOK {
			t.Fatalf("RevokeBulletin by the US analyst = %s, want a refusal", body)
		}
	})
	t.Run("ReviseBulletin", func(t *testing.T) {
		d := nettest.Draft("Revised through the console", "US")
		b, _ := protojson.Marshal(&iantv1.ReviseBulletinRequest{Id: id, Bulletin: d})
		fp.rpc(t, "ReviseBulletin", string(b))
		nettest.WaitRevision(t, usNode, id, 2)
	})
	t.Run("RequestForwardConsent, ListConsentRequests, DecideConsent", func(t *testing.T) {
		// The US focal point asks MX's consent to forward to JM; MX's
		// focal point sees the request and grants it.
		var req iantv1.RequestForwardConsentResponse
		out := usFP.rpc(t, "RequestForwardConsent", `{"id":"`+id+`","origin":"MX","targetState":"JM","reason":"regional threat"}`)
		if err := protojson.Unmarshal([]byte(out), &req); err != nil {
			t.Fatal(err)
		}
		rid := req.GetRequest().GetId()
		deadline := time.Now().Add(nettest.Eventually)
		for !strings.Contains(fp.rpc(t, "ListConsentRequests", `{}`), rid) {
			if time.Now().After(deadline) {
				t.Fatalf("consent request %s never reached MX", rid)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if out := fp.rpc(t, "DecideConsent", `{"requestId":"`+rid+`","decision":"CONSENT_DECISION_GRANTED","reason":"agreed"}`); !strings.Contains(out, "CONSENT_DECISION_GRANTED") {
			t.Errorf("DecideConsent = %s", out)
		}
	})
	t.Run("ForwardBulletin", func(t *testing.T) {
		resp, body := usFP.do("POST", "/api/rpc/ForwardBulletin", `{"id":"`+id+`","origin":"MX","targetState":"MX"}`, nil)
		if e := decodeErr(t, body); resp.StatusCode != http.StatusBadRequest || e.Field != "target_state" {
			t.Errorf("ForwardBulletin back to its origin = %s %+v, want 400 naming target_state", resp.Status, e)
		}
	})
	t.Run("RevokeBulletin", func(t *testing.T) {
		fp.rpc(t, "RevokeBulletin", `{"id":"`+id+`","reason":"withdrawn"}`)
		nettest.WaitRevoked(t, usNode, id)
	})
	t.Run("me", func(t *testing.T) {
		_, body := an.do("GET", "/api/me", "", nil)
		var me struct {
			Person, Role, State string
			Regions             []struct{ States []struct{ Code string } }
		}
		if err := json.Unmarshal([]byte(body), &me); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range me.Regions {
			n += len(r.States)
		}
		if me.Role != "analyst" || me.State != "US" || n != 35 {
			t.Errorf("/api/me = %+v (%d states), want the US analyst and 35 states", me, n)
		}
	})
	t.Run("pages", func(t *testing.T) {
		for _, p := range []string{"/", "/bulletin?id=" + id, "/post", "/secretariat", "/static/i18n.js"} {
			resp, body := an.do("GET", p, "", nil)
			if resp.StatusCode != http.StatusOK || len(body) == 0 {
				t.Errorf("GET %s = %s", p, resp.Status)
			}
		}
	})
}

func TestEventsStream(t *testing.T) {
	c := startConsoles(t)
	an := login(t, c.an)
	ctx, cancel := context.WithTimeout(t.Context(), nettest.Eventually)
	defer cancel()
	filter := `{"precedences":["PRECEDENCE_FLASH"]}`
	req, _ := http.NewRequestWithContext(ctx, "GET", c.an.BaseURL()+"/api/events?key="+an.key+"&filter="+filter, nil)
	resp, err := an.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("GET /api/events = %s %s", resp.Status, resp.Header.Get("Content-Type"))
	}
	stream := &sse{r: bufioReader(resp)}
	mx := nettest.Dial(t, c.nw, testenv.FocalPoint("MX"))
	routine := nettest.Draft("Routine, filtered out", "US")
	routine.Precedence = iantv1.Precedence_PRECEDENCE_ROUTINE
	nettest.Post(t, mx, routine)
	flash := nettest.Post(t, mx, nettest.Draft("A FLASH through the stream", "US"))
	var ev iantv1.SubscribeResponse
	if err := protojson.Unmarshal([]byte(stream.next(t, "bulletin")), &ev); err != nil {
		t.Fatal(err)
	}
	if got := ev.GetBulletin().GetBulletin(); got.GetId() != flash.GetBulletin().GetId() || got.GetTitle() != "A FLASH through the stream" {
		t.Errorf("first event = %v, want the FLASH bulletin (the routine one is filtered out)", got)
	}
	if ev.GetKind() != iantv1.MessageKind_MESSAGE_KIND_BULLETIN {
		t.Errorf("event kind = %v, want MESSAGE_KIND_BULLETIN", ev.GetKind())
	}
}

func TestVerify(t *testing.T) {
	c := startConsoles(t)
	au := login(t, c.au)
	mx := nettest.Dial(t, c.nw, testenv.FocalPoint("MX"))
	type result struct {
		OK               bool
		Message          string
		OldSize, NewSize uint64
		Entries          int
		FirstSeen        bool
	}
	verify := func(body string) result {
		t.Helper()
		resp, out := au.do("POST", "/api/verify", body, nil)
		var r result
		if resp.StatusCode != http.StatusOK || json.Unmarshal([]byte(out), &r) != nil {
			t.Fatalf("POST /api/verify = %s %s", resp.Status, out)
		}
		return r
	}
	first := verify("{}")
	if !first.OK || !first.FirstSeen {
		t.Fatalf("first verify = %+v, want ok and first seen", first)
	}
	b := nettest.Post(t, mx, nettest.Draft("Logged", "US"))
	id := b.GetBulletin().GetId()
	nettest.WaitReport(t, nettest.AuditClient(t, c.nw, testenv.Auditor()), id, func(r *iantv1.BulletinReport) bool {
		return nettest.Recipient(r, "US").GetDeliverTime() != nil
	})
	second := verify(`{"bulletinId":"` + id + `","origin":"MX"}`)
	if !second.OK || second.OldSize != first.NewSize || second.NewSize <= first.NewSize || second.Entries == 0 {
		t.Errorf("second verify = %+v, want ok, grown from %d, with the bulletin's entries", second, first.NewSize)
	}
	t.Run("report and overdue through the console", func(t *testing.T) {
		if out := au.rpc(t, "GetBulletinReport", `{"id":"`+id+`","origin":"MX"}`); !strings.Contains(out, `"US"`) {
			t.Errorf("GetBulletinReport = %s", out)
		}
		au.rpc(t, "ListOverdue", "{}")
		au.rpc(t, "GetStats", `{"startTime":"2020-01-01T00:00:00Z"}`)
	})
	t.Run("stats through the console: histograms by precedence, bad input named", func(t *testing.T) {
		var st iantv1.GetStatsResponse
		if err := protojson.Unmarshal([]byte(au.rpc(t, "GetStats", `{"startTime":"2020-01-01T00:00:00Z","precedences":["PRECEDENCE_FLASH"]}`)), &st); err != nil {
			t.Fatal(err)
		}
		if len(st.GetBucketBounds()) != 9 || len(st.GetStates()) != 1 || st.GetStates()[0].GetState() != "US" || len(st.GetStates()[0].GetPrecedences()) != 1 {
			t.Fatalf("GetStats(FLASH) = %v, want 9 bounds and US's FLASH row", &st)
		}
		flash := st.GetStates()[0].GetPrecedences()[0]
		var sum int64
		for _, n := range flash.GetDelivery().GetBucketCounts() {
			sum += n
		}
		if flash.GetPrecedence() != iantv1.Precedence_PRECEDENCE_FLASH || flash.GetReleased() != 1 || flash.GetDelivery().GetCount() != 1 || sum != 1 ||
			len(flash.GetDelivery().GetBucketCounts()) != 10 {
			t.Errorf("US FLASH = %v, want the one delivered bulletin in one of 10 buckets", flash)
		}
		fp := login(t, c.fp)
		for _, tc := range []struct {
			name   string
			b      *browser
			body   string
			status int
			code   string
			field  string // or rule
		}{
			{"precedence not of the enum", au, `{"startTime":"2020-01-01T00:00:00Z","precedences":["PRECEDENCE_PURPLE"]}`, 400, "InvalidArgument", "body"},
			{"precedence unspecified", au, `{"startTime":"2020-01-01T00:00:00Z","precedences":["PRECEDENCE_FLASH","PRECEDENCE_UNSPECIFIED"]}`, 400, "InvalidArgument", "precedences[1]"},
			{"precedence by an unknown number", au, `{"startTime":"2020-01-01T00:00:00Z","precedences":[9]}`, 400, "InvalidArgument", "precedences[0]"},
			{"no start", au, `{"precedences":["PRECEDENCE_FLASH"]}`, 400, "InvalidArgument", "start_time"},
			// A state's console speaks to its own node, which serves no
			// AuditService (the secretariat refuses a focal point's
			// GetStats too: secretariat.TestGetStatsByPrecedence).
			{"a focal point's console", fp, `{"startTime":"2020-01-01T00:00:00Z"}`, 501, "Unimplemented", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				resp, out := tc.b.do("POST", "/api/rpc/GetStats", tc.body, nil)
				if resp.StatusCode != tc.status {
					t.Fatalf("GetStats(%s) = %s %s, want %d", tc.body, resp.Status, out, tc.status)
				}
				if e := decodeErr(t, out); e.Code != tc.code || e.Field+e.Rule != tc.field {
					t.Errorf("GetStats(%s) = %+v, want %s naming %s", tc.body, e, tc.code, tc.field)
				}
			})
		}
	})
	t.Run("escalations stream opens", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, "GET", c.au.BaseURL()+"/api/escalations", nil)
		req.Header.Set(keyHeader, au.key)
		resp, err := au.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Errorf("GET /api/escalations = %s %s", resp.Status, resp.Header.Get("Content-Type"))
		}
	})
}

package console

import (
	"testing"
)

// FuzzDecodeRequest feeds request bodies of every kind to the decoder of
// the node calls: it returns a message or an error, never panics.
func FuzzDecodeRequest(f *testing.F) {
	f.Add("PostBulletin", []byte(`{"bulletin":{"title":"t","releasability":{"states":["US"]}}}`))
	f.Add("ListBulletins", []byte(`{"filter":{"markings":["MARKING_RED"]},"pageSize":5}`))
	f.Add("GetBulletin", []byte(`{"id":"01J","history":true}`))
	f.Add("ReplyToBulletin", []byte(`{"kind":"REPLY_KIND_SIGHTING","sighting":{"seenTime":"2026-01-01T00:00:00Z"}}`))
	f.Add("GetStats", []byte(`{"startTime":"x"}`))
	f.Add("ListBulletins", []byte(`{"pageSize":1e99}`))
	f.Add("PostBulletin", []byte("\xff\xfe"))
	f.Fuzz(func(t *testing.T, name string, body []byte) {
		m, ok := methods[name]
		if !ok {
			m = methods["PostBulletin"]
		}
		req, err := decodeRequest(m, body)
		if err == nil && req == nil {
			t.Fatalf("decodeRequest(%q) = nil, nil", body)
		}
	})
}

// FuzzParseEventsQuery feeds /api/events' query values to its parser.
func FuzzParseEventsQuery(f *testing.F) {
	f.Add(`{"precedences":["PRECEDENCE_FLASH"]}`, "12", "")
	f.Add(`{"origins":["MX"],"regions":["REGION_CARIBBEAN"]}`, "", "7")
	f.Add("{", "-1", "x")
	f.Add(`{"since":"2026-13-01T00:00:00Z"}`, "18446744073709551616", "")
	f.Fuzz(func(t *testing.T, filter, after, lastID string) {
		req, err := parseEventsQuery(filter, after, lastID)
		if err == nil && (req == nil || req.GetFilter() == nil) {
			t.Fatalf("parseEventsQuery(%q, %q, %q) = %v, nil", filter, after, lastID, req)
		}
	})
}

// FuzzDecodeVerifyRequest feeds /api/verify bodies to its decoder.
func FuzzDecodeVerifyRequest(f *testing.F) {
	f.Add([]byte(`{"bulletinId":"01J","origin":"MX"}`))
	f.Add([]byte(`{}{}`))
	f.Add([]byte(`{"evil":1}`))
	f.Add([]byte(` `))
	f.Fuzz(func(t *testing.T, body []byte) {
		req, err := decodeVerifyRequest(body)
		if err == nil && (len(req.BulletinID) > 64 || len(req.Origin) > 8) {
			t.Fatalf("decodeVerifyRequest(%q) accepted %+v", body, req)
		}
	})
}

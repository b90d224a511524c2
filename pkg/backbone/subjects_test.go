package backbone_test

import (
	"errors"
	"testing"

	"github.com/oas-cicte/iant/pkg/backbone"
)

func TestInboxSubject(t *testing.T) {
	tests := []struct {
		name                  string
		recipient, origin, id string
		want                  string
	}{
		{"ulid", "CA", "MX", "01JBULLETIN0000000000000001", "iant.inbox.CA.MX.01JBULLETIN0000000000000001"},
		{"to self", "MX", "MX", "x", "iant.inbox.MX.MX.x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := backbone.InboxSubject(tt.recipient, tt.origin, tt.id)
			if got != tt.want {
				t.Fatalf("InboxSubject(%q, %q, %q) = %q, want %q", tt.recipient, tt.origin, tt.id, got, tt.want)
			}
			r, o, id, err := backbone.ParseInboxSubject(got)
			if err != nil || r != tt.recipient || o != tt.origin || id != tt.id {
				t.Errorf("ParseInboxSubject(%q) = %q, %q, %q, %v; want %q, %q, %q, nil", got, r, o, id, err, tt.recipient, tt.origin, tt.id)
			}
		})
	}
}

func TestParseInboxSubjectErrors(t *testing.T) {
	for _, subj := range []string{
		"", "iant.inbox", "iant.inbox.CA.MX", "iant.inbox.CA.MX.x.y", "iant.receipt.CA.MX.x",
		"iant.inbox.CA..x", "iant.inbox.*.MX.x", "iant.inbox.CA.MX.>", "iant.inbox.CA.MX.a b", "iant.inbox.CA.MX.$x",
		"xiant.inbox.CA.MX.x",
	} {
		if _, _, _, err := backbone.ParseInboxSubject(subj); !errors.Is(err, backbone.ErrInvalidSubject) {
			t.Errorf("ParseInboxSubject(%q) error = %v, want ErrInvalidSubject", subj, err)
		}
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		name, got, want string
	}{
		{"InboxConsumer(MX)", backbone.InboxConsumer("MX"), "inbox-MX"},
		{"ReplyPrefix(MX)", backbone.ReplyPrefix("MX"), "_INBOX_MX"},
		{"ReplyPrefix(secretariat)", backbone.ReplyPrefix(""), "_INBOX_SECRETARIAT"},
		{"InboxStream", backbone.InboxStream, "IANT_INBOX"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s = %q, want %q", tt.name, tt.got, tt.want)
		}
	}
}

func FuzzParseInboxSubject(f *testing.F) {
	f.Add("iant.inbox.CA.MX.01JBULLETIN0000000000000001")
	f.Add("iant.inbox.CA.MX.a.b")
	f.Add("iant.inbox...")
	f.Fuzz(func(t *testing.T, subj string) {
		r, o, id, err := backbone.ParseInboxSubject(subj)
		if err != nil {
			return
		}
		if got := backbone.InboxSubject(r, o, id); got != subj {
			t.Errorf("InboxSubject(ParseInboxSubject(%q)) = %q", subj, got)
		}
	})
}

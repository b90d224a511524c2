package audit

import (
	"errors"
	"testing"
	"time"

	"github.com/spiffe/go-spiffe/v2/bundle/x509bundle"

	"github.com/oas-cicte/iant/pkg/identity"
	"github.com/oas-cicte/iant/pkg/identity/identitytest"
)

// TestChainCacheBounds: a chain taken from the cache is still refused
// outside its certificates' validity and against another trust bundle; a
// chain that does not verify is not kept; Reset forgets; a full cache
// starts afresh.
func TestChainCacheBounds(t *testing.T) {
	t.Parallel()
	ca := identitytest.NewCA(t, "iant.test")
	other := identitytest.NewCA(t, "iant.test")
	svid := ca.SVID(t, identity.Principal{State: "CA", Role: identity.RoleNode, Name: "main"})
	data, err := SignReceipt(testEvent(EventDelivered, "CA", svid.ID.String()), Evidence{}, svid)
	if err != nil {
		t.Fatal(err)
	}
	leaf := svid.Certificates[0]
	both := x509bundle.New(ca.TD)
	for _, c := range append(ca.Bundle().X509Authorities(), other.Bundle().X509Authorities()...) {
		both.AddX509Authority(c)
	}
	cache := NewChainCache(0)
	if _, err := cache.VerifyReceipt(data, ca.Bundle(), ca.TD, "CA", time.Now()); err != nil || cache.Len() != 1 {
		t.Fatalf("VerifyReceipt() = %v, cache holds %d; want nil and 1", err, cache.Len())
	}
	tests := []struct {
		name     string
		bundle   x509bundle.Source
		at       time.Time
		wantRule string
	}{
		{"again", ca.Bundle(), time.Now(), ""},
		{"after the leaf's NotAfter", ca.Bundle(), leaf.NotAfter.Add(time.Second), "receipt.chain"},
		{"before the leaf's NotBefore", ca.Bundle(), leaf.NotBefore.Add(-time.Second), "receipt.chain"},
		{"another trust bundle", other.Bundle(), time.Now(), "receipt.chain"},
		{"a bundle with one more anchor", both, time.Now(), ""},
		{"the first bundle again", ca.Bundle(), time.Now(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := cache.VerifyReceipt(data, tt.bundle, ca.TD, "CA", tt.at)
			var re *ReceiptError
			switch {
			case tt.wantRule == "" && err != nil:
				t.Errorf("VerifyReceipt() = %v, want nil", err)
			case tt.wantRule != "" && (!errors.As(err, &re) || re.Rule != tt.wantRule):
				t.Errorf("VerifyReceipt() = %v, want rule %s", err, tt.wantRule)
			}
		})
	}
	cache.Reset()
	if cache.Len() != 0 {
		t.Errorf("after Reset the cache holds %d chains", cache.Len())
	}
	bad, err := SignReceipt(testEvent(EventDelivered, "CA", svid.ID.String()), Evidence{}, other.SVID(t, identity.Principal{State: "CA", Role: identity.RoleNode, Name: "main"}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cache.VerifyReceipt(bad, ca.Bundle(), ca.TD, "CA", time.Now()); err == nil || cache.Len() != 0 {
		t.Errorf("VerifyReceipt(another CA's chain) = %v, cache holds %d; want refused, none kept", err, cache.Len())
	}
	small := NewChainCache(1)
	for _, d := range [][]byte{data, data} {
		if _, err := small.VerifyReceipt(d, ca.Bundle(), ca.TD, "CA", time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	mx := ca.SVID(t, identity.Principal{State: "MX", Role: identity.RoleNode, Name: "main"})
	other2, err := SignReceipt(testEvent(EventDelivered, "MX", mx.ID.String()), Evidence{}, mx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := small.VerifyReceipt(other2, ca.Bundle(), ca.TD, "MX", time.Now()); err != nil || small.Len() != 1 {
		t.Errorf("a full cache of 1 after another chain: %v, holds %d; want nil, 1", err, small.Len())
	}
}

package statenode

import (
	"crypto/sha256"
	"fmt"

	"google.golang.org/protobuf/proto"

	iantv1 "github.com/oas-cicte/iant/api/iant/v1"
	"github.com/oas-cicte/iant/pkg/problem"
	"github.com/oas-cicte/iant/pkg/store"
)

// MaxIdempotencyKeyLen is the longest idempotency key a post may carry.
const MaxIdempotencyKeyLen = 64

// checkIdempotencyKey accepts 1 to [MaxIdempotencyKeyLen] printable ASCII
// characters (space to '~'). The key is never echoed back: it is the
// client's, and a bad one may hold anything.
func checkIdempotencyKey(k string) error {
	switch {
	case k == "":
		return problem.Invalid("idempotency_key", "idempotency key is empty")
	case len(k) > MaxIdempotencyKeyLen:
		return problem.Invalid("idempotency_key", "idempotency key is %d bytes, at most %d", len(k), MaxIdempotencyKeyLen)
	}
	for i := 0; i < len(k); i++ {
		if c := k[i]; c < ' ' || c > '~' {
			return problem.Invalid("idempotency_key", "idempotency key byte %d is not printable ASCII (space to '~')", i)
		}
	}
	return nil
}

// postKey returns the idempotency key of req by author, nil when the
// request carries none. The draft is identified by the SHA-256 of its
// deterministic encoding: a retry must send the same draft.
func postKey(author string, req *iantv1.PostBulletinRequest) (*store.PostKey, error) {
	k := req.GetIdempotencyKey()
	if k == "" {
		return nil, nil
	}
	if err := checkIdempotencyKey(k); err != nil {
		return nil, err
	}
	draft, err := proto.MarshalOptions{Deterministic: true}.Marshal(req.GetBulletin())
	if err != nil {
		return nil, problem.Internal(fmt.Errorf("encode draft: %w", err))
	}
	return &store.PostKey{Author: author, Key: k, DraftHash: sha256.Sum256(draft)}, nil
}

package audit

import (
	"context"
	"fmt"
	"strings"

	"github.com/transparency-dev/merkle/compact"
	"github.com/transparency-dev/merkle/proof"
)

// nodeHashes reads the stored hashes of ids, in order, in one statement.
// Every id must be the root of a perfect subtree inside the committed tree:
// those are the only nodes stored, and the only ones RFC 6962 proofs ask
// for (the one ephemeral node a proof may need is rebuilt by
// proof.Nodes.Rehash). A compact range or a proof has at most 128 ids.
func nodeHashes(ctx context.Context, q querier, ids []compact.NodeID) ([][]byte, error) {
	if len(ids) == 0 {
		return [][]byte{}, nil
	}
	var b strings.Builder
	b.WriteString(`WITH want(level, idx) AS (VALUES `)
	args := make([]any, 0, 2*len(ids))
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?)")
		args = append(args, int64(id.Level), int64(id.Index))
	}
	b.WriteString(`) SELECT n.level, n.idx, n.hash FROM want JOIN nodes n ON n.level = want.level AND n.idx = want.idx`)
	rows, err := q.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, fmt.Errorf("read tree nodes: %w", err)
	}
	defer rows.Close()
	found := make(map[compact.NodeID][]byte, len(ids))
	for rows.Next() {
		var level, idx int64
		var h []byte
		if err := rows.Scan(&level, &idx, &h); err != nil {
			return nil, fmt.Errorf("read tree node: %w", err)
		}
		found[compact.NewNodeID(uint(level), uint64(idx))] = h
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read tree nodes: %w", err)
	}
	out := make([][]byte, len(ids))
	for i, id := range ids {
		if out[i] = found[id]; out[i] == nil {
			return nil, fmt.Errorf("tree node (%d, %d) is missing", id.Level, id.Index)
		}
	}
	return out, nil
}

// InclusionProof returns the RFC 6962 §2.1.1 audit path proving that the
// entry at index is in the tree of the given size, for [VerifyInclusion].
// It needs index < size <= Size(); otherwise the error is a
// *problem.Error wrapping [ErrRange].
func (l *Log) InclusionProof(ctx context.Context, index, size uint64) ([][]byte, error) {
	p, err := l.inclusionProof(ctx, index, size)
	if err != nil {
		return nil, fmt.Errorf("audit: inclusion proof for %d in tree of size %d: %w", index, size, err)
	}
	return p, nil
}

func (l *Log) inclusionProof(ctx context.Context, index, size uint64) ([][]byte, error) {
	leave, err := l.enter()
	if err != nil {
		return nil, err
	}
	defer leave()
	switch have := l.Size(); {
	case size > have:
		return nil, outOfRange("size", "tree size %d is beyond the log's %d", size, have)
	case index >= size:
		return nil, outOfRange("index", "index %d is not in a tree of size %d", index, size)
	}
	nodes, err := proof.Inclusion(index, size)
	if err != nil {
		return nil, err
	}
	return l.rehash(ctx, nodes)
}

// ConsistencyProof returns the RFC 6962 §2.1.2 proof that the tree of size1
// is a prefix of the tree of size2, for [VerifyConsistency]. It needs
// size1 <= size2 <= Size(); otherwise the error is a *problem.Error
// wrapping [ErrRange]. The proof for size1 = 0 or size1 = size2 is empty.
func (l *Log) ConsistencyProof(ctx context.Context, size1, size2 uint64) ([][]byte, error) {
	p, err := l.consistencyProof(ctx, size1, size2)
	if err != nil {
		return nil, fmt.Errorf("audit: consistency proof from size %d to %d: %w", size1, size2, err)
	}
	return p, nil
}

func (l *Log) consistencyProof(ctx context.Context, size1, size2 uint64) ([][]byte, error) {
	leave, err := l.enter()
	if err != nil {
		return nil, err
	}
	defer leave()
	switch have := l.Size(); {
	case size2 > have:
		return nil, outOfRange("size2", "tree size %d is beyond the log's %d", size2, have)
	case size1 > size2:
		return nil, outOfRange("size1", "tree size %d is larger than %d", size1, size2)
	case size1 == 0 || size1 == size2:
		return [][]byte{}, nil
	}
	nodes, err := proof.Consistency(size1, size2)
	if err != nil {
		return nil, err
	}
	return l.rehash(ctx, nodes)
}

// rehash reads the nodes a proof needs and folds them into the proof.
func (l *Log) rehash(ctx context.Context, nodes proof.Nodes) ([][]byte, error) {
	hashes, err := nodeHashes(ctx, l.pool(), nodes.IDs)
	if err != nil {
		return nil, err
	}
	return nodes.Rehash(hashes, hasher.HashChildren)
}

// RootAt returns the root hash of the tree of the given size, which must
// not exceed Size() (else a *problem.Error wrapping [ErrRange]). With
// [Log.ConsistencyProof] it lets a caller answer for an older checkpoint.
func (l *Log) RootAt(ctx context.Context, size uint64) ([]byte, error) {
	root, err := l.rootAt(ctx, size)
	if err != nil {
		return nil, fmt.Errorf("audit: root at size %d: %w", size, err)
	}
	return root, nil
}

func (l *Log) rootAt(ctx context.Context, size uint64) ([]byte, error) {
	leave, err := l.enter()
	if err != nil {
		return nil, err
	}
	defer leave()
	if have := l.Size(); size > have {
		return nil, outOfRange("size", "tree size %d is beyond the log's %d", size, have)
	}
	hashes, err := nodeHashes(ctx, l.pool(), compact.RangeNodes(0, size, nil))
	if err != nil {
		return nil, err
	}
	rng, err := rangeFactory.NewRange(0, size, hashes)
	if err != nil {
		return nil, err
	}
	return rootOf(rng)
}

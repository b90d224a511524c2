package audit_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/audit"
	"github.com/oas-cicte/iant/pkg/bulletin"
)

// benchSize is the log size the issue asks benchmarks at.
const benchSize = 100_000

// bigLog returns a log of n entries, appended in batches.
func bigLog(b *testing.B, n int) *audit.Log {
	b.Helper()
	lg, _, _ := openLog(b)
	const batch = 1000
	for start := 0; start < n; start += batch {
		events := make([]audit.Event, min(batch, n-start))
		for i := range events {
			events[i] = nthEvent(start + i)
		}
		if _, err := lg.AppendAll(context.Background(), events); err != nil {
			b.Fatal(err)
		}
	}
	return lg
}

// BenchmarkAppend measures one durable append of the log's own event (an
// SVID signature, a WAL commit with fsync, the leaf, its tree nodes and
// the report indexes) to a log of 100k entries.
func BenchmarkAppend(b *testing.B) {
	lg := bigLog(b, benchSize)
	ctx := context.Background()
	i := benchSize
	for b.Loop() {
		if _, err := lg.Append(ctx, nthEvent(i)); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkAppendAll measures appending a batch of 100 events in one
// transaction, per event.
func BenchmarkAppendAll(b *testing.B) {
	lg := bigLog(b, benchSize)
	ctx := context.Background()
	i := benchSize
	events := make([]audit.Event, 100)
	for b.Loop() {
		for j := range events {
			events[j] = nthEvent(i)
			i++
		}
		if _, err := lg.AppendAll(ctx, events); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(i-benchSize), "ns/event")
}

// BenchmarkInclusionProof measures producing an inclusion proof in a tree
// of 100k entries, and verifying it.
func BenchmarkInclusionProof(b *testing.B) {
	lg := bigLog(b, benchSize)
	ctx := context.Background()
	cp := audit.Checkpoint{Origin: lg.Origin(), Size: lg.Size(), Root: lg.Root()}
	_, leaf, err := lg.Entry(ctx, 4242)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("produce", func(b *testing.B) {
		i := uint64(0)
		for b.Loop() {
			if _, err := lg.InclusionProof(ctx, i%benchSize, benchSize); err != nil {
				b.Fatal(err)
			}
			i += 7919
		}
	})
	p, err := lg.InclusionProof(ctx, 4242, benchSize)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("verify", func(b *testing.B) {
		for b.Loop() {
			if err := audit.VerifyInclusion(cp, 4242, leaf, p); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkConsistencyProof measures consistency proofs into a tree of
// 100k entries from a few older sizes.
func BenchmarkConsistencyProof(b *testing.B) {
	lg := bigLog(b, benchSize)
	ctx := context.Background()
	for _, size1 := range []uint64{1, 60_000, 99_999} {
		b.Run(fmt.Sprint(size1), func(b *testing.B) {
			for b.Loop() {
				if _, err := lg.ConsistencyProof(ctx, size1, benchSize); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyLog measures recomputing the tree over a full dump of
// 100k entries against one checkpoint.
func BenchmarkVerifyLog(b *testing.B) {
	lg := bigLog(b, benchSize)
	ctx := context.Background()
	var dump [][]byte
	for start := uint64(0); start < benchSize; start += audit.MaxEntries {
		part, err := lg.Entries(ctx, start, min(start+audit.MaxEntries, benchSize))
		if err != nil {
			b.Fatal(err)
		}
		dump = append(dump, part...)
	}
	cp := audit.Checkpoint{Origin: lg.Origin(), Size: lg.Size(), Root: lg.Root()}
	for b.Loop() {
		if err := audit.VerifyLog(ctx, dump, cp); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReport measures a bulletin report in a log of 100k entries:
// 50k bulletins, each posted (with its signed header) and delivered.
func BenchmarkReport(b *testing.B) {
	f := newFixture(b)
	ctx := context.Background()
	const batch = 500
	for start := 0; start < benchSize/2; start += batch {
		subs := make([]audit.Submission, 0, 2*batch)
		for i := start; i < start+batch; i++ {
			id := fmt.Sprintf("01JBENCH%018d", i)
			h := header(id, bulletin.Flash, t0, "BR")
			subs = append(subs, f.submission(posted(id, bulletin.Flash, t0), h, nil),
				f.submission(delivered(id, "BR", t0.Add(time.Second)), nil, nil))
		}
		f.submit(subs...)
	}
	id := fmt.Sprintf("01JBENCH%018d", 35_000)
	for b.Loop() {
		if _, err := f.lg.Report(ctx, "MX", id); err != nil {
			b.Fatal(err)
		}
	}
}

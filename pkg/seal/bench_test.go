package seal_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/oas-cicte/iant/pkg/region"
	"github.com/oas-cicte/iant/pkg/seal"
)

// benchNetwork has a node for every member state.
func benchNetwork(b *testing.B) (*network, []string) {
	b.Helper()
	codes := region.Codes()
	return newNetwork(b, codes...), codes
}

func BenchmarkSeal(b *testing.B) {
	n, codes := benchNetwork(b)
	pt := make([]byte, 2<<10)
	for _, k := range []int{1, 6, 35} {
		to := n.public(codes[:k]...)
		b.Run(fmt.Sprintf("recipients=%d", k), func(b *testing.B) {
			b.ReportAllocs()
			var s *seal.Sealed
			for b.Loop() {
				var err error
				if s, err = seal.Seal(n.header("MX"), pt, to, n.keys["MX"]); err != nil {
					b.Fatal(err)
				}
			}
			reportSize(b, s)
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	n, codes := benchNetwork(b)
	pt := make([]byte, 2<<10)
	for _, k := range []int{1, 6, 35} {
		s, err := seal.Seal(n.header("MX"), pt, n.public(codes[:k]...), n.keys["MX"])
		if err != nil {
			b.Fatal(err)
		}
		self := codes[k-1]
		b.Run(fmt.Sprintf("recipients=%d", k), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := n.open(s, self); err != nil {
					b.Fatal(err)
				}
			}
			reportSize(b, s)
		})
	}
}

func BenchmarkUnmarshal(b *testing.B) {
	n, codes := benchNetwork(b)
	s, err := seal.Seal(n.header("MX"), make([]byte, 2<<10), n.public(codes...), n.keys["MX"])
	if err != nil {
		b.Fatal(err)
	}
	data, err := s.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, err := seal.Unmarshal(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyEntry(b *testing.B) {
	n := newNetwork(b)
	k, err := seal.GenerateNodeKeys("MX")
	if err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	signed, err := seal.SignEntry(k.Entry(n.nodeID("MX"), now, now.Add(time.Hour), 1), n.svid(b, "MX"))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := seal.VerifyEntry(signed, n.ca.Bundle(), n.ca.TD, now); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(signed)), "entry-bytes")
}

func reportSize(b *testing.B, s *seal.Sealed) {
	data, err := s.Marshal()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(len(data)), "sealed-bytes")
}

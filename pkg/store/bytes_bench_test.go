package store_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/oas-cicte/iant/pkg/store"
)

// writeBytes returns the bytes this process caused to be written to
// storage (Linux /proc/self/io write_bytes), or -1 where unknown.
func writeBytes() int64 {
	data, err := os.ReadFile("/proc/self/io")
	if err != nil {
		return -1
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "write_bytes:"); ok {
			n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			return n
		}
	}
	return -1
}

// BenchmarkDeliveryBytes measures what one delivery costs a recipient's
// store, as the node does it: the received copy (6.5 KB, a broadcast's)
// stored with its "delivered" receipt, the analyst's "read" receipt
// queued, and both receipts marked published. It reports the bytes
// written to storage per delivery (wbytes/op), WAL and checkpoints
// included.
func BenchmarkDeliveryBytes(b *testing.B) {
	st, _ := openStore(b)
	ctx := context.Background()
	copyData := make([]byte, 6500)
	rand.Read(copyData)
	header := make([]byte, 1500)
	rand.Read(header)
	event := make([]byte, 400)
	rand.Read(event)
	i := 0
	w0 := writeBytes()
	for b.Loop() {
		i++
		id := fmt.Sprintf("01JBYTES%08d", i)
		delivered := store.Receipt{ID: "delivered-" + id, Event: event, Header: header}
		// store.Apply is what a node stores a received copy with.
		if _, err := st.Apply(ctx, store.Change{Bulletin: sample(id), Direction: store.Received, At: t0,
			Delivery: store.Delivery{Copy: copyData}, Receipts: []store.Receipt{delivered}}); err != nil {
			b.Fatal(err)
		}
		read := store.Receipt{ID: "read-" + id, Event: event}
		if _, err := st.QueueReceipts(ctx, []store.Receipt{read}, t0); err != nil {
			b.Fatal(err)
		}
		if err := st.MarkReceiptsSent(ctx, []string{delivered.ID, read.ID}, t0); err != nil {
			b.Fatal(err)
		}
	}
	if w0 >= 0 {
		b.ReportMetric(float64(writeBytes()-w0)/float64(i), "wbytes/op")
	}
}

package taxii

import "testing"

// SetScanBudget makes a listing request ask the source for batch stored
// bulletins at a time and answer, with more and next, once it has looked
// at budget bulletins the reader may read without filling its page, until
// t ends. Call it before any server runs: no test of this package runs in
// parallel.
func SetScanBudget(t testing.TB, batch, budget int) {
	oldBatch, oldBudget := scanBatch, scanBudget
	scanBatch, scanBudget = batch, budget
	t.Cleanup(func() { scanBatch, scanBudget = oldBatch, oldBudget })
}

package statenode

import "sync"

// hub wakes subscriptions when the store gains records. Waiters take the
// current channel before they query the store, so no insert is missed
// between the query and the wait.
type hub struct {
	mu sync.Mutex
	ch chan struct{}
}

func newHub() *hub { return &hub{ch: make(chan struct{})} }

// changed returns a channel closed at the next notify.
func (h *hub) changed() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.ch
}

// notify wakes every waiter.
func (h *hub) notify() {
	h.mu.Lock()
	defer h.mu.Unlock()
	close(h.ch)
	h.ch = make(chan struct{})
}

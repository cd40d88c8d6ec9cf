package importer

import (
	"context"
	"sync"
)

// scheduler hands contact details to the workers so that the details of one client account
// go to Plannr in file order, one at a time — when a client has two primary rows of a type,
// the later one wins, as it would by hand — while any free worker can take any account's
// next detail: no account's backlog holds up the others (head-of-line blocking).
//
// Each account has a FIFO queue of its pending tasks. A task is ready when it is at the head
// of the queue of every account it belongs to (a joint client's detail waits for both
// clients' earlier details). Tasks are added in file order, so the earliest pending task is
// always at the head of all its queues: the scheduler cannot deadlock.
type scheduler struct {
	mu      sync.Mutex
	cond    *sync.Cond
	queues  map[string][]*task
	ready   []*task
	pending int // tasks added and not yet done
	window  int // add blocks while pending is at this
	closed  bool
}

// task is one contact detail to send.
type task struct {
	row     *pendingRow
	i       int  // index in row.outcomes
	blocked int  // queues in which the task is not yet at the head
	started bool // handed to a worker
}

func (t *task) accounts() []string { return t.row.outcomes[t.i].Detail.AccountUUIDs }

func newScheduler(window int) *scheduler {
	s := &scheduler{queues: map[string][]*task{}, window: window}
	s.cond = sync.NewCond(&s.mu)
	return s
}

// add queues t behind the earlier tasks of its accounts. It blocks while the window is
// full, and returns false if ctx is done first.
func (s *scheduler) add(ctx context.Context, t *task) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.pending >= s.window && ctx.Err() == nil {
		s.cond.Wait()
	}
	if ctx.Err() != nil {
		return false
	}
	s.pending++
	for _, a := range t.accounts() {
		if len(s.queues[a]) > 0 {
			t.blocked++
		}
		s.queues[a] = append(s.queues[a], t)
	}
	if t.blocked == 0 {
		s.ready = append(s.ready, t)
		s.cond.Broadcast()
	}
	return true
}

// next returns the next ready task, blocking until there is one. It returns nil once the
// scheduler is closed and no task is left, or when ctx is done.
func (s *scheduler) next(ctx context.Context) *task {
	s.mu.Lock()
	defer s.mu.Unlock()
	for len(s.ready) == 0 && !(s.closed && s.pending == 0) && ctx.Err() == nil {
		s.cond.Wait()
	}
	if len(s.ready) == 0 {
		return nil
	}
	t := s.ready[0]
	s.ready[0] = nil
	s.ready = s.ready[1:]
	t.started = true
	return t
}

// done releases t's accounts: the next task of each may become ready.
func (s *scheduler) done(t *task) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending--
	for _, a := range t.accounts() {
		q := s.queues[a]
		if len(q) == 0 || q[0] != t {
			continue // drained by a stop
		}
		q = q[1:] // t is at the head of every queue it is in
		if len(q) == 0 {
			delete(s.queues, a)
			continue
		}
		s.queues[a] = q
		next := q[0]
		next.blocked--
		if next.blocked == 0 {
			s.ready = append(s.ready, next)
		}
	}
	s.cond.Broadcast()
}

// close says no task will be added: next returns nil once the rest are done.
func (s *scheduler) close() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cond.Broadcast()
}

// drain takes out every task not yet handed to a worker, for a stopped run to list as not
// attempted.
func (s *scheduler) drain() []*task {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[*task]bool{}
	var left []*task
	for _, q := range s.queues {
		for _, t := range q {
			if !seen[t] && !t.started {
				seen[t] = true
				left = append(left, t)
			}
		}
	}
	s.queues, s.ready = map[string][]*task{}, nil
	s.pending -= len(left)
	s.cond.Broadcast()
	return left
}

// wake lets blocked callers notice that a context is done.
func (s *scheduler) wake() {
	s.mu.Lock() // so that no waiter is between its check of ctx and its Wait
	defer s.mu.Unlock()
	s.cond.Broadcast()
}

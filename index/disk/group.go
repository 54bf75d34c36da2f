package disk

import (
	"context"
	"database/sql"
	"errors"
	"sync"
)

// groupCommit runs the writes of concurrent callers in one transaction. The
// embedded index has one writer, and in a poll cycle every source ends in a
// write (its state, its new articles and events): one commit each spent most
// of the writer's time flushing a new FTS segment and the WAL per source
// (BENCHMARKS.md, issue #3). A caller that finds no batch being written
// leads: it writes everything waiting, then hands the lead to the first
// caller that arrived meanwhile.
type groupCommit struct {
	mu      sync.Mutex
	writing bool          // a caller is writing a batch, or about to
	waiting []*groupWrite // in call order; the first is the next leader
}

// groupWrite is one waiting call.
type groupWrite struct {
	fn   func(ctx context.Context, tx *sql.Tx) error
	done chan error // buffered: the call's result, or errLead
}

// errLead tells a waiting call that it writes the next batch.
var errLead = errors.New("disk: write the waiting batch")

// do runs fn inside a transaction shared with the calls waiting alongside,
// and returns once that transaction is committed (fn's own error, or the
// commit's). Each fn runs under its own savepoint, so one that fails is
// rolled back alone and the batch goes on. A call that has joined a batch
// does not give up on ctx: the batch may be handed to it to write, and one
// that left would leave others' writes undone; a batch takes at most the
// busy timeout.
func (s *Store) groupDo(ctx context.Context, fn func(ctx context.Context, tx *sql.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req := &groupWrite{fn: fn, done: make(chan error, 1)}
	q := &s.group
	q.mu.Lock()
	q.waiting = append(q.waiting, req)
	lead := !q.writing
	q.writing = true
	q.mu.Unlock()
	if !lead {
		if err := <-req.done; err != errLead {
			return err
		}
	}
	q.mu.Lock()
	batch := q.waiting
	q.waiting = nil
	q.mu.Unlock()
	// The batch holds other callers' writes: it is written whatever happens
	// to this caller's context.
	errs := s.writeGroup(context.WithoutCancel(ctx), batch)
	var mine error
	for i, r := range batch {
		if r == req {
			mine = errs[i]
		} else {
			r.done <- errs[i]
		}
	}
	q.mu.Lock()
	if len(q.waiting) > 0 {
		q.waiting[0].done <- errLead // arrived during our write: one of them writes next
	} else {
		q.writing = false
	}
	q.mu.Unlock()
	return mine
}

// writeGroup runs batch in one transaction, in call order, and returns each
// call's error. When the transaction itself fails (begin, commit), every call
// gets that error: nothing of the batch is stored.
func (s *Store) writeGroup(ctx context.Context, batch []*groupWrite) []error {
	errs := make([]error, len(batch))
	fail := func(err error) []error {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	tx, err := s.writer.BeginTx(ctx, nil) // BEGIN IMMEDIATE: see Open
	if err != nil {
		return fail(markFull(err))
	}
	defer tx.Rollback()
	single := len(batch) == 1 // no savepoint needed: its failure is the transaction's
	for i, r := range batch {
		if single {
			if errs[i] = r.fn(ctx, tx); errs[i] != nil {
				return errs
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, "SAVEPOINT group_write"); err != nil {
			return fail(markFull(err))
		}
		if errs[i] = r.fn(ctx, tx); errs[i] != nil {
			if _, err := tx.ExecContext(ctx, "ROLLBACK TO group_write"); err != nil {
				return fail(markFull(err))
			}
		}
		if _, err := tx.ExecContext(ctx, "RELEASE group_write"); err != nil {
			return fail(markFull(err))
		}
	}
	if err := tx.Commit(); err != nil {
		return fail(markFull(err))
	}
	return errs
}

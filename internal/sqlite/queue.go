package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/heraldreports/herald/internal/herald"
)

// Queue is the durable message queue of standalone mode: the queue contract
// of internal/herald (Service Bus semantics: peek-lock, duplicate
// detection, scheduled messages, dead letters) in the Store's database file,
// through the Store's single writer connection. It is safe for concurrent
// use, and several processes may share the file: every change is one short
// write transaction.
//
// The queue runs nothing in the background. A lock whose holder died runs
// out by itself (a locked message's visible time is the end of its lock),
// and expired duplicate-detection entries are purged a few at a time by
// each publish.
type Queue struct {
	s             *Store
	now           func() time.Time
	window        time.Duration
	maxDeliveries int

	mu     sync.Mutex
	stmts  *queueStmts // prepared on first use, outside any transaction
	closed bool
}

// QueueOption configures a Queue.
type QueueOption func(*Queue)

// WithQueueClock sets the queue's clock (time.Now by default). Tests drive
// time with it; nil is ignored.
func WithQueueClock(now func() time.Time) QueueOption {
	return func(q *Queue) {
		if now != nil {
			q.now = now
		}
	}
}

// WithDuplicateWindow sets how long a published message id is remembered
// (herald.DefaultDuplicateWindow by default); a non-positive d is ignored.
func WithDuplicateWindow(d time.Duration) QueueOption {
	return func(q *Queue) {
		if d > 0 {
			q.window = d
		}
	}
}

// WithMaxDeliveryCount sets how many times a message is delivered before it
// is dead-lettered instead (herald.DefaultMaxDeliveryCount by default); a
// value below 1 is ignored.
func WithMaxDeliveryCount(n int) QueueOption {
	return func(q *Queue) {
		if n >= 1 {
			q.maxDeliveries = n
		}
	}
}

// Queue returns the durable queue kept in the store's database file. It
// prepares its statements on first use; Close releases them (closing the
// Store releases them too).
func (s *Store) Queue(opts ...QueueOption) *Queue {
	q := &Queue{s: s, now: time.Now, window: herald.DefaultDuplicateWindow, maxDeliveries: herald.DefaultMaxDeliveryCount}
	for _, o := range opts {
		o(q)
	}
	return q
}

// queueStmts are the queue's statements. Those run inside a transaction are
// bound to it with Tx.StmtContext, which reuses their preparation on the
// single writer connection.
type queueStmts struct {
	purge, dedupe, insert              *sql.Stmt // publish
	lock, poison, deleteMsg            *sql.Stmt // receive
	complete, renew, abandon, moveDead *sql.Stmt // settle
	findDead, requeue, deleteDead      *sql.Stmt // requeue
	listDead, stats                    *sql.Stmt // reads
}

// messageKey is the condition under which a lock holds: the row of the
// token, still locked by it, and still the message the delivery names.
const messageKey = ` WHERE seq = ? AND lock_token = ? AND queue = ? AND id = ? AND visible_at > ?`

const deadLetterColumns = `INSERT INTO queue_dead_letters
	(queue, id, body, not_before, enqueued_at, delivery_count, reason, dead_lettered_at) `

func (q *Queue) prepared(ctx context.Context) (*queueStmts, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return nil, herald.Errorf(herald.CodeUnavailable, "the queue is closed")
	}
	if q.stmts != nil {
		return q.stmts, nil
	}
	st := &queueStmts{}
	list := []struct {
		dst   **sql.Stmt
		db    *sql.DB
		query string
	}{
		{&st.purge, q.s.write, `DELETE FROM queue_dedupe WHERE (queue, id) IN
			(SELECT queue, id FROM queue_dedupe WHERE expires_at <= ? ORDER BY expires_at LIMIT ?)`},
		// Inserts the id, or takes over its expired entry; changes nothing
		// (a duplicate) while the entry lives.
		{&st.dedupe, q.s.write, `INSERT INTO queue_dedupe (queue, id, expires_at) VALUES (?, ?, ?)
			ON CONFLICT (queue, id) DO UPDATE SET expires_at = excluded.expires_at
			WHERE queue_dedupe.expires_at <= ?`},
		{&st.insert, q.s.write, `INSERT INTO queue_messages
			(queue, id, body, not_before, enqueued_at, visible_at, ready_at) VALUES (?, ?, ?, ?, ?, ?, ?)`},
		// Selects and locks in one statement. SET sees the old values: the
		// token is made of the seq, the new count and random bits.
		{&st.lock, q.s.write, `UPDATE queue_messages SET
				delivery_count = delivery_count + 1,
				ready_at = visible_at,
				visible_at = ?,
				lock_token = seq || '.' || (delivery_count + 1) || '.' || lower(hex(randomblob(8)))
			WHERE seq IN (SELECT seq FROM queue_messages INDEXED BY queue_messages_receive
				WHERE queue = ? AND visible_at <= ? ORDER BY visible_at, seq LIMIT ?)
			RETURNING seq, id, body, not_before, enqueued_at, ready_at, visible_at, delivery_count, lock_token`},
		// A message locked past the max delivery count: its deliveries are
		// the count before this receive.
		{&st.poison, q.s.write, deadLetterColumns + `SELECT queue, id, body, not_before, enqueued_at,
			delivery_count - 1, ?, ? FROM queue_messages WHERE seq = ?`},
		{&st.deleteMsg, q.s.write, `DELETE FROM queue_messages WHERE seq = ?`},
		{&st.complete, q.s.write, `DELETE FROM queue_messages` + messageKey},
		{&st.renew, q.s.write, `UPDATE queue_messages SET visible_at = ?` + messageKey},
		{&st.abandon, q.s.write, `UPDATE queue_messages SET lock_token = NULL, visible_at = ?` + messageKey +
			` AND delivery_count < ?`},
		{&st.moveDead, q.s.write, deadLetterColumns + `SELECT queue, id, body, not_before, enqueued_at,
			delivery_count, ?, ? FROM queue_messages` + messageKey + ` AND delivery_count >= ?`},
		{&st.findDead, q.s.write, `SELECT seq FROM queue_dead_letters WHERE queue = ? AND id = ?
			ORDER BY dead_lettered_at DESC, seq DESC LIMIT 1`},
		{&st.requeue, q.s.write, `INSERT INTO queue_messages
			(queue, id, body, not_before, enqueued_at, visible_at, ready_at)
			SELECT queue, id, body, not_before, ?1, max(?1, not_before), max(?1, not_before)
			FROM queue_dead_letters WHERE seq = ?2`},
		{&st.deleteDead, q.s.write, `DELETE FROM queue_dead_letters WHERE seq = ?`},
		{&st.listDead, q.s.read, `SELECT id, body, not_before, enqueued_at, delivery_count, reason, dead_lettered_at
			FROM queue_dead_letters WHERE queue = ? ORDER BY dead_lettered_at DESC, seq DESC LIMIT ?`},
		{&st.stats, q.s.read, `SELECT
			(SELECT count(*) FROM queue_messages WHERE queue = ?1 AND visible_at <= ?2),
			(SELECT count(*) FROM queue_messages WHERE queue = ?1 AND visible_at > ?2 AND lock_token IS NOT NULL),
			(SELECT count(*) FROM queue_messages WHERE queue = ?1 AND visible_at > ?2 AND lock_token IS NULL),
			(SELECT count(*) FROM queue_dead_letters WHERE queue = ?1)`},
	}
	for _, p := range list {
		stmt, err := p.db.PrepareContext(ctx, p.query) //nolint:sqlclosecheck // kept in q.stmts, closed by Close
		if err != nil {
			_ = st.close()
			return nil, translate(ctx, err, "preparing the queue")
		}
		*p.dst = stmt
	}
	q.stmts = st
	return st, nil
}

func (st *queueStmts) close() error {
	var errs []error
	for _, s := range []*sql.Stmt{st.purge, st.dedupe, st.insert, st.lock, st.poison, st.deleteMsg,
		st.complete, st.renew, st.abandon, st.moveDead, st.findDead, st.requeue, st.deleteDead,
		st.listDead, st.stats} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(errs...)
}

// Close releases the queue's statements; the Store stays open. Later calls
// fail with CodeUnavailable. It is safe to call more than once.
func (q *Queue) Close() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.closed = true
	if q.stmts == nil {
		return nil
	}
	err := q.stmts.close()
	q.stmts = nil
	return err
}

// bind binds a prepared statement to tx; the transaction's end releases it.
func bind(ctx context.Context, tx *sql.Tx, st *sql.Stmt) *sql.Stmt {
	return tx.StmtContext(ctx, st) //nolint:sqlclosecheck // closed when tx commits or rolls back
}

// execIn runs a prepared statement inside tx.
func execIn(ctx context.Context, tx *sql.Tx, st *sql.Stmt, args ...any) (sql.Result, error) {
	stmt := bind(ctx, tx, st)
	defer func() { _ = stmt.Close() }()
	return stmt.ExecContext(ctx, args...)
}

// inTx runs fn in one write transaction (BEGIN IMMEDIATE: the write lock is
// taken at once, so the transaction never fails half-way on a lock).
func (q *Queue) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := q.s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }() // a no-op after Commit
	if err := fn(tx); err != nil {
		return err
	}
	return tx.Commit()
}

// Publish enqueues m, visible from m.NotBefore (at once when zero or past).
// A message whose id was published to the same queue within the duplicate
// window is dropped without an error, even if it has been completed since.
func (q *Queue) Publish(ctx context.Context, m herald.Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	return q.publish(ctx, []herald.Message{m})
}

// PublishBatch publishes messages in one transaction, in order, each with
// Publish's duplicate detection (also against earlier messages of the same
// batch). If one message is invalid, none is published.
func (q *Queue) PublishBatch(ctx context.Context, messages []herald.Message) error {
	if err := checkBatch(messages); err != nil {
		return err
	}
	if len(messages) == 0 {
		return nil
	}
	return q.publish(ctx, messages)
}

func checkBatch(messages []herald.Message) error {
	var p herald.Problems
	for i, m := range messages {
		err := m.Validate()
		var he *herald.Error
		if errors.As(err, &he) && he.Code == herald.CodeTooLarge {
			return herald.Errorf(herald.CodeTooLarge, "messages[%d]: %s", i, he.Message)
		}
		p.Merge("messages["+strconv.Itoa(i)+"]", err)
	}
	return p.Err("message batch")
}

// purgeBatch bounds the expired dedupe entries one publish deletes: more
// than it adds, so the table never grows past what the window holds.
const purgeBatch = 64

func (q *Queue) publish(ctx context.Context, messages []herald.Message) error {
	st, err := q.prepared(ctx)
	if err != nil {
		return err
	}
	now := q.now().UnixMilli()
	expires := now + ceilMillis(q.window)
	err = q.inTx(ctx, func(tx *sql.Tx) error {
		purge, dedupe, insert := bind(ctx, tx, st.purge), bind(ctx, tx, st.dedupe), bind(ctx, tx, st.insert)
		defer func() { _, _, _ = purge.Close(), dedupe.Close(), insert.Close() }()
		if _, err := purge.ExecContext(ctx, now, purgeBatch+2*len(messages)); err != nil {
			return err
		}
		for _, m := range messages {
			res, err := dedupe.ExecContext(ctx, m.Queue, m.ID, expires, now)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				continue // a duplicate (RowsAffected never fails with this driver)
			}
			notBefore := notBeforeMillis(m.NotBefore)
			visible := max(now, notBefore)
			if _, err := insert.ExecContext(ctx, m.Queue, m.ID, m.Body, notBefore, now, visible, visible); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		if len(messages) == 1 {
			return translate(ctx, err, "publishing message %s to queue %s", messages[0].ID, messages[0].Queue)
		}
		return translate(ctx, err, "publishing %d messages", len(messages))
	}
	return nil
}

// received is a delivery with the keys that order a batch.
type received struct {
	d            herald.QueueDelivery
	readyAt, seq int64
}

// Receive locks and returns up to maxMessages visible messages of queue for
// lockFor, oldest first (by the time they became visible, then by enqueue
// order), each with its DeliveryCount incremented and a new lock token. It
// never waits for messages: it returns an empty slice when none is visible.
// A message that was already delivered the max delivery count is moved to
// the dead letters instead (reason herald.ReasonMaxDeliveryCount), and the
// receive goes on to the messages behind it (up to maxPoisonPerReceive of
// them at a time).
func (q *Queue) Receive(ctx context.Context, queue string, maxMessages int, lockFor time.Duration) ([]herald.QueueDelivery, error) {
	if err := herald.CheckReceive(queue, maxMessages, lockFor); err != nil {
		return nil, err
	}
	st, err := q.prepared(ctx)
	if err != nil {
		return nil, err
	}
	now := q.now().UnixMilli()
	var got []received
	err = q.inTx(ctx, func(tx *sql.Tx) error {
		got = got[:0]
		// Messages delivered too often are dead-lettered on the way, and
		// their places filled from behind them.
		for poisoned := 0; len(got) < maxMessages && poisoned < maxPoisonPerReceive; {
			batch, p, err := q.lock(ctx, tx, st, queue, maxMessages-len(got), now, now+ceilMillis(lockFor))
			if err != nil {
				return err
			}
			got = append(got, batch...)
			if p == 0 {
				break
			}
			poisoned += p
		}
		return nil
	})
	if err != nil {
		return nil, translate(ctx, err, "receiving from queue %s", queue)
	}
	// RETURNING has no order of its own.
	slices.SortFunc(got, func(a, b received) int {
		if c := cmp.Compare(a.readyAt, b.readyAt); c != 0 {
			return c
		}
		return cmp.Compare(a.seq, b.seq)
	})
	out := make([]herald.QueueDelivery, len(got))
	for i, r := range got {
		out[i] = r.d
	}
	return out, nil
}

// maxPoisonPerReceive bounds the messages one Receive dead-letters for
// having been delivered too often, so that it stays short even behind a
// burst of them; the next Receive goes on.
const maxPoisonPerReceive = herald.MaxReceive

// lock locks up to n visible messages, oldest first, and dead-letters,
// in the same transaction, those among them delivered too often.
func (q *Queue) lock(ctx context.Context, tx *sql.Tx, st *queueStmts, queue string, n int, now, lockedUntil int64) (
	batch []received, poisoned int, err error,
) {
	lock := bind(ctx, tx, st.lock)
	defer func() { _ = lock.Close() }()
	rows, err := lock.QueryContext(ctx, lockedUntil, queue, now, n)
	if err != nil {
		return nil, 0, err
	}
	defer func() { _ = rows.Close() }()
	var poison []int64
	for rows.Next() {
		var r received
		var notBefore, enqueuedAt, until int64
		if err := rows.Scan(&r.seq, &r.d.ID, &r.d.Body, &notBefore, &enqueuedAt, &r.readyAt, &until,
			&r.d.DeliveryCount, &r.d.LockToken); err != nil {
			return nil, 0, err
		}
		if r.d.DeliveryCount > q.maxDeliveries {
			poison = append(poison, r.seq)
			continue
		}
		r.d.Queue = queue
		r.d.NotBefore, r.d.EnqueuedAt, r.d.LockedUntil = timeOrZero(notBefore), fromMillis(enqueuedAt), fromMillis(until)
		batch = append(batch, r)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, err
	}
	if err := rows.Close(); err != nil {
		return nil, 0, err
	}
	for _, seq := range poison {
		if _, err := execIn(ctx, tx, st.poison, herald.ReasonMaxDeliveryCount, now, seq); err != nil {
			return nil, 0, err
		}
		if _, err := execIn(ctx, tx, st.deleteMsg, seq); err != nil {
			return nil, 0, err
		}
	}
	return batch, len(poison), nil
}

// Complete removes a delivered message. CodeConflict (herald.LockLostMessage)
// when d's lock no longer holds.
func (q *Queue) Complete(ctx context.Context, d herald.QueueDelivery) error {
	return q.settle(ctx, &d, "completing", func(st *queueStmts, seq, now int64) (sql.Result, error) {
		return st.complete.ExecContext(ctx, seq, d.LockToken, d.Queue, d.ID, now)
	})
}

// Renew extends d's lock to lockFor from now and updates d.LockedUntil.
// CodeConflict when the lock no longer holds (a lock that ran out cannot be
// renewed).
func (q *Queue) Renew(ctx context.Context, d *herald.QueueDelivery, lockFor time.Duration) error {
	if err := herald.CheckLock(lockFor); err != nil {
		return err
	}
	var until int64
	err := q.settle(ctx, d, "renewing the lock of", func(st *queueStmts, seq, now int64) (sql.Result, error) {
		until = now + ceilMillis(lockFor)
		return st.renew.ExecContext(ctx, until, seq, d.LockToken, d.Queue, d.ID, now)
	})
	if err != nil {
		return err
	}
	d.LockedUntil = fromMillis(until)
	return nil
}

// Abandon unlocks d: the message is visible again after retryAfter (0: at
// once). The delivery it was counts: a message abandoned on its max
// delivery is dead-lettered at once (reason herald.ReasonMaxDeliveryCount).
// CodeConflict when the lock no longer holds.
func (q *Queue) Abandon(ctx context.Context, d herald.QueueDelivery, retryAfter time.Duration) error {
	if err := herald.CheckRetryAfter(retryAfter); err != nil {
		return err
	}
	var now int64
	changed, err := q.trySettle(ctx, &d, "abandoning", func(st *queueStmts, seq, at int64) (sql.Result, error) {
		now = at
		return st.abandon.ExecContext(ctx, at+ceilMillis(retryAfter), seq, d.LockToken, d.Queue, d.ID, at, q.maxDeliveries)
	})
	if err != nil || changed {
		return err
	}
	// Nothing was unlocked: the lock is lost, or this was the last delivery
	// allowed. moveToDeadLetters tells them apart (it needs the lock too).
	return q.moveToDeadLetters(ctx, &d, herald.ReasonMaxDeliveryCount, now, q.maxDeliveries)
}

// DeadLetter moves d to the dead letters with reason (cut to
// herald.MaxDeadLetterReasonBytes). CodeConflict when the lock no longer
// holds.
func (q *Queue) DeadLetter(ctx context.Context, d herald.QueueDelivery, reason string) error {
	if err := herald.CheckSettle(&d); err != nil {
		return err
	}
	return q.moveToDeadLetters(ctx, &d, herald.ClipReason(reason), q.now().UnixMilli(), 0)
}

// settle validates d, parses its token and runs one statement that changes
// one row if the lock holds; CodeConflict (lock lost) when it changes none.
func (q *Queue) settle(ctx context.Context, d *herald.QueueDelivery, what string,
	exec func(st *queueStmts, seq, now int64) (sql.Result, error),
) error {
	changed, err := q.trySettle(ctx, d, what, exec)
	if err == nil && !changed {
		return lockLost()
	}
	return err
}

// trySettle is settle reporting whether the statement changed a row.
func (q *Queue) trySettle(ctx context.Context, d *herald.QueueDelivery, what string,
	exec func(st *queueStmts, seq, now int64) (sql.Result, error),
) (bool, error) {
	if err := herald.CheckSettle(d); err != nil {
		return false, err
	}
	seq, ok := tokenSeq(d.LockToken)
	if !ok {
		return false, lockLost()
	}
	st, err := q.prepared(ctx)
	if err != nil {
		return false, err
	}
	res, err := exec(st, seq, q.now().UnixMilli())
	if err != nil {
		return false, translate(ctx, err, "%s message %s of queue %s", what, d.ID, d.Queue)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, translate(ctx, err, "%s message %s of queue %s", what, d.ID, d.Queue)
	}
	return n > 0, nil
}

// moveToDeadLetters moves the message locked by d, if it was delivered at
// least minCount times, to the dead letters.
func (q *Queue) moveToDeadLetters(ctx context.Context, d *herald.QueueDelivery, reason string, now int64, minCount int) error {
	seq, ok := tokenSeq(d.LockToken)
	if !ok {
		return lockLost()
	}
	st, err := q.prepared(ctx)
	if err != nil {
		return err
	}
	err = q.inTx(ctx, func(tx *sql.Tx) error {
		res, err := execIn(ctx, tx, st.moveDead, reason, now, seq, d.LockToken, d.Queue, d.ID, now, minCount)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return lockLost()
		}
		_, err = execIn(ctx, tx, st.deleteMsg, seq)
		return err
	})
	if err != nil {
		return translate(ctx, err, "dead-lettering message %s of queue %s", d.ID, d.Queue)
	}
	return nil
}

// DeadLetters lists the dead letters of queue, newest first; limit is
// 1..herald.MaxListLimit, 0 for herald.DefaultListLimit.
func (q *Queue) DeadLetters(ctx context.Context, queue string, limit int) ([]herald.DeadLetter, error) {
	var p herald.Problems
	if !herald.ValidQueueName(queue) {
		p.Add("queue", "is not a valid queue name")
	}
	if limit < 0 || limit > herald.MaxListLimit {
		p.Add("limit", "must be between 1 and %d (0 for the default, %d)", herald.MaxListLimit, herald.DefaultListLimit)
	}
	if err := p.Err("dead-letter query"); err != nil {
		return nil, err
	}
	if limit == 0 {
		limit = herald.DefaultListLimit
	}
	st, err := q.prepared(ctx)
	if err != nil {
		return nil, err
	}
	rows, err := st.listDead.QueryContext(ctx, queue, limit)
	if err != nil {
		return nil, translate(ctx, err, "listing the dead letters of queue %s", queue)
	}
	defer func() { _ = rows.Close() }()
	out := []herald.DeadLetter{}
	for rows.Next() {
		dl := herald.DeadLetter{Message: herald.Message{Queue: queue}}
		var notBefore, enqueuedAt, at int64
		if err := rows.Scan(&dl.ID, &dl.Body, &notBefore, &enqueuedAt, &dl.DeliveryCount, &dl.Reason, &at); err != nil {
			return nil, translate(ctx, err, "listing the dead letters of queue %s", queue)
		}
		dl.NotBefore, dl.EnqueuedAt, dl.DeadLetteredAt = timeOrZero(notBefore), fromMillis(enqueuedAt), fromMillis(at)
		out = append(out, dl)
	}
	if err := rows.Err(); err != nil {
		return nil, translate(ctx, err, "listing the dead letters of queue %s", queue)
	}
	return out, nil
}

// Requeue moves the newest dead letter with id back to queue as a new
// message: visible at once, delivery count 0, enqueued now, and not subject
// to duplicate detection (an operator asked for it). CodeNotFound when queue
// has no such dead letter.
func (q *Queue) Requeue(ctx context.Context, queue, id string) error {
	var p herald.Problems
	if !herald.ValidQueueName(queue) {
		p.Add("queue", "is not a valid queue name")
	}
	if id == "" {
		p.Add("id", "is required")
	}
	if err := p.Err("requeue"); err != nil {
		return err
	}
	st, err := q.prepared(ctx)
	if err != nil {
		return err
	}
	now := q.now().UnixMilli()
	err = q.inTx(ctx, func(tx *sql.Tx) error {
		var seq int64
		find := bind(ctx, tx, st.findDead)
		defer func() { _ = find.Close() }()
		err := find.QueryRowContext(ctx, queue, id).Scan(&seq)
		if errors.Is(err, sql.ErrNoRows) {
			return herald.Errorf(herald.CodeNotFound, "dead letter %s not found in queue %s", id, queue)
		}
		if err != nil {
			return err
		}
		if _, err := execIn(ctx, tx, st.requeue, now, seq); err != nil {
			return err
		}
		_, err = execIn(ctx, tx, st.deleteDead, seq)
		return err
	})
	if err != nil {
		return translate(ctx, err, "requeuing dead letter %s of queue %s", id, queue)
	}
	return nil
}

// Stats counts the messages of queue. A message whose lock ran out counts
// as visible, also when its next receive will dead-letter it.
func (q *Queue) Stats(ctx context.Context, queue string) (herald.QueueStats, error) {
	if err := herald.CheckQueueName(queue); err != nil {
		return herald.QueueStats{}, err
	}
	st, err := q.prepared(ctx)
	if err != nil {
		return herald.QueueStats{}, err
	}
	var s herald.QueueStats
	err = st.stats.QueryRowContext(ctx, queue, q.now().UnixMilli()).Scan(&s.Visible, &s.Locked, &s.Scheduled, &s.DeadLettered)
	if err != nil {
		return herald.QueueStats{}, translate(ctx, err, "counting the messages of queue %s", queue)
	}
	return s, nil
}

func lockLost() error { return herald.Errorf(herald.CodeConflict, herald.LockLostMessage) }

// tokenSeq reads the message's seq from the front of a lock token
// ("seq.count.random").
func tokenSeq(token string) (int64, bool) {
	head, _, ok := strings.Cut(token, ".")
	if !ok {
		return 0, false
	}
	seq, err := strconv.ParseInt(head, 10, 64)
	return seq, err == nil && seq > 0
}

// ceilMillis rounds a positive duration up to whole milliseconds, so that a
// lock or a window is never shorter than asked.
func ceilMillis(d time.Duration) int64 {
	return (d + time.Millisecond - 1).Milliseconds()
}

// notBeforeMillis is t in unix milliseconds, rounded up so that a message is
// never visible before t; 0 for the zero time.
func notBeforeMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	ms := t.UnixMilli()
	if t.After(time.UnixMilli(ms)) {
		ms++
	}
	return ms
}

func fromMillis(ms int64) time.Time { return time.UnixMilli(ms).UTC() }

func timeOrZero(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return fromMillis(ms)
}

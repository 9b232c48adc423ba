// Package worker consumes a queue in standalone mode: it receives messages
// with peek-lock, hands each body to the same handler the Azure Functions
// queue trigger calls, keeps the lock alive while the handler works, and
// completes the message on success or abandons it with a back-off on error.
package worker

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/heraldreports/herald/internal/herald"
)

// Queue is what a worker needs of the queue.
type Queue interface {
	Receive(ctx context.Context, queue string, maxMessages int, lockFor time.Duration) ([]herald.QueueDelivery, error)
	Complete(ctx context.Context, d herald.QueueDelivery) error
	Abandon(ctx context.Context, d herald.QueueDelivery, retryAfter time.Duration) error
	Renew(ctx context.Context, d *herald.QueueDelivery, lockFor time.Duration) error
	DeadLetter(ctx context.Context, d herald.QueueDelivery, reason string) error
}

// Handler does the work of one message. An error abandons the message, so
// that it is delivered again (and dead-lettered after too many deliveries);
// a herald.CodeInvalid error (the message can never succeed) dead-letters
// it at once.
type Handler func(ctx context.Context, m herald.QueueDelivery) error

// Config tunes a Pool.
type Config struct {
	Queue       string        // queue name
	Concurrency int           // messages handled at once (default 4)
	LockFor     time.Duration // lock per delivery, renewed at half-time (default 1m)
	Poll        time.Duration // wait when the queue is empty (default 250ms)
	// Backoff is the delay before an abandoned message is delivered again,
	// given its delivery count (default: 2^count seconds, at most 5m).
	Backoff func(deliveryCount int) time.Duration
}

// Pool consumes one queue with bounded concurrency.
type Pool struct {
	q       Queue
	handle  Handler
	cfg     Config
	log     *slog.Logger
	slots   chan struct{}
	running sync.WaitGroup
}

// New returns a pool consuming cfg.Queue from q with handle.
func New(q Queue, handle Handler, cfg Config, log *slog.Logger) *Pool {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 4
	}
	if cfg.LockFor <= 0 {
		cfg.LockFor = time.Minute
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 250 * time.Millisecond
	}
	if cfg.Backoff == nil {
		cfg.Backoff = ExponentialBackoff
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pool{q: q, handle: handle, cfg: cfg, log: log.With("queue", cfg.Queue), slots: make(chan struct{}, cfg.Concurrency)}
}

// ExponentialBackoff waits 2^count seconds, at most five minutes.
func ExponentialBackoff(deliveryCount int) time.Duration {
	if deliveryCount >= 8 {
		return 5 * time.Minute
	}
	return min(time.Duration(1<<max(deliveryCount, 0))*time.Second, 5*time.Minute)
}

// Run consumes until ctx ends, then waits for the messages in hand. A
// message in hand when the process dies is delivered again after its lock
// expires.
func (p *Pool) Run(ctx context.Context) {
	defer p.running.Wait()
	for ctx.Err() == nil {
		n := p.free()
		if n == 0 {
			p.waitSlot(ctx)
			continue
		}
		ds, err := p.q.Receive(ctx, p.cfg.Queue, n, p.cfg.LockFor)
		if err != nil {
			if ctx.Err() == nil {
				p.log.Error("receiving messages failed", "err", err.Error())
			}
			sleep(ctx, p.cfg.Poll)
			continue
		}
		if len(ds) == 0 {
			sleep(ctx, p.cfg.Poll)
			continue
		}
		for _, d := range ds {
			p.slots <- struct{}{}
			p.running.Add(1)
			go func() {
				defer func() { <-p.slots; p.running.Done() }()
				p.one(ctx, d)
			}()
		}
	}
}

// RunOnce receives what is visible now, handles it, and returns when all of
// it is settled (for tests and for draining).
func (p *Pool) RunOnce(ctx context.Context) (int, error) {
	ds, err := p.q.Receive(ctx, p.cfg.Queue, p.cfg.Concurrency, p.cfg.LockFor)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	for _, d := range ds {
		wg.Add(1)
		go func() { defer wg.Done(); p.one(ctx, d) }()
	}
	wg.Wait()
	return len(ds), nil
}

func (p *Pool) free() int { return cap(p.slots) - len(p.slots) }

func (p *Pool) waitSlot(ctx context.Context) {
	select {
	case p.slots <- struct{}{}:
		<-p.slots
	case <-ctx.Done():
	}
}

// one handles a delivery with its lock renewed, then settles it. Settling
// uses a context that survives shutdown, so work done is not redone.
func (p *Pool) one(ctx context.Context, d herald.QueueDelivery) {
	log := p.log.With("messageId", d.ID, "deliveryCount", d.DeliveryCount)
	hctx, cancel := context.WithCancel(ctx)
	renewed := make(chan struct{})
	lock := d // keepLock renews its own copy; the token stays the same
	go func() { defer close(renewed); p.keepLock(hctx, &lock, log) }()
	err := p.safeHandle(hctx, d)
	cancel()
	<-renewed
	settle := context.WithoutCancel(ctx)
	if err == nil {
		if cerr := p.q.Complete(settle, d); cerr != nil {
			log.Warn("completing message failed; it will be delivered again", "err", cerr.Error())
		}
		return
	}
	if herald.Is(err, herald.CodeInvalid) {
		log.Error("message can never be handled; dead-lettered", "err", err.Error())
		if derr := p.q.DeadLetter(settle, d, herald.ClipReason(err.Error())); derr != nil {
			log.Warn("dead-lettering message failed; it becomes visible when its lock expires", "err", derr.Error())
		}
		return
	}
	delay := p.cfg.Backoff(d.DeliveryCount)
	log.Warn("handling message failed; it will be delivered again", "err", err.Error(), "retryAfter", delay.String())
	if aerr := p.q.Abandon(settle, d, delay); aerr != nil {
		log.Warn("abandoning message failed; it becomes visible when its lock expires", "err", aerr.Error())
	}
}

func (p *Pool) safeHandle(ctx context.Context, d herald.QueueDelivery) (err error) {
	defer func() {
		if rec := recover(); rec != nil {
			err = errors.New("handler panicked")
			p.log.Error("handler panicked", "messageId", d.ID, "panic", rec)
		}
	}()
	return p.handle(ctx, d)
}

// keepLock renews the delivery's lock at half its duration until ctx ends.
func (p *Pool) keepLock(ctx context.Context, d *herald.QueueDelivery, log *slog.Logger) {
	t := time.NewTicker(p.cfg.LockFor / 2)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := p.q.Renew(ctx, d, p.cfg.LockFor); err != nil && ctx.Err() == nil {
				log.Warn("renewing the message lock failed", "err", err.Error())
			}
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

-- The durable queue of standalone mode (queue.go): peek-lock messages,
-- duplicate detection and dead letters, modelled on Service Bus queues.
-- Every time is an integer of unix milliseconds.

-- One row per message waiting, scheduled or locked. seq (the rowid) is the
-- enqueue order. visible_at is when the message may be received: its
-- NotBefore, the end of Abandon's retryAfter, or, while it is locked, the
-- end of the lock, so that a lock whose holder died simply runs out and the
-- receive query needs no lock condition. lock_token is the last lock
-- granted; it holds while visible_at is in the future.
CREATE TABLE queue_messages (
    seq            INTEGER PRIMARY KEY,
    queue          TEXT    NOT NULL,
    id             TEXT    NOT NULL,
    body           BLOB    NOT NULL,
    not_before     INTEGER NOT NULL,   -- as published; 0 for none
    enqueued_at    INTEGER NOT NULL,
    visible_at     INTEGER NOT NULL,
    ready_at       INTEGER NOT NULL,   -- visible_at before the last receive: orders a received batch
    delivery_count INTEGER NOT NULL DEFAULT 0,
    lock_token     TEXT
);

-- Receive: the visible messages of a queue, oldest first, read in order.
CREATE INDEX queue_messages_receive ON queue_messages (queue, visible_at, seq);

-- Duplicate detection: a (queue, id) published within the window. Expired
-- rows are taken over by the next publish of the id, and purged a few at a
-- time by every publish.
CREATE TABLE queue_dedupe (
    queue      TEXT    NOT NULL,
    id         TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (queue, id)
) WITHOUT ROWID;

CREATE INDEX queue_dedupe_expiry ON queue_dedupe (expires_at);

-- Messages set aside after too many deliveries or by their receiver.
CREATE TABLE queue_dead_letters (
    seq              INTEGER PRIMARY KEY,
    queue            TEXT    NOT NULL,
    id               TEXT    NOT NULL,
    body             BLOB    NOT NULL,
    not_before       INTEGER NOT NULL,
    enqueued_at      INTEGER NOT NULL,
    delivery_count   INTEGER NOT NULL,
    reason           TEXT    NOT NULL,
    dead_lettered_at INTEGER NOT NULL
);

-- DeadLetters: newest first. Requeue: by id.
CREATE INDEX queue_dead_letters_time ON queue_dead_letters (queue, dead_lettered_at, seq);
CREATE INDEX queue_dead_letters_id ON queue_dead_letters (queue, id, dead_lettered_at, seq);

-- 001_init.sql - the mxspool index.
-- Times are milliseconds since the epoch (UTC).  Applied by index_open() in
-- one transaction; PRAGMA user_version is set to 1 afterwards.

-- One row per accepted message.  state is the message's place in the queue:
--   queued      due for delivery at next_attempt_ms (new, or deferred after 4xx)
--   active      leased by a replay worker until lease_until_ms
--   hold        held by the operator (postsuper -h)
--   quarantine  some recipient got 5xx from the primary; waits for the operator
--   delivered   every recipient delivered (object kept until retention purge)
--   expired     lifetime exceeded; DSN sent or held (see recipients)
--   deleted     deleted by the operator (object deleted)
--   missing     reindex found no object for it
CREATE TABLE messages (
	id		TEXT PRIMARY KEY,
	node		TEXT NOT NULL,
	object_key	TEXT NOT NULL,
	location	INTEGER NOT NULL DEFAULT 0,	-- 0 store, 1 spool
	spool_path	TEXT,
	received_ms	INTEGER NOT NULL,
	size		INTEGER NOT NULL,
	sha256		TEXT NOT NULL,
	mail_from	TEXT NOT NULL,
	mail_params	TEXT NOT NULL DEFAULT '',
	client_addr	TEXT NOT NULL DEFAULT '',
	client_name	TEXT NOT NULL DEFAULT '',
	helo		TEXT NOT NULL DEFAULT '',
	tls		TEXT NOT NULL DEFAULT '',
	state		TEXT NOT NULL DEFAULT 'queued',
	next_attempt_ms	INTEGER NOT NULL,
	attempts	INTEGER NOT NULL DEFAULT 0,
	lease_owner	TEXT,
	lease_until_ms	INTEGER,
	state_ms	INTEGER NOT NULL,		-- when state last changed
	purged_ms	INTEGER				-- object deleted after retention
) WITHOUT ROWID;
-- next due message, oldest first
CREATE INDEX messages_due ON messages(state, next_attempt_ms, received_ms);
CREATE INDEX messages_received ON messages(received_ms);
CREATE INDEX messages_location ON messages(location, received_ms) WHERE location <> 0;
-- backlog by age/size (count, bytes, oldest per state) without touching the table
CREATE INDEX messages_backlog ON messages(state, received_ms, size);

-- One row per accepted recipient.  state:
--   pending     not delivered yet
--   delivered   2xx from the primary
--   quarantine  5xx from the primary, waits for the operator
--   expired     lifetime exceeded (dsn_ms set when a DSN was sent)
--   deleted     removed by the operator
CREATE TABLE recipients (
	message_id	TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
	rcpt		TEXT NOT NULL,
	domain		TEXT NOT NULL,
	params		TEXT NOT NULL DEFAULT '',
	state		TEXT NOT NULL DEFAULT 'pending',
	last_code	INTEGER,
	last_text	TEXT,
	updated_ms	INTEGER,
	dsn_ms		INTEGER,
	seq		INTEGER NOT NULL DEFAULT 0,	-- order of RCPT TO in the envelope
	PRIMARY KEY (message_id, rcpt)
) WITHOUT ROWID;
CREATE INDEX recipients_domain ON recipients(domain, state);
-- backlog by domain: pending recipients grouped by domain
CREATE INDEX recipients_state ON recipients(state, domain);
-- pending recipients joined to their messages in id (= time) order: sequential
-- reads of messages instead of random ones (10x at 1M messages)
CREATE INDEX recipients_pending ON recipients(state, message_id);
CREATE INDEX recipients_rcpt ON recipients(rcpt);

-- Audit trail: one row per recipient per delivery attempt.
CREATE TABLE attempts (
	id		INTEGER PRIMARY KEY,
	message_id	TEXT NOT NULL,
	rcpt		TEXT NOT NULL,
	at_ms		INTEGER NOT NULL,
	target		TEXT NOT NULL,
	code		INTEGER NOT NULL,		-- 0 when no reply (connection failure, timeout)
	enhanced	TEXT NOT NULL DEFAULT '',
	text		TEXT NOT NULL DEFAULT '',
	worker		TEXT NOT NULL DEFAULT ''
);
CREATE INDEX attempts_message ON attempts(message_id, at_ms);
CREATE INDEX attempts_time ON attempts(at_ms);

-- Recipient verification cache (callouts to the primary): result 1 exists,
-- 0 does not; a positive and a negative TTL decide expires_ms.
CREATE TABLE verify_cache (
	address		TEXT PRIMARY KEY,
	result		INTEGER NOT NULL,
	code		INTEGER NOT NULL,
	text		TEXT NOT NULL DEFAULT '',
	checked_ms	INTEGER NOT NULL,
	expires_ms	INTEGER NOT NULL
) WITHOUT ROWID;

-- Monotonic counters written by the daemons (ingest accepted/rejected by
-- reason, storage errors, ...); name and label as in /metrics.
CREATE TABLE counters (
	name		TEXT NOT NULL,
	label		TEXT NOT NULL DEFAULT '',
	value		INTEGER NOT NULL DEFAULT 0,
	updated_ms	INTEGER NOT NULL,
	PRIMARY KEY (name, label)
) WITHOUT ROWID;

-- Control and shared state: paused, rate, achieved rate, primary health...
CREATE TABLE control (
	key		TEXT PRIMARY KEY,
	value		TEXT NOT NULL,
	updated_ms	INTEGER NOT NULL
) WITHOUT ROWID;

-- Backlog size over time for the dashboard (one sample a minute).
CREATE TABLE backlog_samples (
	at_ms		INTEGER PRIMARY KEY,
	count		INTEGER NOT NULL,
	bytes		INTEGER NOT NULL,
	oldest_ms	INTEGER
);

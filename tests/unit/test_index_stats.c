/*
 * test_index_stats.c - index_stats against a real SQLite index: messages
 * added through index_add_message(); states, attempts, counters, control and
 * samples set up with SQL on the test's own handle (what the worker and the
 * ingest would write).  Each figure is checked as "got X, want Y".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "envelope.h"
#include "index.h"
#include "index_replay.h"
#include "index_stats.h"
#include "msgid.h"
#include "testlib.h"

#define NOW	1800000000000LL		/* a fixed "now" in ms */
#define MIN	60000LL

struct fixture {
	struct testlib_index db;
	struct index	*idx;
	char		 ids[8][MSGID_MAX];
};

/* add - one message received age_min minutes before NOW, size bytes, to rcpts */
static void
add(struct fixture *f, int n, int64_t age_min, int64_t size, enum index_location loc,
    const char *r1, const char *r2)
{
	struct envelope e;

	testlib_envelope(&e, NOW - age_min * MIN);
	e.size = size;
	e.mail_from = strdup("s@x.test");
	assert_int_equal(envelope_add_rcpt(&e, r1, ""), 0);
	if (r2 != NULL)
		assert_int_equal(envelope_add_rcpt(&e, r2, ""), 0);
	assert_int_equal(index_add_message(f->idx, &e, "k", loc,
	    loc == INDEX_LOC_SPOOL ? "/spool/x" : NULL), INDEX_OK);
	snprintf(f->ids[n], MSGID_MAX, "%s", e.id);
	envelope_free(&e);
}

/* sql - run setup SQL with one text parameter (may be NULL) */
static void
sql(struct fixture *f, const char *q, const char *p1)
{
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(index_db(f->idx), q, -1, &st, NULL), SQLITE_OK);
	if (p1 != NULL)
		sqlite3_bind_text(st, 1, p1, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

static int
setup(void **state)
{
	struct fixture	*f = calloc(1, sizeof(*f));

	f->idx = testlib_index_open(&f->db, "test_index_stats");
	/* 0: 2 min old, two domains; 1: 7 min; 2: 100 min, spooled; 3: 2000 min, held;
	 * 4: 30 min, quarantined; 5: delivered (not backlog) */
	add(f, 0, 2, 100, INDEX_LOC_STORE, "a@one.test", "b@two.test");
	add(f, 1, 7, 200, INDEX_LOC_STORE, "c@one.test", NULL);
	add(f, 2, 100, 400, INDEX_LOC_SPOOL, "d@one.test", NULL);
	add(f, 3, 2000, 800, INDEX_LOC_STORE, "e@two.test", NULL);
	add(f, 4, 30, 1600, INDEX_LOC_STORE, "f@three.test", NULL);
	add(f, 5, 3000, 3200, INDEX_LOC_STORE, "g@three.test", NULL);
	sql(f, "UPDATE messages SET state = 'hold' WHERE id = ?1", f->ids[3]);
	sql(f, "UPDATE messages SET state = 'quarantine' WHERE id = ?1", f->ids[4]);
	sql(f, "UPDATE recipients SET state = 'quarantine' WHERE message_id = ?1", f->ids[4]);
	sql(f, "UPDATE messages SET state = 'delivered' WHERE id = ?1", f->ids[5]);
	sql(f, "UPDATE recipients SET state = 'delivered' WHERE message_id = ?1", f->ids[5]);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture	*f = *state;

	index_close(f->idx);
	testlib_index_remove(&f->db);
	free(f);
	return 0;
}

static void
test_bucket_edges(void **state)
{
	static const struct { int64_t age_ms; int want; } t[] = {
		{ 0, 0 }, { 5 * MIN - 1, 0 }, { 5 * MIN, 1 }, { 10 * MIN, 2 }, { 39 * MIN, 3 },
		{ 640 * MIN - 1, 7 }, { 640 * MIN, 8 }, { 1280 * MIN - 1, 8 }, { 1280 * MIN, 9 },
		{ 100000 * MIN, 9 }, { -5, 0 },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		if (index_stats_bucket(t[i].age_ms) != t[i].want)
			fail_msg("age %lld ms: got bucket %d, want %d", (long long)t[i].age_ms,
			    index_stats_bucket(t[i].age_ms), t[i].want);
	}
}

static void
test_backlog(void **state)
{
	struct fixture			*f = *state;
	struct index_stats_backlog	 b;
	static const int64_t		 want[INDEX_STATS_NBUCKETS] = { 1, 1, 0, 1, 0, 1, 0, 0,
					    0, 1 };
	int				 i;

	assert_int_equal(index_stats_backlog(f->idx, NOW, &b), INDEX_OK);
	assert_int_equal(b.messages, 5);		/* 0..4; the delivered one is not */
	assert_int_equal(b.bytes, 100 + 200 + 400 + 800 + 1600);
	assert_int_equal(b.oldest_ms, NOW - 2000 * MIN);
	assert_int_equal(b.recipients, 5);		/* pending only: f@ is quarantined */
	assert_int_equal(b.quarantine, 1);
	assert_int_equal(b.quarantine_rcpts, 1);
	assert_int_equal(b.spool_messages, 1);
	assert_int_equal(b.spool_bytes, 400);
	assert_int_equal(b.total_messages, 6);
	for (i = 0; i < INDEX_STATS_NBUCKETS; i++)
		if (b.buckets[i] != want[i])
			fail_msg("bucket %d: got %lld, want %lld", i, (long long)b.buckets[i],
			    (long long)want[i]);
}

static void
test_backlog_edges(void **state)
{
	struct fixture			*f = *state;
	struct index_stats_backlog	 b;
	char				 q[160];

	/* exactly 5 minutes old belongs to [5,10), as in index_stats_bucket() */
	snprintf(q, sizeof(q), "UPDATE messages SET received_ms = %lld WHERE id = ?1",
	    NOW - 5 * MIN);
	sql(f, q, f->ids[0]);
	assert_int_equal(index_stats_backlog(f->idx, NOW, &b), INDEX_OK);
	assert_int_equal(b.buckets[0], 0);
	assert_int_equal(b.buckets[1], 2);
	snprintf(q, sizeof(q), "UPDATE messages SET received_ms = %lld WHERE id = ?1",
	    NOW - 5 * MIN + 1);
	sql(f, q, f->ids[0]);
	assert_int_equal(index_stats_backlog(f->idx, NOW, &b), INDEX_OK);
	assert_int_equal(b.buckets[0], 1);
	assert_int_equal(b.buckets[1], 1);
}

static void
test_backlog_empty(void **state)
{
	struct fixture			*f = *state;
	struct index_stats_backlog	 b;

	sql(f, "UPDATE messages SET state = 'delivered'", NULL);
	assert_int_equal(index_stats_backlog(f->idx, NOW, &b), INDEX_OK);
	assert_int_equal(b.messages, 0);
	assert_int_equal(b.oldest_ms, 0);		/* none, not "epoch" */
	assert_int_equal(b.bytes, 0);
}

/* test_backlog_mostly_done - pending recipients counted from the backlog side too */
static void
test_backlog_mostly_done(void **state)
{
	struct fixture			*f = *state;
	struct index_stats_backlog	 b;
	int				 i;

	/* six more delivered messages (one with a pending recipient left, which is
	 * not backlog): 5 backlog of 12, so the join walks the backlog messages */
	for (i = 0; i < 6; i++)
		add(f, 6, 4000 + i, 10, INDEX_LOC_STORE, "h@one.test", "i@two.test");
	sql(f, "UPDATE messages SET state = 'delivered' WHERE received_ms < 1799790000000", NULL);
	sql(f, "UPDATE recipients SET state = 'delivered' WHERE rcpt = 'h@one.test'", NULL);
	assert_int_equal(index_stats_backlog(f->idx, NOW, &b), INDEX_OK);
	assert_int_equal(b.total_messages, 12);
	assert_int_equal(b.messages, 5);
	assert_int_equal(b.recipients, 5);	/* the 6 pending i@two.test are not backlog */
	/* and from the other side: most messages backlog again */
	sql(f, "UPDATE messages SET state = 'queued' WHERE received_ms < 1799790000000", NULL);
	sql(f, "UPDATE messages SET state = 'expired' WHERE id = ?1", f->ids[0]);
	assert_int_equal(index_stats_backlog(f->idx, NOW, &b), INDEX_OK);
	assert_int_equal(b.messages, 10);	/* 1..4 and the six; 0 expired, 5 delivered */
	assert_int_equal(b.recipients, 9);	/* c@ d@ e@ (held) and six i@; not 0's a@ b@ */
}

struct seen {
	char	names[8][32];
	int64_t	a[8], b[8], m[8];
	int64_t	bk[8][INDEX_STATS_NBUCKETS];
	int	n;
};

/* seen_add - a row: its name and figures a and b; 0, a callback's "go on" */
static int
seen_add(struct seen *s, const char *name, int64_t a, int64_t b)
{
	snprintf(s->names[s->n], sizeof(s->names[0]), "%s", name);
	s->a[s->n] = a;
	s->b[s->n++] = b;
	return 0;
}

static int
state_cb(const char *state, int64_t messages, int64_t bytes, void *arg)
{
	return seen_add(arg, state, messages, bytes);
}

static void
test_states(void **state)
{
	struct fixture	*f = *state;
	struct seen	 s = { .n = 0 };

	assert_int_equal(index_stats_states(f->idx, state_cb, &s), INDEX_OK);
	assert_int_equal(s.n, 4);		/* sorted by name */
	assert_string_equal(s.names[0], "delivered");
	assert_string_equal(s.names[1], "hold");
	assert_string_equal(s.names[2], "quarantine");
	assert_string_equal(s.names[3], "queued");
	assert_int_equal(s.a[3], 3);
	assert_int_equal(s.b[3], 700);
}

static int
domain_cb(const struct index_stats_domain *d, void *arg)
{
	struct seen *s = arg;

	s->m[s->n] = d->messages;
	memcpy(s->bk[s->n], d->buckets, sizeof(d->buckets));
	return seen_add(s, d->domain, d->recipients, d->oldest_ms);
}

static void
test_domains(void **state)
{
	struct fixture	*f = *state;
	struct seen	 s = { .n = 0 };
	int64_t		 n = -1;

	assert_int_equal(index_stats_domains(f->idx, NOW, 0, domain_cb, &s, &n), INDEX_OK);
	/* one.test 3 pending, two.test 2; three.test has none pending */
	assert_int_equal(n, 2);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.names[0], "one.test");
	assert_int_equal(s.a[0], 3);
	assert_int_equal(s.b[0], NOW - 100 * MIN);
	assert_int_equal(s.bk[0][0], 1);
	assert_int_equal(s.bk[0][1], 1);
	assert_int_equal(s.bk[0][5], 1);
	assert_string_equal(s.names[1], "two.test");
	assert_int_equal(s.bk[1][9], 1);
	/* the limit keeps the largest; the total is still reported */
	s.n = 0;
	assert_int_equal(index_stats_domains(f->idx, NOW, 1, domain_cb, &s, &n), INDEX_OK);
	assert_int_equal(s.n, 1);
	assert_int_equal(n, 2);
	/* messages are counted once per domain: 0, 1, 2 and this one with two rcpts */
	add(f, 6, 3, 10, INDEX_LOC_STORE, "x@one.test", "y@one.test");
	s.n = 0;
	assert_int_equal(index_stats_domains(f->idx, NOW, 0, domain_cb, &s, &n), INDEX_OK);
	assert_string_equal(s.names[0], "one.test");
	assert_int_equal(s.a[0], 5);
	assert_int_equal(s.m[0], 4);
	assert_int_equal(s.bk[0][0], 3);
	assert_string_equal(s.names[1], "two.test");
	assert_int_equal(s.m[1], 2);
}

struct err_seen {
	int	n;
	char	target[4][64];
	int	code[4];
	int64_t	count[4];
	char	text[4][64];
};

static int
err_cb(const char *target, int code, int64_t count, int64_t last_ms, const char *text,
    void *arg)
{
	struct err_seen *s = arg;

	snprintf(s->target[s->n], sizeof(s->target[0]), "%s", target);
	s->code[s->n] = code;
	s->count[s->n] = count;
	snprintf(s->text[s->n++], sizeof(s->text[0]), "%s", text);
	return 0;
}

/* att_cb - index_stats_attempts rows into an err_seen: error rows without time or text */
static int
att_cb(const char *target, int code, int64_t count, void *arg)
{
	return err_cb(target, code, count, 0, "", arg);
}

static void
test_errors(void **state)
{
	struct fixture	*f = *state;
	struct err_seen	 s = { .n = 0 };
	char		 q[512];

	snprintf(q, sizeof(q), "INSERT INTO attempts (message_id, rcpt, at_ms, target, code,"
	    " text) VALUES ('x', 'a', %lld, 'p:25', 421, 'busy 1'), ('x', 'a', %lld, 'p:25',"
	    " 421, 'busy 2'), ('x', 'a', %lld, 'p:25', 550, 'no user'), ('x', 'a', %lld,"
	    " 'p:25', 250, 'ok'), ('x', 'a', %lld, 'p:25', 421, 'too old')",
	    NOW - 10 * MIN, NOW - 5 * MIN, NOW - 1 * MIN, NOW - 1 * MIN, NOW - 120 * MIN);
	sql(f, q, NULL);
	assert_int_equal(index_stats_errors(f->idx, NOW - 60 * MIN, err_cb, &s), INDEX_OK);
	assert_int_equal(s.n, 2);		/* 2xx is not an error; 'too old' out of window */
	assert_int_equal(s.code[0], 421);
	assert_int_equal(s.count[0], 2);
	assert_string_equal(s.text[0], "busy 2");	/* the latest text */
	assert_int_equal(s.code[1], 550);
}

static int
ctr_cb(const char *name, const char *label, int64_t value, void *arg)
{
	struct seen *s = arg;

	snprintf(s->names[s->n], sizeof(s->names[0]), "%s/%s", name, label);
	s->a[s->n++] = value;
	return 0;
}

static int
sample_cb(int64_t at, int64_t messages, int64_t bytes, int64_t oldest, void *arg)
{
	struct seen *s = arg;

	s->a[s->n] = at;
	s->b[s->n++] = oldest;
	return 0;
}

static void
test_counters_control_samples(void **state)
{
	struct fixture	*f = *state;
	struct seen	 s = { .n = 0 };
	char		 q[256];

	sql(f, "INSERT INTO counters VALUES ('ingest_rejected', 'relay', 7, 1),"
	    " ('ingest_accepted', '', 42, 1)", NULL);
	assert_int_equal(index_stats_counters(f->idx, ctr_cb, &s), INDEX_OK);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.names[0], "ingest_accepted/");
	assert_int_equal(s.a[0], 42);
	assert_string_equal(s.names[1], "ingest_rejected/relay");

	s.n = 0;
	assert_int_equal(index_kv_set(f->idx, "paused", "1"), INDEX_OK);
	assert_int_equal(index_stats_control(f->idx, ctr_cb, &s), INDEX_OK);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.names[0], "paused/1");

	s.n = 0;
	snprintf(q, sizeof(q), "INSERT INTO backlog_samples VALUES (%lld, 1, 2, NULL),"
	    " (%lld, 3, 4, 5), (%lld, 6, 7, 8)", NOW - 600 * MIN, NOW - 2 * MIN, NOW - MIN);
	sql(f, q, NULL);
	assert_int_equal(index_stats_samples(f->idx, NOW - 60 * MIN, sample_cb, &s), INDEX_OK);
	assert_int_equal(s.n, 2);		/* oldest first, window applied */
	assert_int_equal(s.a[0], NOW - 2 * MIN);
	assert_int_equal(s.b[0], 5);
}

/* test_replay - what serve publishes, read back; unwritten and malformed keys read as unknown */
static void
test_replay(void **state)
{
	struct fixture			*f = *state;
	struct index_stats_replay	 r;
	static const struct { const char *k, *v; } kv[] = {
		{ "paused", "1" }, { "rate", "600/m" }, { "target_rate", "7.500" },
		{ "achieved_rate", "bogus" }, { "primary_health", "down" },
		{ "primary_checked_ms", "1700000000123" }, { "primary_reason", "connect: refused" },
		{ "storage_health", "failing" }, { "storage_checked_ms", "-5" },
		{ "storage_reason", "timeout" },
	};

	assert_int_equal(index_stats_replay(f->idx, &r), INDEX_OK);
	assert_int_equal(r.paused, 0);		/* a fresh index: running, nothing known */
	assert_string_equal(r.rate, "");
	assert_int_equal(r.has_target, 0);
	assert_string_equal(r.primary, "");
	assert_int_equal(r.storage_checked_ms, 0);
	for (size_t i = 0; i < sizeof(kv) / sizeof(kv[0]); i++)
		assert_int_equal(index_kv_set(f->idx, kv[i].k, kv[i].v), INDEX_OK);
	assert_int_equal(index_stats_replay(f->idx, &r), INDEX_OK);
	assert_int_equal(r.paused, 1);
	assert_string_equal(r.rate, "600/m");
	assert_int_equal(r.has_target, 1);
	assert_true(r.target == 7.5);
	assert_int_equal(r.has_achieved, 0);	/* not a number: unknown, not 0 */
	assert_string_equal(r.primary, "down");
	assert_int_equal(r.primary_checked_ms, 1700000000123LL);
	assert_string_equal(r.primary_reason, "connect: refused");
	assert_string_equal(r.storage, "failing");
	assert_int_equal(r.storage_checked_ms, 0);	/* negative: ignored */
	assert_string_equal(r.storage_reason, "timeout");
}

/* test_attempts - per-target totals kept by the trigger, and seeded by migration 004 */
static void
test_attempts(void **state)
{
	struct fixture	*f = *state;
	struct err_seen	 s = { .n = 0 };
	char		 err[256];
	static const char ins[] = "INSERT INTO attempts (message_id, rcpt, at_ms, target, code)"
	    " VALUES ('x', 'a', 1, 'p:25', 421), ('x', 'a', 2, 'p:25', 250),"
	    " ('x', 'a', 3, 'p:25', 421), ('x', 'a', 4, 'b:24', 0)";

	sql(f, ins, NULL);
	assert_int_equal(index_stats_attempts(f->idx, att_cb, &s), INDEX_OK);
	assert_int_equal(s.n, 3);		/* by target, then code */
	assert_string_equal(s.target[0], "b:24");
	assert_int_equal(s.count[0], 1);
	assert_int_equal(s.code[1], 250);
	assert_int_equal(s.code[2], 421);
	assert_int_equal(s.count[2], 2);
	/* an index from before 004: the totals start from the attempts present */
	sql(f, "DROP TRIGGER attempt_totals_insert", NULL);
	sql(f, "DROP TABLE attempt_totals", NULL);
	sql(f, "DROP INDEX messages_spool", NULL);
	sql(f, "DROP INDEX messages_forget", NULL);	/* 005's, which follows */
	sql(f, "DROP INDEX messages_drill", NULL);	/* 007's, likewise */
	sql(f, "ALTER TABLE messages DROP COLUMN drill", NULL);
	sql(f, "DROP INDEX messages_auth_dmarc", NULL);	/* 008's */
	sql(f, "ALTER TABLE messages DROP COLUMN auth_spf", NULL);
	sql(f, "ALTER TABLE messages DROP COLUMN auth_dkim", NULL);
	sql(f, "ALTER TABLE messages DROP COLUMN auth_dmarc", NULL);
	sql(f, "PRAGMA user_version = 3", NULL);
	sql(f, ins, NULL);
	index_close(f->idx);
	f->idx = index_open(f->db.path, err, sizeof(err));
	assert_non_null(f->idx);
	s.n = 0;
	assert_int_equal(index_stats_attempts(f->idx, att_cb, &s), INDEX_OK);
	assert_int_equal(s.n, 3);
	assert_int_equal(s.count[2], 4);
}

/*
 * plan_check - EXPLAIN QUERY PLAN of sql: no step reads a table without an
 * index; a full SCAN only where scan_ok (walking a whole index: a count of
 * every message, the per-state figures, a partial index); the first step
 * contains first when given (the join order the code relies on)
 */
static void
plan_check(sqlite3 *db, const char *sql, int scan_ok, const char *first)
{
	sqlite3_stmt	*st;
	char		 q[4096];
	const char	*d;
	int		 n = 0;

	snprintf(q, sizeof(q), "EXPLAIN QUERY PLAN %s", sql);
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
		fail_msg("prepare %s: %s", sql, sqlite3_errmsg(db));
	while (sqlite3_step(st) == SQLITE_ROW) {
		d = (const char *)sqlite3_column_text(st, 3);
		if (strcmp(d, "SCAN CONSTANT ROW") == 0 || strncmp(d, "SCALAR SUBQUERY", 15) == 0)
			continue;
		if ((strncmp(d, "SCAN ", 5) == 0 && (!scan_ok || strstr(d, "INDEX") == NULL)) ||
		    (strncmp(d, "SEARCH ", 7) == 0 && strstr(d, "INDEX") == NULL &&
		    strstr(d, "PRIMARY KEY") == NULL))
			fail_msg("got plan step \"%s\" for %s, want an index search", d, sql);
		if (n++ == 0 && first != NULL && strstr(d, first) == NULL)
			fail_msg("got first plan step \"%s\" for %s, want \"%s\"", d, sql, first);
	}
	sqlite3_finalize(st);
}

/*
 * test_query_plans - index_stats' queries with statistics as ANALYZE wrote
 * them for 1,000,000 messages (storetool fill), so the planner decides as on
 * a big index.  The SQL is index_stats.c's, repeated here.
 */
static void
test_query_plans(void **state)
{
#define BW	"state IN ('queued', 'active', 'hold', 'quarantine')"
#define NOTB(c)	"(SELECT count(*) FROM messages m CROSS JOIN recipients r" \
	" WHERE r.message_id = m.id AND r.state = 'pending' AND " c ")"
	static const struct { const char *sql; int scan_ok; const char *first; } q[] = {
		{ "SELECT count(*), coalesce(sum(size), 0), coalesce(min(received_ms), 0)"
		    " FROM messages WHERE " BW, 0, "COVERING INDEX messages_backlog" },
		{ "SELECT (SELECT count(*) FROM messages WHERE " BW " AND received_ms > ?1 - ?2),"
		    " (SELECT count(*) FROM messages WHERE " BW " AND received_ms > ?1 - ?3"
		    " AND received_ms <= ?1 - ?2), (SELECT count(*) FROM messages WHERE " BW
		    " AND received_ms <= ?1 - ?10)", 0, NULL },
		{ "SELECT count(*) FROM messages WHERE state = 'quarantine'", 0, NULL },
		{ "SELECT count(*), coalesce(sum(size), 0) FROM messages WHERE location <> 0",
		    1, "COVERING INDEX messages_spool" },
		{ "SELECT count(*) FROM messages", 1, NULL },
		{ "SELECT count(*) FROM recipients WHERE state = 'quarantine'", 0, NULL },
		/* pending recipients, from the backlog side and from the other side */
		{ "SELECT count(*) FROM messages m CROSS JOIN recipients r"
		    " WHERE r.message_id = m.id AND r.state = 'pending' AND m." BW, 0,
		    "m USING COVERING INDEX messages_backlog" },
		{ "SELECT (SELECT count(*) FROM recipients WHERE state = 'pending')"
		    " - " NOTB("m.state < 'active'")
		    " - " NOTB("m.state > 'active' AND m.state < 'hold'")
		    " - " NOTB("m.state > 'hold' AND m.state < 'quarantine'")
		    " - " NOTB("m.state > 'quarantine' AND m.state < 'queued'")
		    " - " NOTB("m.state > 'queued'"), 0, NULL },
		/* per domain: the backlog messages outer, so a message's rows are adjacent */
		{ "SELECT r.domain, m.received_ms, m.id FROM messages m CROSS JOIN recipients r"
		    " WHERE r.message_id = m.id AND r.state = 'pending' AND m." BW, 0,
		    "m USING COVERING INDEX messages_backlog" },
		{ "SELECT state, count(*), coalesce(sum(size), 0) FROM messages GROUP BY state"
		    " ORDER BY state", 1, "COVERING INDEX messages_backlog" },
		{ "SELECT target, code, count(*), max(at_ms), text FROM attempts WHERE at_ms >= ?1"
		    " AND (code < 200 OR code > 299) GROUP BY target, code ORDER BY 3 DESC, 1, 2",
		    0, "INDEX attempts_time" },
		{ "SELECT at_ms, count, bytes, coalesce(oldest_ms, 0) FROM backlog_samples"
		    " WHERE at_ms >= ?1 ORDER BY at_ms", 0, NULL },
	};
#undef NOTB
#undef BW
	static const char stats[] =
	    "INSERT INTO sqlite_stat1 VALUES"
	    " ('recipients', 'recipients_rcpt', '1999356 40'),"
	    " ('recipients', 'recipients_state', '1999356 1999356 39988'),"
	    " ('recipients', 'recipients_domain', '1999356 39988 39988'),"
	    " ('recipients', 'recipients_pending', '1999356 1999356 2'),"
	    " ('recipients', 'recipients', '1999356 2 1'),"
	    " ('messages', 'messages_backlog', '1000000 1000000 1 1'),"
	    " ('messages', 'messages_received', '1000000 1'),"
	    " ('messages', 'messages_due', '1000000 1000000 14 1'),"
	    " ('messages', 'messages_location', '1000 1000 1 1'),"
	    " ('messages', 'messages_spool', '1000 1000 1'),"
	    " ('messages', 'messages', '1000000 1'),"
	    " ('attempts', 'attempts_time', '3000000 2'),"
	    " ('attempts', 'attempts_message', '3000000 3 1'),"
	    " ('attempts', NULL, '3000000');"
	    "ANALYZE sqlite_schema";
	struct fixture	*f = *state;
	sqlite3		*db = index_db(f->idx);
	size_t		 i;

	assert_int_equal(sqlite3_exec(db, "ANALYZE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "DELETE FROM sqlite_stat1", NULL, NULL, NULL),
	    SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, stats, NULL, NULL, NULL), SQLITE_OK);
	for (i = 0; i < sizeof(q) / sizeof(q[0]); i++)
		plan_check(db, q[i].sql, q[i].scan_ok, q[i].first);
}

/* shape_cb - index_stats_shape rows: messages per domain and by age (mbuckets) */
static int
shape_cb(const struct index_stats_domain *d, void *arg)
{
	struct seen *s = arg;

	snprintf(s->names[s->n], sizeof(s->names[0]), "%s", d->domain);
	s->m[s->n] = d->messages;
	memcpy(s->bk[s->n++], d->mbuckets, sizeof(d->mbuckets));
	return 0;
}

/* plan_has - 1 if a step of sql's EXPLAIN QUERY PLAN contains what */
static int
plan_has(sqlite3 *db, const char *sql, const char *what)
{
	sqlite3_stmt	*st;
	char		 q[4096];
	int		 found = 0;

	snprintf(q, sizeof(q), "EXPLAIN QUERY PLAN %s", sql);
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		found |= strstr((const char *)sqlite3_column_text(st, 3), what) != NULL;
	sqlite3_finalize(st);
	return found;
}

/*
 * test_shape - qshape: a message counts once per domain, in the bucket of its
 * age; filters narrow the messages; and the statement actually run (found in
 * the handle's statement cache) walks messages_backlog with no temporary
 * b-tree: the old SELECT DISTINCT sorted every (message, domain) pair
 */
static void
test_shape(void **state)
{
	struct fixture		*f = *state;
	struct index_filter	 flt = { 0 };
	struct seen		 s = { .n = 0 };
	sqlite3			*db = index_db(f->idx);
	sqlite3_stmt		*st = NULL;

	add(f, 6, 3, 10, INDEX_LOC_STORE, "x@one.test", "y@one.test");
	assert_int_equal(index_stats_shape(f->idx, &flt, NOW, 0, shape_cb, &s, NULL), INDEX_OK);
	/* one.test: messages 0 (2 min), 1 (7), 2 (100), 6 (3, two rcpts); two.test: 0, 3 */
	assert_int_equal(s.n, 2);
	assert_string_equal(s.names[0], "one.test");
	assert_int_equal(s.m[0], 4);
	assert_int_equal(s.bk[0][0], 2);
	assert_int_equal(s.bk[0][1], 1);
	assert_int_equal(s.bk[0][5], 1);
	assert_string_equal(s.names[1], "two.test");
	assert_int_equal(s.m[1], 2);
	assert_int_equal(s.bk[1][0], 1);
	assert_int_equal(s.bk[1][9], 1);
	/* held messages only; then the messages with a recipient in two.test */
	s.n = 0;
	flt.state = "hold";
	assert_int_equal(index_stats_shape(f->idx, &flt, NOW, 0, shape_cb, &s, NULL), INDEX_OK);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.names[0], "two.test");
	s.n = 0;
	flt.state = NULL;
	flt.domain = "TWO.test";
	assert_int_equal(index_stats_shape(f->idx, &flt, NOW, 0, shape_cb, &s, NULL), INDEX_OK);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.m[0], 2);	/* two.test: 0 and 3; one.test: 0 */
	assert_int_equal(s.m[1], 1);
	flt.domain = NULL;
	assert_int_equal(index_stats_shape(f->idx, &flt, NOW, 0, shape_cb, &s, NULL), INDEX_OK);
	while ((st = sqlite3_next_stmt(db, st)) != NULL)
		if (strstr(sqlite3_sql(st), "CROSS JOIN recipients r") != NULL &&
		    strstr(sqlite3_sql(st), "EXISTS") == NULL)
			break;
	assert_non_null(st);
	plan_check(db, sqlite3_sql(st), 0, "m USING COVERING INDEX messages_backlog");
	assert_false(plan_has(db, sqlite3_sql(st), "TEMP B-TREE"));
}

/*
 * test_shape_order - qshape's own order and TOTAL row come from the index
 * (the CLI only prints): most messages first (four.test has the most
 * recipients but fewer messages than one.test), ties by name; the limit cuts
 * the rows, never the TOTAL
 */
static void
test_shape_order(void **state)
{
	struct fixture			*f = *state;
	struct index_stats_domain	 total;
	struct seen			 s = { .n = 0 };

	add(f, 6, 3, 10, INDEX_LOC_STORE, "x@four.test", "y@four.test");
	add(f, 7, 4, 10, INDEX_LOC_STORE, "z@four.test", "w@four.test");
	assert_int_equal(index_stats_shape(f->idx, NULL, NOW, 0, shape_cb, &s, &total),
	    INDEX_OK);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.names[0], "one.test");
	assert_int_equal(s.m[0], 3);
	assert_string_equal(s.names[1], "four.test");
	assert_string_equal(s.names[2], "two.test");
	assert_string_equal(total.domain, "TOTAL");
	assert_int_equal(total.messages, 7);
	assert_int_equal(total.recipients, 9);
	assert_int_equal(total.mbuckets[0], 4);
	assert_int_equal(total.oldest_ms, NOW - 2000 * MIN);
	s.n = 0;
	assert_int_equal(index_stats_shape(f->idx, NULL, NOW, 1, shape_cb, &s, &total),
	    INDEX_OK);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.names[0], "one.test");
	assert_int_equal(total.messages, 7);
}

TESTLIB_MAIN(NULL, NULL,
	cmocka_unit_test(test_bucket_edges),
	cmocka_unit_test_setup_teardown(test_backlog, setup, teardown),
	cmocka_unit_test_setup_teardown(test_backlog_edges, setup, teardown),
	cmocka_unit_test_setup_teardown(test_backlog_empty, setup, teardown),
	cmocka_unit_test_setup_teardown(test_states, setup, teardown),
	cmocka_unit_test_setup_teardown(test_domains, setup, teardown),
	cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	cmocka_unit_test_setup_teardown(test_counters_control_samples, setup, teardown),
	cmocka_unit_test_setup_teardown(test_replay, setup, teardown),
	cmocka_unit_test_setup_teardown(test_backlog_mostly_done, setup, teardown),
	cmocka_unit_test_setup_teardown(test_attempts, setup, teardown),
	cmocka_unit_test_setup_teardown(test_query_plans, setup, teardown),
	cmocka_unit_test_setup_teardown(test_shape, setup, teardown),
	cmocka_unit_test_setup_teardown(test_shape_order, setup, teardown),
)

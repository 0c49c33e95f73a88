/*
 * test_index.c - migrations, reopen, newer-schema refusal, add/get/duplicate,
 * the state read back as an enum, the drill's hold through the one state
 * setter (a final canary keeps its state), two processes writing at once, the
 * statement cache, and the query plans of the hot queries.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "index.h"
#include "index_drill.h"
#include "msgid.h"
#include "testlib.h"

static char	dbpath[MXS_PATH_MAX];

static int
setup(void **state)
{
	testlib_top_next(dbpath, sizeof(dbpath), ".sqlite");
	return 0;
}

/* make - an envelope with n recipients in domain dom */
static void
make(struct envelope *e, int64_t t, int n, const char *dom)
{
	char	a[128];
	int	i;

	testlib_envelope_plain(e, "mx1", t, 1234, "BODY=8BITMIME");
	memset(e->sha256, 'a', 64);
	for (i = 0; i < n; i++) {
		snprintf(a, sizeof(a), "u%d@%s", n - i, dom);	/* not in sorted order */
		assert_int_equal(envelope_add_rcpt(e, a, i == 0 ? "NOTIFY=NEVER" : ""), 0);
	}
}

static void
test_migrate_reopen(void **state)
{
	struct index	*ix;
	char		 err[256];

	assert_null(index_open_existing(dbpath, err, sizeof(err)));
	assert_non_null(strstr(err, dbpath));
	ix = index_open(dbpath, err, sizeof(err));
	assert_non_null(ix);
	assert_true(index_schema_version(ix) >= 1);
	index_close(ix);
	ix = index_open_existing(dbpath, err, sizeof(err));	/* idempotent */
	assert_non_null(ix);
	assert_true(index_schema_version(ix) >= 1);
	/* a newer program migrated this file: refuse it */
	assert_int_equal(sqlite3_exec(index_db(ix), "PRAGMA user_version = 999", NULL, NULL,
	    NULL), SQLITE_OK);
	index_close(ix);
	assert_null(index_open(dbpath, err, sizeof(err)));
	assert_non_null(strstr(err, "newer"));
}

static void
test_add_get(void **state)
{
	struct index		*ix;
	struct envelope		 e, g;
	enum index_location	 loc;
	enum queue_state	 qs;
	int64_t			 purged = -1;
	char			 err[256], key[OBJKEY_MAX], sp[256], *v;

	ix = index_open(dbpath, err, sizeof(err));
	assert_non_null(ix);
	make(&e, now_ms(), 3, "Example.TEST");
	assert_int_equal(index_has_message(ix, e.id), INDEX_NOTFOUND);
	assert_int_equal(index_add_message(ix, &e, "mail/k.eml", INDEX_LOC_SPOOL, "/sp/x.eml"),
	    INDEX_OK);
	assert_int_equal(index_add_message(ix, &e, "mail/k.eml", INDEX_LOC_STORE, NULL),
	    INDEX_EXISTS);
	assert_int_equal(index_has_message(ix, e.id), INDEX_OK);
	assert_int_equal(index_get_message(ix, e.id, &g, key, sizeof(key), &loc, sp, sizeof(sp)),
	    INDEX_OK);
	assert_int_equal(loc, INDEX_LOC_SPOOL);
	assert_string_equal(sp, "/sp/x.eml");
	assert_string_equal(key, "mail/k.eml");
	assert_int_equal(g.nrcpts, 3);
	assert_string_equal(g.rcpts[0].addr, "u3@Example.TEST");	/* envelope order */
	assert_string_equal(g.rcpts[0].params, "NOTIFY=NEVER");
	assert_string_equal(g.mail_params, "BODY=8BITMIME");
	assert_string_equal(g.sha256, e.sha256);
	envelope_free(&g);
	assert_int_equal(index_set_location(ix, e.id, INDEX_LOC_STORE, "mail/k.eml", NULL),
	    INDEX_OK);
	assert_int_equal(index_get_message(ix, e.id, &g, key, sizeof(key), &loc, sp, sizeof(sp)),
	    INDEX_OK);
	assert_int_equal(loc, INDEX_LOC_STORE);
	assert_string_equal(sp, "");
	envelope_free(&g);
	assert_int_equal(index_set_location(ix, "01JDAB3K8QW2E5R7T9Y1V3X5Z7.mx1",
	    INDEX_LOC_STORE, "x", NULL), INDEX_NOTFOUND);
	assert_int_equal(index_get_state(ix, e.id, &qs, &purged), INDEX_OK);
	assert_int_equal(qs, QUEUE_QUEUED);
	assert_int_equal(purged, 0);
	assert_int_equal(index_get_state(ix, "01JDAB3K8QW2E5R7T9Y1V3X5Z7.mx1", &qs, NULL),
	    INDEX_NOTFOUND);
	assert_int_equal(index_kv_get(ix, "paused", &v), INDEX_NOTFOUND);
	assert_int_equal(index_kv_set(ix, "paused", "1"), INDEX_OK);
	assert_int_equal(index_kv_set(ix, "paused", "0"), INDEX_OK);
	assert_int_equal(index_kv_get(ix, "paused", &v), INDEX_OK);
	assert_string_equal(v, "0");
	free(v);
	/* domain is lower-cased, after the last '@' */
	{
		sqlite3_stmt	*st;

		assert_int_equal(sqlite3_prepare_v2(index_db(ix), "SELECT count(*) FROM"
		    " recipients WHERE domain = 'example.test'", -1, &st, NULL), SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		assert_int_equal(sqlite3_column_int(st, 0), 3);
		sqlite3_finalize(st);
	}
	envelope_free(&e);
	index_close(ix);
}

static int
count_cb(const char *id, const char *key, enum index_location loc, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static int
spooled_cb(const char *id, const char *key, const char *sp, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

/* writer - child: n single-message transactions */
static int
writer(int n)
{
	struct index	*ix;
	struct envelope	 e;
	char		 err[256];
	int		 i, bad = 0;

	if ((ix = index_open(dbpath, err, sizeof(err))) == NULL)
		return 2;
	for (i = 0; i < n; i++) {
		make(&e, now_ms(), 2, "example.test");
		if (index_add_message(ix, &e, "k", i % 7 ? INDEX_LOC_STORE : INDEX_LOC_SPOOL,
		    "/s") != INDEX_OK) {
			fprintf(stderr, "writer: %s\n", index_error(ix));
			bad = 1;
		}
		envelope_free(&e);
	}
	index_close(ix);
	return bad;
}

/* set_state - move id's row to state by hand (as another process might have) */
static void
set_state(struct index *ix, const char *id, const char *state)
{
	char sql[256];

	snprintf(sql, sizeof(sql), "UPDATE messages SET state = '%s' WHERE id = '%s'", state, id);
	assert_int_equal(sqlite3_exec(index_db(ix), sql, NULL, NULL, NULL), SQLITE_OK);
}

/*
 * test_drill_mark_final - the drill's mark after the 250 holds a canary still
 * in the backlog, and leaves a final one in its state (the one setter's
 * from-states): a delivered or deleted canary put on hold could be released
 * and sent again.  Marked either way, so the drill's forget removes it.
 */
static void
test_drill_mark_final(void **state)
{
	static const char *const final[] = { "delivered", "deleted", "expired", "adopted" };
	struct index		*ix;
	struct envelope		 e;
	enum queue_state	 qs;
	char			 err[256];
	int			 marked;

	ix = index_open(dbpath, err, sizeof(err));
	assert_non_null(ix);
	for (size_t i = 0; i <= sizeof(final) / sizeof(final[0]); i++) {
		make(&e, now_ms() + (int64_t)i, 1, "example.test");
		assert_int_equal(index_add_message(ix, &e, "mail/k.eml", INDEX_LOC_STORE, NULL),
		    INDEX_OK);
		if (i < sizeof(final) / sizeof(final[0]))
			set_state(ix, e.id, final[i]);
		else
			set_state(ix, e.id, "active");
		assert_int_equal(index_drill_mark(ix, e.id, 5), INDEX_OK);
		assert_int_equal(index_get_state(ix, e.id, &qs, NULL), INDEX_OK);
		if (i < sizeof(final) / sizeof(final[0]) && qs != queue_state_parse(final[i]))
			fail_msg("drill mark of a %s canary: got state %s, want it kept", final[i],
			    queue_state_name(qs));
		if (i == sizeof(final) / sizeof(final[0]))
			assert_int_equal(qs, QUEUE_HOLD);
		assert_int_equal(index_drill_marked(ix, e.id, &marked), INDEX_OK);
		assert_int_equal(marked, 1);
		envelope_free(&e);
	}
	assert_int_equal(index_drill_mark(ix, "01JDAB3K8QW2E5R7T9Y1V3X5Z7.mx1", 5),
	    INDEX_NOTFOUND);
	index_close(ix);
}

static void
test_two_processes(void **state)
{
	struct index	*ix;
	pid_t		 p[2];
	int		 i, status, n = 0, ns = 0;
	char		 err[256];

	/* both children also race to create and migrate the new file */
	for (i = 0; i < 2; i++) {
		p[i] = fork();
		assert_true(p[i] != -1);
		if (p[i] == 0)
			_exit(writer(300));
	}
	for (i = 0; i < 2; i++) {
		assert_int_equal(waitpid(p[i], &status, 0), p[i]);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	ix = index_open_existing(dbpath, err, sizeof(err));
	assert_non_null(ix);
	assert_int_equal(index_foreach_message(ix, count_cb, &n), INDEX_OK);
	assert_int_equal(n, 600);
	assert_int_equal(index_foreach_spooled(ix, spooled_cb, &ns), INDEX_OK);
	assert_int_equal(ns, 2 * 43);	/* i % 7 == 0 for 43 of 0..299 */
	index_close(ix);
}

/* threads: each its own handle on one file, as the commit and replay workers */
#define TH_N		8
#define TH_MSGS		150

static void *
th_writer(void *arg)
{
	struct index	*ix;
	struct envelope	 e;
	char		 err[256], key[128];
	intptr_t	 bad = 0;

	if ((ix = index_open(dbpath, err, sizeof(err))) == NULL)
		return (void *)1;
	for (int i = 0; i < TH_MSGS; i++) {
		make(&e, 1700000000000LL + (intptr_t)arg * 1000 + i, 1, "example.test");
		snprintf(key, sizeof(key), "k/%s.eml", e.id);
		/* a busy timeout here would be a TEMPFAIL: writers of one process must queue */
		if (index_add_message(ix, &e, key, INDEX_LOC_STORE, NULL) != INDEX_OK)
			bad++;
		envelope_free(&e);
	}
	index_close(ix);
	return (void *)bad;
}

static void
test_threads(void **state)
{
	struct index	*ix, *other;
	pthread_t	 th[TH_N];
	void		*rv;
	char		 err[256];
	int		 n = 0;

	assert_non_null(ix = index_open(dbpath, err, sizeof(err)));
	for (intptr_t i = 0; i < TH_N; i++)
		assert_int_equal(pthread_create(&th[i], NULL, th_writer, (void *)i), 0);
	for (int i = 0; i < TH_N; i++) {
		assert_int_equal(pthread_join(th[i], &rv), 0);
		assert_int_equal((intptr_t)rv, 0);
	}
	assert_int_equal(index_foreach_message(ix, count_cb, &n), INDEX_OK);
	assert_int_equal(n, TH_N * TH_MSGS);

	/* a writer that holds its transaction: another handle waits its busy timeout, then TEMPFAIL */
	assert_non_null(other = index_open(dbpath, err, sizeof(err)));
	index_set_busy_timeout(other, 200);
	assert_int_equal(index_begin(ix), INDEX_OK);
	assert_int_equal(index_begin(other), INDEX_TEMPFAIL);
	assert_non_null(strstr(index_error(other), "busy"));
	index_rollback(ix);
	assert_int_equal(index_begin(other), INDEX_OK);	/* released by the rollback */
	assert_int_equal(index_commit(other), INDEX_OK);
	assert_int_equal(index_begin(ix), INDEX_OK);	/* and by the commit */
	assert_int_equal(index_commit(ix), INDEX_OK);
	index_close(other);
	index_close(ix);
}

/* one_int - step s once, expect a row; its first column (-1 when NULL) */
static int64_t
one_int(sqlite3_stmt *s)
{
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	return sqlite3_column_type(s, 0) == SQLITE_NULL ? -1 : sqlite3_column_int64(s, 0);
}

/*
 * test_stmt_cache - index_prepare hands back the same statement for the same
 * SQL once given back, reset and without the old bindings; never one still in
 * use; evicts only what is not in use; reports bad SQL.
 */
static void
test_stmt_cache(void **state)
{
	struct index	*ix;
	sqlite3_stmt	*a, *b, *held, *s;
	char		 err[256], sql[64];

	assert_non_null(ix = index_open(dbpath, err, sizeof(err)));
	assert_non_null(a = index_prepare(ix, "SELECT ?1 + 1"));
	sqlite3_bind_int(a, 1, 41);
	assert_int_equal(one_int(a), 42);
	index_unprepare(ix, a);
	assert_int_equal(sqlite3_stmt_busy(a), 0);	/* reset: no read transaction left */

	assert_ptr_equal(b = index_prepare(ix, "SELECT ?1 + 1"), a);
	assert_int_equal(one_int(b), -1);		/* the binding of 41 is gone */
	/* the same SQL while b is out: another statement */
	assert_non_null(s = index_prepare(ix, "SELECT ?1 + 1"));
	assert_ptr_not_equal(s, b);
	sqlite3_bind_int(s, 1, 1);
	assert_int_equal(one_int(s), 2);
	index_unprepare(ix, s);
	index_unprepare(ix, b);

	/* many more distinct statements than the cache holds: one held all along survives */
	assert_non_null(held = index_prepare(ix, "SELECT 7 UNION ALL SELECT 8"));
	assert_int_equal(one_int(held), 7);
	for (int i = 0; i < 200; i++) {
		snprintf(sql, sizeof(sql), "SELECT %d", i % 100);
		assert_non_null(s = index_prepare(ix, sql));
		assert_int_equal(one_int(s), i % 100);
		index_unprepare(ix, s);
	}
	assert_int_equal(one_int(held), 8);
	index_unprepare(ix, held);

	assert_null(index_prepare(ix, "SELEKT 1"));
	assert_non_null(strstr(index_error(ix), "syntax error"));
	index_unprepare(ix, NULL);
	index_close(ix);			/* ASan: the cached statements are finalized */
}

/* plan_ok - every step of the plan is an index SEARCH: no table or full-index SCAN */
static void
plan_ok(sqlite3 *db, const char *sql)
{
	sqlite3_stmt	*st;
	char		 q[2048];
	const char	*d;

	snprintf(q, sizeof(q), "EXPLAIN QUERY PLAN %s", sql);
	if (sqlite3_prepare_v2(db, q, -1, &st, NULL) != SQLITE_OK)
		fail_msg("prepare %s: %s", sql, sqlite3_errmsg(db));
	while (sqlite3_step(st) == SQLITE_ROW) {
		d = (const char *)sqlite3_column_text(st, 3);
		if (strncmp(d, "SCAN ", 5) == 0 || (strncmp(d, "SEARCH ", 7) == 0 &&
		    strstr(d, "INDEX") == NULL && strstr(d, "PRIMARY KEY") == NULL))
			fail_msg("got plan step \"%s\" for %s, want an index search", d, sql);
	}
	sqlite3_finalize(st);
}

/*
 * test_query_plans - the hot queries with statistics as ANALYZE wrote them
 * for 1,000,000 messages (storetool fill), so the planner decides as it would
 * on a big index: a full walk of an index in ORDER BY order is caught too.
 */
static void
test_query_plans(void **state)
{
	static const char *queries[] = {
		/* next due message */
		"SELECT id FROM messages WHERE state = 'queued' AND next_attempt_ms <= 5"
		    " ORDER BY next_attempt_ms LIMIT 10",
		/* backlog figures: count, bytes, oldest */
		"SELECT count(*), sum(size), min(received_ms) FROM messages"
		    " WHERE state IN ('queued', 'active', 'hold', 'quarantine')",
		/* backlog by age bucket */
		"SELECT (5 - received_ms) / 3600000 AS b, count(*) FROM messages"
		    " WHERE state IN ('queued', 'active', 'hold', 'quarantine') GROUP BY b",
		/* backlog by domain, with the oldest message */
		"SELECT r.domain, count(*), count(DISTINCT m.id), min(m.received_ms)"
		    " FROM recipients r JOIN messages m ON m.id = r.message_id"
		    " WHERE r.state = 'pending' GROUP BY r.domain",
		/* one domain's backlog (flush by domain) */
		"SELECT DISTINCT m.id FROM recipients r JOIN messages m ON m.id = r.message_id"
		    " WHERE r.domain = 'example.test' AND r.state = 'pending'",
		/* spooled messages, oldest first (as index_foreach_spooled) */
		"SELECT id FROM messages WHERE location = 1 AND location <> 0"
		    " AND (received_ms, id) > (0, '') ORDER BY received_ms, id LIMIT 512",
	};
	static const char stats[] =
	    "INSERT INTO sqlite_stat1 VALUES"
	    " ('recipients', 'recipients_rcpt', '1999356 40'),"
	    " ('recipients', 'recipients_state', '1999356 1999356 39988'),"
	    " ('recipients', 'recipients_domain', '1999356 39988 39988'),"
	    " ('recipients', 'recipients', '1999356 2 1'),"
	    " ('messages', 'messages_backlog', '1000000 1000000 1 1'),"
	    " ('messages', 'messages_received', '1000000 1'),"
	    " ('messages', 'messages_due', '1000000 1000000 14 1'),"
	    " ('messages', 'messages_location', '1000 1000 1 1'),"
	    " ('messages', 'messages', '1000000 1');"
	    "ANALYZE sqlite_schema";
	struct index	*ix;
	char		 err[256];
	size_t		 i;

	ix = index_open(dbpath, err, sizeof(err));
	assert_non_null(ix);
	assert_int_equal(sqlite3_exec(index_db(ix), "ANALYZE", NULL, NULL, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_exec(index_db(ix), stats, NULL, NULL, NULL), SQLITE_OK);
	for (i = 0; i < sizeof(queries) / sizeof(queries[0]); i++)
		plan_ok(index_db(ix), queries[i]);
	index_close(ix);
}

TESTLIB_MAIN(testlib_top_make, testlib_top_remove,
	cmocka_unit_test_setup(test_migrate_reopen, setup),
	cmocka_unit_test_setup(test_add_get, setup),
	cmocka_unit_test_setup(test_drill_mark_final, setup),
	cmocka_unit_test_setup(test_two_processes, setup),
	cmocka_unit_test_setup(test_threads, setup),
	cmocka_unit_test_setup(test_stmt_cache, setup),
	cmocka_unit_test_setup(test_query_plans, setup),
)

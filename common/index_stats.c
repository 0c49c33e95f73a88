/*
 * index_stats.c - read-only backlog figures (see index_stats.h).
 *
 * Entry points: index_stats_backlog, _states, _domains, _errors, _attempts,
 * _counters, _control, _samples.  Nothing here writes.
 *
 * A call is one snapshot: a single statement, or (index_stats_backlog) one
 * deferred read transaction; in WAL mode neither blocks the ingest or the
 * worker.  Ages come from a CASE expression built from index_stats_bucket_max,
 * so SQL and C agree on the bucket edges.  A failing statement is logged here, once, and mapped to
 * INDEX_TEMPFAIL (busy, I/O, full) or INDEX_PERMFAIL.
 */
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "index_stats.h"
#include "log.h"

const int index_stats_bucket_max[INDEX_STATS_NBUCKETS - 1] = {
	5, 10, 20, 40, 80, 160, 320, 640, 1280
};

#define BACKLOG_WHERE	"state IN ('queued', 'active', 'hold', 'quarantine')"

/* index_stats_bucket - bucket number of an age in milliseconds */
int
index_stats_bucket(int64_t age_ms)
{
	int i;

	for (i = 0; i < INDEX_STATS_NBUCKETS - 1; i++)
		if (age_ms < (int64_t)index_stats_bucket_max[i] * 60000)
			return i;
	return INDEX_STATS_NBUCKETS - 1;
}

/* stats_status - log the SQLite failure once and map it to an index status */
static enum index_status
stats_status(sqlite3 *db, const char *what)
{
	int rc = sqlite3_extended_errcode(db) & 0xff;

	log_warnx("index stats %s failed: %s", what, sqlite3_errmsg(db));
	switch (rc) {
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_IOERR:
	case SQLITE_FULL:
	case SQLITE_NOMEM:
	case SQLITE_CANTOPEN:
		return INDEX_TEMPFAIL;
	default:
		return INDEX_PERMFAIL;
	}
}

/* stats_begin - a deferred (read) transaction: one snapshot per call */
static enum index_status
stats_begin(sqlite3 *db)
{
	if (sqlite3_exec(db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return stats_status(db, "begin");
	return INDEX_OK;
}

/* stats_end - end the read transaction; st passes through */
static enum index_status
stats_end(sqlite3 *db, enum index_status st)
{
	if (sqlite3_get_autocommit(db) == 0 &&
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		if (st == INDEX_OK)
			st = stats_status(db, "commit");
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	}
	return st;
}

/* stats_prepare - prepare sql; NULL after logging */
static sqlite3_stmt *
stats_prepare(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		stats_status(db, "prepare");
		return NULL;
	}
	return st;
}

/*
 * stats_bucket_sql - "CASE WHEN ?1 - col < 300000 THEN 0 ... ELSE 9 END"
 * into b; the edges come from index_stats_bucket_max.
 */
static int
stats_bucket_sql(struct buf *b, const char *col)
{
	int i, rc = 0;

	rc |= buf_addstr(b, "CASE");
	for (i = 0; i < INDEX_STATS_NBUCKETS - 1; i++)
		rc |= buf_printf(b, " WHEN ?1 - %s < %lld THEN %d", col,
		    (long long)index_stats_bucket_max[i] * 60000, i);
	rc |= buf_printf(b, " ELSE %d END", INDEX_STATS_NBUCKETS - 1);
	return rc;
}

/* stats_rows - step st to the end, calling row() for each row */
static enum index_status
stats_rows(sqlite3 *db, sqlite3_stmt *st, const char *what,
    int (*row)(sqlite3_stmt *, void *), void *arg)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (row(st, arg) != 0)
			return INDEX_OK;
	if (rc != SQLITE_DONE)
		return stats_status(db, what);
	return INDEX_OK;
}

/* backlog_bucket - one (bucket, count) row */
static int
backlog_bucket(sqlite3_stmt *st, void *arg)
{
	struct index_stats_backlog *b = arg;
	int i = sqlite3_column_int(st, 0);

	if (i >= 0 && i < INDEX_STATS_NBUCKETS)
		b->buckets[i] = sqlite3_column_int64(st, 1);
	return 0;
}

struct stats_scalars {
	int64_t	*v[3];		/* where the columns of the one row go (NULL: unused) */
};

/* backlog_scalars - the one row of an aggregate into its fields */
static int
backlog_scalars(sqlite3_stmt *st, void *arg)
{
	struct stats_scalars	*s = arg;
	int			 i;

	for (i = 0; i < 3; i++)
		if (s->v[i] != NULL)
			*s->v[i] = sqlite3_column_int64(st, i);
	return 0;
}

/* stats_run - prepare sql, bind ?1 = p1 if used, step every row into row() */
static enum index_status
stats_run(sqlite3 *db, const char *what, const char *sql, int64_t p1,
    int (*row)(sqlite3_stmt *, void *), void *arg)
{
	sqlite3_stmt		*st;
	enum index_status	 rc;

	if ((st = stats_prepare(db, sql)) == NULL)
		return INDEX_PERMFAIL;
	if (sqlite3_bind_parameter_count(st) > 0)
		sqlite3_bind_int64(st, 1, p1);
	rc = stats_rows(db, st, what, row, arg);
	sqlite3_finalize(st);
	return rc;
}

/*
 * index_stats_backlog - the headline figures, ages relative to now_ms.
 * One aggregate per figure, each answered from an index (messages_backlog,
 * messages_location, recipients_state) rather than one pass over the table.
 */
enum index_status
index_stats_backlog(struct index *idx, int64_t now_ms, struct index_stats_backlog *out)
{
	struct {
		const char		*sql;
		struct stats_scalars	 to;
	} q[] = {
		{ "SELECT count(*), coalesce(sum(size), 0), coalesce(min(received_ms), 0)"
		    " FROM messages WHERE " BACKLOG_WHERE,
		    { { &out->messages, &out->bytes, &out->oldest_ms } } },
		{ "SELECT count(*) FROM messages WHERE state = 'quarantine'",
		    { { &out->quarantine, NULL, NULL } } },
		{ "SELECT count(*), coalesce(sum(size), 0) FROM messages WHERE location <> 0",
		    { { &out->spool_messages, &out->spool_bytes, NULL } } },
		{ "SELECT count(*) FROM messages", { { &out->total_messages, NULL, NULL } } },
		{ "SELECT count(*) FROM recipients r JOIN messages m ON m.id = r.message_id"
		    " WHERE r.state = 'pending' AND m." BACKLOG_WHERE,
		    { { &out->recipients, NULL, NULL } } },
		{ "SELECT count(*) FROM recipients WHERE state = 'quarantine'",
		    { { &out->quarantine_rcpts, NULL, NULL } } },
	};
	sqlite3			*db = index_db(idx);
	struct buf		 sql;
	enum index_status	 rc;
	size_t			 i;

	memset(out, 0, sizeof(*out));
	buf_init(&sql, 4096);
	if ((rc = stats_begin(db)) != INDEX_OK)
		goto done;
	for (i = 0; rc == INDEX_OK && i < sizeof(q) / sizeof(q[0]); i++)
		rc = stats_run(db, "backlog", q[i].sql, 0, backlog_scalars, &q[i].to);
	if (rc != INDEX_OK)
		goto done;
	rc = INDEX_PERMFAIL;
	if (buf_addstr(&sql, "SELECT ") != 0 || stats_bucket_sql(&sql, "received_ms") != 0 ||
	    buf_addstr(&sql, " AS b, count(*) FROM messages WHERE " BACKLOG_WHERE
	    " GROUP BY b") != 0)
		goto done;
	rc = stats_run(db, "backlog ages", sql.data, now_ms, backlog_bucket, out);
done:
	buf_free(&sql);
	return stats_end(db, rc);
}

struct stats_cb {
	void	*fn;
	void	*arg;
};

/* states_row - one (state, count, bytes) row */
static int
states_row(sqlite3_stmt *st, void *arg)
{
	struct stats_cb *cb = arg;
	int (*fn)(const char *, int64_t, int64_t, void *) =
	    (int (*)(const char *, int64_t, int64_t, void *))cb->fn;

	return fn((const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1),
	    sqlite3_column_int64(st, 2), cb->arg);
}

/* stats_query - one statement (a snapshot by itself), ?1 = p1 if it has one */
static enum index_status
stats_query(struct index *idx, const char *what, const char *sql, int64_t p1,
    int (*row)(sqlite3_stmt *, void *), void *arg)
{
	return stats_run(index_db(idx), what, sql, p1, row, arg);
}

/* index_stats_states - messages and bytes per state (only states present) */
enum index_status
index_stats_states(struct index *idx,
    int (*fn)(const char *state, int64_t messages, int64_t bytes, void *), void *arg)
{
	struct stats_cb cb = { (void *)fn, arg };

	return stats_query(idx, "states", "SELECT state, count(*), coalesce(sum(size), 0)"
	    " FROM messages GROUP BY state ORDER BY state", 0, states_row, &cb);
}

struct domains_acc {
	struct index_stats_domain	*d;
	size_t				 n, cap;
};

/* domains_row - (domain, bucket, recipients, messages, oldest) rows, ordered by domain */
static int
domains_row(sqlite3_stmt *st, void *arg)
{
	struct domains_acc		*a = arg;
	struct index_stats_domain	*d, *nd;
	const char			*dom = (const char *)sqlite3_column_text(st, 0);
	int				 b = sqlite3_column_int(st, 1);
	int64_t				 oldest = sqlite3_column_int64(st, 4);

	if (dom == NULL)
		dom = "";
	if (a->n == 0 || strcmp(a->d[a->n - 1].domain, dom) != 0) {
		if (a->n == a->cap) {
			a->cap = a->cap ? a->cap * 2 : 64;
			if ((nd = reallocarray(a->d, a->cap, sizeof(*nd))) == NULL)
				return -1;
			a->d = nd;
		}
		d = &a->d[a->n];
		memset(d, 0, sizeof(*d));
		if ((d->domain = strdup(dom)) == NULL)
			return -1;
		a->n++;
	}
	d = &a->d[a->n - 1];
	if (b >= 0 && b < INDEX_STATS_NBUCKETS)
		d->buckets[b] += sqlite3_column_int64(st, 2);
	d->recipients += sqlite3_column_int64(st, 2);
	/* messages per (domain, bucket) add up: a message has one received_ms */
	d->messages += sqlite3_column_int64(st, 3);
	if (d->oldest_ms == 0 || oldest < d->oldest_ms)
		d->oldest_ms = oldest;
	return 0;
}

/* domains_cmp - most recipients first, then oldest first, then by name */
static int
domains_cmp(const void *x, const void *y)
{
	const struct index_stats_domain *a = x, *b = y;

	if (a->recipients != b->recipients)
		return a->recipients > b->recipients ? -1 : 1;
	if (a->oldest_ms != b->oldest_ms)
		return a->oldest_ms < b->oldest_ms ? -1 : 1;
	return strcmp(a->domain, b->domain);
}

/* index_stats_domains - per-domain backlog, largest first; at most limit (0: all) */
enum index_status
index_stats_domains(struct index *idx, int64_t now_ms, size_t limit,
    int (*fn)(const struct index_stats_domain *, void *), void *arg, int64_t *ndomains)
{
	struct domains_acc	 a = { NULL, 0, 0 };
	struct buf		 sql;
	enum index_status	 rc = INDEX_PERMFAIL;
	size_t			 i;

	buf_init(&sql, 4096);
	if (buf_addstr(&sql, "SELECT r.domain, ") != 0 ||
	    stats_bucket_sql(&sql, "m.received_ms") != 0 ||
	    buf_addstr(&sql, " AS b, count(*), count(DISTINCT m.id), min(m.received_ms)"
	    " FROM recipients r JOIN messages m ON m.id = r.message_id"
	    " WHERE r.state = 'pending' AND m." BACKLOG_WHERE
	    " GROUP BY r.domain, b ORDER BY r.domain") != 0)
		goto done;
	rc = stats_query(idx, "domains", sql.data, now_ms, domains_row, &a);
	if (rc != INDEX_OK)
		goto done;
	if (a.d != NULL)
		qsort(a.d, a.n, sizeof(*a.d), domains_cmp);
	if (ndomains != NULL)
		*ndomains = (int64_t)a.n;
	for (i = 0; i < a.n && (limit == 0 || i < limit); i++)
		if (fn(&a.d[i], arg) != 0)
			break;
done:
	for (i = 0; i < a.n; i++)
		free((char *)a.d[i].domain);
	free(a.d);
	buf_free(&sql);
	return rc;
}

/* errors_row - (target, code, count, last_ms, last_text) */
static int
errors_row(sqlite3_stmt *st, void *arg)
{
	struct stats_cb *cb = arg;
	int (*fn)(const char *, int, int64_t, int64_t, const char *, void *) =
	    (int (*)(const char *, int, int64_t, int64_t, const char *, void *))cb->fn;
	const char *text = (const char *)sqlite3_column_text(st, 4);

	return fn((const char *)sqlite3_column_text(st, 0), sqlite3_column_int(st, 1),
	    sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3), text ? text : "", cb->arg);
}

/* index_stats_errors - failed attempts since since_ms per target and code */
enum index_status
index_stats_errors(struct index *idx, int64_t since_ms,
    int (*fn)(const char *target, int code, int64_t count, int64_t last_ms,
    const char *last_text, void *), void *arg)
{
	struct stats_cb cb = { (void *)fn, arg };

	/* SQLite: with a single max() the bare column "text" comes from that row */
	return stats_query(idx, "errors", "SELECT target, code, count(*), max(at_ms), text"
	    " FROM attempts WHERE at_ms >= ?1 AND (code < 200 OR code > 299)"
	    " GROUP BY target, code ORDER BY 3 DESC, 1, 2", since_ms, errors_row, &cb);
}

/* attempts_row - (target, code, count) */
static int
attempts_row(sqlite3_stmt *st, void *arg)
{
	struct stats_cb *cb = arg;
	int (*fn)(const char *, int, int64_t, void *) =
	    (int (*)(const char *, int, int64_t, void *))cb->fn;

	return fn((const char *)sqlite3_column_text(st, 0), sqlite3_column_int(st, 1),
	    sqlite3_column_int64(st, 2), cb->arg);
}

/* index_stats_attempts - every attempt ever recorded, per target and code */
enum index_status
index_stats_attempts(struct index *idx,
    int (*fn)(const char *target, int code, int64_t count, void *), void *arg)
{
	struct stats_cb cb = { (void *)fn, arg };

	return stats_query(idx, "attempts", "SELECT target, code, count(*) FROM attempts"
	    " GROUP BY target, code ORDER BY 1, 2", 0, attempts_row, &cb);
}

/* counters_row - (name, label, value) */
static int
counters_row(sqlite3_stmt *st, void *arg)
{
	struct stats_cb *cb = arg;
	int (*fn)(const char *, const char *, int64_t, void *) =
	    (int (*)(const char *, const char *, int64_t, void *))cb->fn;

	return fn((const char *)sqlite3_column_text(st, 0),
	    (const char *)sqlite3_column_text(st, 1), sqlite3_column_int64(st, 2), cb->arg);
}

/* index_stats_counters - the counters table, by name and label */
enum index_status
index_stats_counters(struct index *idx,
    int (*fn)(const char *name, const char *label, int64_t value, void *), void *arg)
{
	struct stats_cb cb = { (void *)fn, arg };

	return stats_query(idx, "counters", "SELECT name, label, value FROM counters"
	    " ORDER BY name, label", 0, counters_row, &cb);
}

/* control_row - (key, value, updated_ms) */
static int
control_row(sqlite3_stmt *st, void *arg)
{
	struct stats_cb *cb = arg;
	int (*fn)(const char *, const char *, int64_t, void *) =
	    (int (*)(const char *, const char *, int64_t, void *))cb->fn;

	return fn((const char *)sqlite3_column_text(st, 0),
	    (const char *)sqlite3_column_text(st, 1), sqlite3_column_int64(st, 2), cb->arg);
}

/* index_stats_control - the control table */
enum index_status
index_stats_control(struct index *idx,
    int (*fn)(const char *key, const char *value, int64_t updated_ms, void *), void *arg)
{
	struct stats_cb cb = { (void *)fn, arg };

	return stats_query(idx, "control", "SELECT key, value, updated_ms FROM control"
	    " ORDER BY key", 0, control_row, &cb);
}

/* samples_row - (at_ms, count, bytes, oldest_ms) */
static int
samples_row(sqlite3_stmt *st, void *arg)
{
	struct stats_cb *cb = arg;
	int (*fn)(int64_t, int64_t, int64_t, int64_t, void *) =
	    (int (*)(int64_t, int64_t, int64_t, int64_t, void *))cb->fn;

	return fn(sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
	    sqlite3_column_int64(st, 2), sqlite3_column_int64(st, 3), cb->arg);
}

/* index_stats_samples - backlog_samples since since_ms, oldest first */
enum index_status
index_stats_samples(struct index *idx, int64_t since_ms,
    int (*fn)(int64_t at_ms, int64_t messages, int64_t bytes, int64_t oldest_ms, void *),
    void *arg)
{
	struct stats_cb cb = { (void *)fn, arg };

	return stats_query(idx, "samples", "SELECT at_ms, count, bytes, coalesce(oldest_ms, 0)"
	    " FROM backlog_samples WHERE at_ms >= ?1 ORDER BY at_ms", since_ms,
	    samples_row, &cb);
}

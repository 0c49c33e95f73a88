/*
 * index_stats.c - read-only backlog figures (see index_stats.h).
 *
 * Entry points: index_stats_backlog, _states, _domains, _shape, _errors,
 * _attempts, _counters, _control, _samples.  Nothing here writes.
 *
 * A call is one snapshot: a single statement, or (index_stats_backlog) one
 * deferred read transaction; in WAL mode neither blocks the ingest or the
 * worker.  Ages are "now - received_ms < edge" with the edges of
 * index_stats_bucket_max, in SQL and in C alike.  At a 1M backlog no query
 * reads the messages table itself or sorts per message: counts come from
 * covering indexes, the per-domain join is aggregated here as it streams, and
 * /metrics reads attempt_totals (schema/004_stats.sql).  Statements come
 * from the handle's cache (index_prepare).  A failing statement leaves its
 * reason in index_error() (index_fail, as in every index module), is logged
 * here, once, and mapped to INDEX_TEMPFAIL (busy, I/O, full) or INDEX_PERMFAIL.
 */
#include <sys/types.h>

#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "index_replay.h"
#include "index_stats.h"
#include "log.h"
#include "queue_state.h"

const int index_stats_bucket_max[INDEX_STATS_NBUCKETS - 1] = {
	5, 10, 20, 40, 80, 160, 320, 640, 1280
};

#define BACKLOG_WHERE	"state IN " QS_BACKLOG_SQL

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

/* stats_status - the SQLite failure as index_error() (the one channel), logged once here */
static enum index_status
stats_status(struct index *ix, const char *what)
{
	enum index_status st;

	st = index_fail(ix, what, sqlite3_extended_errcode(index_db(ix)));
	log_warnx("index stats %s failed: %s", what, index_error(ix));
	return st;
}

/* stats_begin - a deferred (read) transaction: one snapshot per call */
static enum index_status
stats_begin(struct index *ix)
{
	if (sqlite3_exec(index_db(ix), "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
		return stats_status(ix, "begin");
	return INDEX_OK;
}

/* stats_end - end the read transaction; st passes through */
static enum index_status
stats_end(struct index *ix, enum index_status st)
{
	sqlite3 *db = index_db(ix);

	if (sqlite3_get_autocommit(db) == 0 &&
	    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
		if (st == INDEX_OK)
			st = stats_status(ix, "commit");
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	}
	return st;
}

/* stats_rows - step st to the end, calling row() for each row */
static enum index_status
stats_rows(struct index *ix, sqlite3_stmt *st, const char *what,
    int (*row)(sqlite3_stmt *, void *), void *arg)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (row(st, arg) != 0)
			return INDEX_OK;
	if (rc != SQLITE_DONE)
		return stats_status(ix, what);
	return INDEX_OK;
}

/*
 * Backlog messages per age bucket, one range of messages_backlog each (no
 * sort, no per-row expression): ?1 is now, ?2..?10 the bucket edges in ms;
 * bucket i holds now - edge(i) < received_ms <= now - edge(i - 1), that is
 * edge(i - 1) <= age < edge(i) as index_stats_bucket().
 */
#define AGES_FROM	"(SELECT count(*) FROM messages WHERE " BACKLOG_WHERE
#define AGE_NEWER(n)	" AND received_ms > ?1 - ?" #n
#define AGE_OLDER(n)	" AND received_ms <= ?1 - ?" #n
#define BACKLOG_AGES	"SELECT " AGES_FROM AGE_NEWER(2) ")," \
	AGES_FROM AGE_NEWER(3) AGE_OLDER(2) ")," AGES_FROM AGE_NEWER(4) AGE_OLDER(3) ")," \
	AGES_FROM AGE_NEWER(5) AGE_OLDER(4) ")," AGES_FROM AGE_NEWER(6) AGE_OLDER(5) ")," \
	AGES_FROM AGE_NEWER(7) AGE_OLDER(6) ")," AGES_FROM AGE_NEWER(8) AGE_OLDER(7) ")," \
	AGES_FROM AGE_NEWER(9) AGE_OLDER(8) ")," AGES_FROM AGE_NEWER(10) AGE_OLDER(9) ")," \
	AGES_FROM AGE_OLDER(10) ")"

/* pending recipients of backlog messages, walking the backlog messages */
#define BACKLOG_RCPTS	"SELECT count(*) FROM messages m CROSS JOIN recipients r" \
	" WHERE r.message_id = m.id AND r.state = " QS_SQL(RS_PENDING) " AND m." BACKLOG_WHERE
/*
 * The same figure walking the other messages instead, cheaper when most are
 * backlog: every state outside the four, as ranges of messages_backlog
 * ('active' < 'hold' < 'quarantine' < 'queued').
 */
#define NOT_BACKLOG(cond) "(SELECT count(*) FROM messages m CROSS JOIN recipients r" \
	" WHERE r.message_id = m.id AND r.state = " QS_SQL(RS_PENDING) " AND " cond ")"
#define BACKLOG_RCPTS_NOT "SELECT (SELECT count(*) FROM recipients" \
	" WHERE state = " QS_SQL(RS_PENDING) ")" \
	" - " NOT_BACKLOG("m.state < " QS_SQL(QS_ACTIVE)) \
	" - " NOT_BACKLOG("m.state > " QS_SQL(QS_ACTIVE) " AND m.state < " QS_SQL(QS_HOLD)) \
	" - " NOT_BACKLOG("m.state > " QS_SQL(QS_HOLD) " AND m.state < " QS_SQL(QS_QUARANTINE)) \
	" - " NOT_BACKLOG("m.state > " QS_SQL(QS_QUARANTINE) " AND m.state < " QS_SQL(QS_QUEUED)) \
	" - " NOT_BACKLOG("m.state > " QS_SQL(QS_QUEUED))

#define STATS_NCOLS	INDEX_STATS_NBUCKETS

struct stats_scalars {
	int64_t	*v[STATS_NCOLS];	/* where the columns of the one row go (NULL: unused) */
};

/* backlog_scalars - the one row of an aggregate into its fields */
static int
backlog_scalars(sqlite3_stmt *st, void *arg)
{
	struct stats_scalars	*s = arg;
	int			 i;

	for (i = 0; i < STATS_NCOLS && i < sqlite3_column_count(st); i++)
		if (s->v[i] != NULL)
			*s->v[i] = sqlite3_column_int64(st, i);
	return 0;
}

/*
 * stats_run - prepare sql, bind ?1 = p1 and ?2.. = the bucket edges in ms
 * (as many as it has), step every row into row()
 */
static enum index_status
stats_run(struct index *ix, const char *what, const char *sql, int64_t p1,
    int (*row)(sqlite3_stmt *, void *), void *arg)
{
	sqlite3_stmt		*st;
	enum index_status	 rc;
	int			 i;

	if ((st = index_prepare(ix, sql)) == NULL)
		return stats_status(ix, "prepare");
	if (sqlite3_bind_parameter_count(st) > 0)
		sqlite3_bind_int64(st, 1, p1);
	for (i = 2; i <= sqlite3_bind_parameter_count(st) && i <= INDEX_STATS_NBUCKETS; i++)
		sqlite3_bind_int64(st, i, (int64_t)index_stats_bucket_max[i - 2] * 60000);
	rc = stats_rows(ix, st, what, row, arg);
	index_unprepare(ix, st);
	return rc;
}

/*
 * index_stats_backlog - the headline figures, ages relative to now_ms.
 * One aggregate per figure, each answered from an index (messages_backlog,
 * messages_spool, recipients_pending) rather than one pass over the table;
 * pending recipients are counted from whichever side (backlog or finished
 * messages) is smaller, as the join costs one probe per message walked.
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
		{ BACKLOG_AGES, { { &out->buckets[0], &out->buckets[1], &out->buckets[2],
		    &out->buckets[3], &out->buckets[4], &out->buckets[5], &out->buckets[6],
		    &out->buckets[7], &out->buckets[8], &out->buckets[9] } } },
		{ "SELECT count(*) FROM messages WHERE state = " QS_SQL(QS_QUARANTINE),
		    { { &out->quarantine } } },
		{ "SELECT count(*), coalesce(sum(size), 0) FROM messages WHERE location <> 0",
		    { { &out->spool_messages, &out->spool_bytes } } },
		{ "SELECT count(*) FROM messages", { { &out->total_messages } } },
		{ "SELECT count(*) FROM recipients WHERE state = " QS_SQL(RS_QUARANTINE),
		    { { &out->quarantine_rcpts } } },
	};
	struct stats_scalars	 rcpts = { { &out->recipients } };
	enum index_status	 rc;
	size_t			 i;

	memset(out, 0, sizeof(*out));
	if ((rc = stats_begin(idx)) != INDEX_OK)
		return stats_end(idx, rc);
	for (i = 0; rc == INDEX_OK && i < sizeof(q) / sizeof(q[0]); i++)
		rc = stats_run(idx, "backlog", q[i].sql, now_ms, backlog_scalars, &q[i].to);
	if (rc == INDEX_OK)
		rc = stats_run(idx, "backlog", out->messages > out->total_messages / 2 ?
		    BACKLOG_RCPTS_NOT : BACKLOG_RCPTS, 0, backlog_scalars, &rcpts);
	return stats_end(idx, rc);
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

/*
 * stats_query - one statement (a snapshot by itself), ?1 = p1 if it has one;
 * row gets each row and a struct stats_cb of the caller's fn and arg
 */
static enum index_status
stats_query(struct index *idx, const char *what, const char *sql, int64_t p1,
    int (*row)(sqlite3_stmt *, void *), void *fn, void *arg)
{
	struct stats_cb cb = { fn, arg };

	return stats_run(idx, what, sql, p1, row, &cb);
}

/* index_stats_states - messages and bytes per state (only states present) */
enum index_status
index_stats_states(struct index *idx,
    int (*fn)(const char *state, int64_t messages, int64_t bytes, void *), void *arg)
{
	return stats_query(idx, "states", "SELECT state, count(*), coalesce(sum(size), 0)"
	    " FROM messages GROUP BY state ORDER BY state", 0, states_row, (void *)fn, arg);
}

/*
 * Per-domain figures are aggregated here from one row per pending recipient
 * of a backlog message: the join walks the backlog messages (CROSS JOIN keeps
 * them outer), so the rows of one message are adjacent and a message is
 * counted once per domain by remembering the message number last counted.
 * Grouping in SQL instead sorts every row (count DISTINCT, 5 s at 1M).
 */
#define SHAPE_HEAD	"SELECT r.domain, m.received_ms, m.id FROM messages m" \
	" CROSS JOIN recipients r WHERE r.message_id = m.id AND r.state = " QS_SQL(RS_PENDING)
#define DOMAINS_SQL	SHAPE_HEAD " AND m." BACKLOG_WHERE

struct domains_acc {
	struct index_stats_domain	*d;
	int64_t				*seen;		/* per domain: last message counted */
	size_t				 n, cap;
	size_t				*slot;		/* hash of domain: index + 1, 0 free */
	size_t				 nslot;		/* a power of 2, over twice n */
	int64_t				 now_ms;
	int64_t				 msgno;		/* number of the current message */
	char				*prev;		/* its id */
	size_t				 prevcap;
	int				 nomem;
};

/* domains_hash - FNV-1a of a domain name */
static size_t
domains_hash(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return (size_t)h;
}

/* domains_grow - double the hash table and put every domain back */
static int
domains_grow(struct domains_acc *a)
{
	size_t	 nslot = a->nslot ? a->nslot * 2 : 128, i, h;
	size_t	*slot;

	if ((slot = calloc(nslot, sizeof(*slot))) == NULL)
		return -1;
	for (i = 0; i < a->n; i++) {
		for (h = domains_hash(a->d[i].domain) & (nslot - 1); slot[h] != 0;
		    h = (h + 1) & (nslot - 1))
			;
		slot[h] = i + 1;
	}
	free(a->slot);
	a->slot = slot;
	a->nslot = nslot;
	return 0;
}

/* domains_find - the index of dom, added if new; -1 when out of memory */
static ssize_t
domains_find(struct domains_acc *a, const char *dom)
{
	struct index_stats_domain	*nd;
	int64_t				*ns;
	size_t				 h;

	if (a->nslot == 0 && domains_grow(a) != 0)
		return -1;
	for (h = domains_hash(dom) & (a->nslot - 1); a->slot[h] != 0;
	    h = (h + 1) & (a->nslot - 1))
		if (strcmp(a->d[a->slot[h] - 1].domain, dom) == 0)
			return (ssize_t)(a->slot[h] - 1);
	if (a->n == a->cap) {
		a->cap = a->cap ? a->cap * 2 : 64;
		if ((nd = reallocarray(a->d, a->cap, sizeof(*nd))) == NULL)
			return -1;
		a->d = nd;
		if ((ns = reallocarray(a->seen, a->cap, sizeof(*ns))) == NULL)
			return -1;
		a->seen = ns;
	}
	memset(&a->d[a->n], 0, sizeof(a->d[a->n]));
	a->seen[a->n] = 0;
	if ((a->d[a->n].domain = strdup(dom)) == NULL)
		return -1;
	a->slot[h] = ++a->n;
	if (a->n * 2 > a->nslot && domains_grow(a) != 0)
		return -1;
	return (ssize_t)(a->n - 1);
}

/* domains_row - one (domain, received_ms, message id) row into its domain */
static int
domains_row(sqlite3_stmt *st, void *arg)
{
	struct domains_acc		*a = arg;
	struct index_stats_domain	*d;
	const char			*dom = (const char *)sqlite3_column_text(st, 0);
	int64_t				 rcv = sqlite3_column_int64(st, 1);
	const char			*id = (const char *)sqlite3_column_text(st, 2);
	size_t				 len;
	ssize_t				 k;
	char				*np;
	int				 b;

	if (id == NULL)
		id = "";
	if (a->prev == NULL || strcmp(a->prev, id) != 0) {
		if ((len = strlen(id) + 1) > a->prevcap) {
			if ((np = realloc(a->prev, len)) == NULL)
				goto nomem;
			a->prev = np;
			a->prevcap = len;
		}
		memcpy(a->prev, id, len);
		a->msgno++;
	}
	if ((k = domains_find(a, dom != NULL ? dom : "")) < 0)
		goto nomem;
	d = &a->d[k];
	b = index_stats_bucket(a->now_ms - rcv);
	d->buckets[b]++;
	d->recipients++;
	if (a->seen[k] != a->msgno) {
		a->seen[k] = a->msgno;
		d->messages++;
		d->mbuckets[b]++;
	}
	if (d->oldest_ms == 0 || rcv < d->oldest_ms)
		d->oldest_ms = rcv;
	return 0;
nomem:
	a->nomem = 1;
	return -1;
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

/* domains_cmp_messages - qshape's order: most messages first, then by name */
static int
domains_cmp_messages(const void *x, const void *y)
{
	const struct index_stats_domain *a = x, *b = y;

	if (a->messages != b->messages)
		return a->messages > b->messages ? -1 : 1;
	return strcmp(a->domain, b->domain);
}

/* domains_total - the TOTAL row: every figure summed over the domains, the oldest of all */
static void
domains_total(const struct domains_acc *a, struct index_stats_domain *t)
{
	size_t	i;
	int	b;

	memset(t, 0, sizeof(*t));
	t->domain = "TOTAL";
	for (i = 0; i < a->n; i++) {
		t->recipients += a->d[i].recipients;
		t->messages += a->d[i].messages;
		if (t->oldest_ms == 0 || (a->d[i].oldest_ms != 0 &&
		    a->d[i].oldest_ms < t->oldest_ms))
			t->oldest_ms = a->d[i].oldest_ms;
		for (b = 0; b < INDEX_STATS_NBUCKETS; b++) {
			t->buckets[b] += a->d[i].buckets[b];
			t->mbuckets[b] += a->d[i].mbuckets[b];
		}
	}
}

/*
 * domains_report - sort (by recipients, or by messages as qshape), fill
 * *total (NULL: not wanted), pass at most limit (0: all) rows to fn, free a;
 * rc passes through
 */
static enum index_status
domains_report(struct domains_acc *a, enum index_status rc, int by_messages, size_t limit,
    int (*fn)(const struct index_stats_domain *, void *), void *arg, int64_t *ndomains,
    struct index_stats_domain *total)
{
	size_t i;

	if (rc == INDEX_OK && a->nomem) {
		log_warnx("index stats domains failed: out of memory");
		rc = INDEX_TEMPFAIL;
	}
	if (rc != INDEX_OK)
		goto done;
	if (a->d != NULL)
		qsort(a->d, a->n, sizeof(*a->d), by_messages ? domains_cmp_messages : domains_cmp);
	if (total != NULL)
		domains_total(a, total);
	if (ndomains != NULL)
		*ndomains = (int64_t)a->n;
	for (i = 0; i < a->n && (limit == 0 || i < limit); i++)
		if (fn(&a->d[i], arg) != 0)
			break;
done:
	for (i = 0; i < a->n; i++)
		free((char *)a->d[i].domain);
	free(a->d);
	free(a->seen);
	free(a->slot);
	free(a->prev);
	return rc;
}

/* index_stats_domains - per-domain backlog, largest first; at most limit (0: all) */
enum index_status
index_stats_domains(struct index *idx, int64_t now_ms, size_t limit,
    int (*fn)(const struct index_stats_domain *, void *), void *arg, int64_t *ndomains)
{
	struct domains_acc	 a;
	enum index_status	 rc;

	memset(&a, 0, sizeof(a));
	a.now_ms = now_ms;
	rc = stats_run(idx, "domains", DOMAINS_SQL, 0, domains_row, &a);
	return domains_report(&a, rc, 0, limit, fn, arg, ndomains, NULL);
}

/*
 * index_stats_shape - qshape over the messages matching f.  The filter's
 * fragments (index_replay_prepare_filter) only narrow the outer walk of
 * messages, so the rows of one message stay adjacent and each message is
 * counted once per domain as in index_stats_domains: no DISTINCT, no sort
 * of the rows (the old SELECT DISTINCT sorted every pair: 2 s at 1M).  The
 * CLI's qshape and /status's domains are this one aggregation; the front
 * ends only print it.
 */
enum index_status
index_stats_shape(struct index *idx, const struct index_filter *f, int64_t now_ms, size_t limit,
    int (*fn)(const struct index_stats_domain *, void *), void *arg,
    struct index_stats_domain *total)
{
	static const struct index_filter backlog;
	struct domains_acc	 a;
	enum index_status	 rc;
	sqlite3_stmt		*st;

	memset(&a, 0, sizeof(a));
	a.now_ms = now_ms;
	if ((st = index_replay_prepare_filter(idx, SHAPE_HEAD, f ? f : &backlog, "", &rc)) ==
	    NULL) {
		log_warnx("index stats shape failed: %s", index_error(idx));
		return rc;
	}
	rc = stats_rows(idx, st, "shape", domains_row, &a);
	index_unprepare(idx, st);
	return domains_report(&a, rc, 1, limit, fn, arg, NULL, total);
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
	/* SQLite: with a single max() the bare column "text" comes from that row */
	return stats_query(idx, "errors", "SELECT target, code, count(*), max(at_ms), text"
	    " FROM attempts WHERE at_ms >= ?1 AND (code < 200 OR code > 299)"
	    " GROUP BY target, code ORDER BY 3 DESC, 1, 2", since_ms, errors_row, (void *)fn,
	    arg);
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
	/* kept by a trigger on attempts (schema/004_stats.sql): no pass over the audit trail */
	return stats_query(idx, "attempts", "SELECT target, code, count FROM attempt_totals"
	    " WHERE count > 0 ORDER BY target, code", 0, attempts_row, (void *)fn, arg);
}

/* pair_row - (text, text, int64): counters (name, label, value), control (key, value, ms) */
static int
pair_row(sqlite3_stmt *st, void *arg)
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
	return stats_query(idx, "counters", "SELECT name, label, value FROM counters"
	    " ORDER BY name, label", 0, pair_row, (void *)fn, arg);
}

/* index_stats_control - the control table */
enum index_status
index_stats_control(struct index *idx,
    int (*fn)(const char *key, const char *value, int64_t updated_ms, void *), void *arg)
{
	return stats_query(idx, "control", "SELECT key, value, updated_ms FROM control"
	    " ORDER BY key", 0, pair_row, (void *)fn, arg);
}

/* replay_num - a decimal control value; 0 if it is not one */
static int
replay_num(const char *v, double *out)
{
	char *end;

	*out = strtod(v, &end);
	return *v != '\0' && *end == '\0' && isfinite(*out);
}

/* replay_row - index_stats_control callback: one control key into the struct */
static int
replay_row(const char *key, const char *value, int64_t updated_ms, void *arg)
{
	struct index_stats_replay	*r = arg;
	long long			 t;

	value = value ? value : "";
	if (strcmp(key, CTL_PAUSED) == 0)
		r->paused = strcmp(value, "1") == 0;
	else if (strcmp(key, CTL_RATE) == 0)
		snprintf(r->rate, sizeof(r->rate), "%s", value);
	else if (strcmp(key, CTL_TARGET_RATE) == 0)
		r->has_target = replay_num(value, &r->target);
	else if (strcmp(key, CTL_ACHIEVED_RATE) == 0) {
		r->has_achieved = replay_num(value, &r->achieved);
		r->achieved_ms = updated_ms;
	} else if (strcmp(key, CTL_PRIMARY_HEALTH) == 0)
		snprintf(r->primary, sizeof(r->primary), "%s", value);
	else if (strcmp(key, CTL_PRIMARY_REASON) == 0)
		snprintf(r->primary_reason, sizeof(r->primary_reason), "%s", value);
	else if (strcmp(key, CTL_STORAGE_HEALTH) == 0)
		snprintf(r->storage, sizeof(r->storage), "%s", value);
	else if (strcmp(key, CTL_STORAGE_REASON) == 0)
		snprintf(r->storage_reason, sizeof(r->storage_reason), "%s", value);
	else if (strcmp(key, CTL_PRIMARY_CHECKED) == 0 || strcmp(key, CTL_STORAGE_CHECKED) == 0) {
		if (config_parse_num(value, 0, INT64_MAX, &t) == 0)
			*(key[0] == 'p' ? &r->primary_checked_ms : &r->storage_checked_ms) = t;
	}
	return 0;
}

/* index_stats_replay - the published replay state */
enum index_status
index_stats_replay(struct index *idx, struct index_stats_replay *r)
{
	memset(r, 0, sizeof(*r));
	return index_stats_control(idx, replay_row, r);
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
	return stats_query(idx, "samples", "SELECT at_ms, count, bytes, coalesce(oldest_ms, 0)"
	    " FROM backlog_samples WHERE at_ms >= ?1 ORDER BY at_ms", since_ms,
	    samples_row, (void *)fn, arg);
}

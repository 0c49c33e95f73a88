/*
 * index.c - the SQLite index handle: open, migrate, statement cache, error
 * channel and transactions.
 *
 * Entry points: index_open/index_open_existing/index_close, index_begin/
 * commit/rollback/end, index_prepare/unprepare, index_fail/failed/seterr/error,
 * index_db, and the statement helpers of every index module (index_prep,
 * index_bind_text/int, index_text, index_step_done, index_rows_end).  The
 * message rows themselves (add, read, walk, control keys, nodes) are in
 * index_msg.c; the other index_*.c modules use the same handle, cache and
 * error channel; every change of a queue state goes through index_queue.c.
 * Invariants: one handle per thread (SQLITE_OPEN_NOMUTEX); WAL with
 * synchronous=FULL so a returned INDEX_OK commit survives a crash or power
 * loss; migrations are the embedded schema/NNN_*.sql applied in order, each
 * in one BEGIN IMMEDIATE transaction that re-reads user_version, so several
 * processes opening a new file at once apply each migration exactly once.
 * Errors: busy/locked past the timeout, disk full and I/O errors are
 * INDEX_TEMPFAIL; the reason stays in index_error(); nothing is logged here.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "clock.h"
#include "embed.h"
#include "index.h"

#define INDEX_BUSY_DEFAULT_MS	5000

/*
 * The one statement cache of a handle, for every index module (index_prepare):
 * parsing and planning cost more than running them, at several statements per
 * delivered message.  Keyed by the SQL text, so the dynamic filter queries
 * share slots only with themselves; least recently used goes first.
 */
#define INDEX_STMT_CACHE	64

struct index_cached {
	char		*sql;
	uint32_t	 hash;
	int		 busy;		/* handed out, not yet given back */
	uint64_t	 used;		/* ix->tick at the last hand-out */
	sqlite3_stmt	*st;
};

struct index {
	sqlite3		*db;
	uint64_t	 tick;
	struct index_cached cache[INDEX_STMT_CACHE];
	int		 busy_ms;	/* index_set_busy_timeout() */
	int		 wlocked;	/* holds index_wlock (between index_begin and its end) */
	char		 path[1024];
	char		 err[ERRSTR_MAX];
};

/*
 * Writers of one process queue here before BEGIN IMMEDIATE.  Between
 * processes SQLite's busy handler arbitrates, and it sleeps 1, 2, 5, 10 ...
 * 100 ms between tries: with 16 commit workers (or 20 replay workers) each
 * writing one short transaction per message, those sleeps, not the
 * transactions, set the pace and the latency tail.  A mutex hands the lock
 * over at once.
 */
static pthread_mutex_t	index_wlock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t	index_once = PTHREAD_ONCE_INIT;

/* index_seterr - remember a reason for index_error(); see index.h */
void
index_seterr(struct index *ix, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(ix->err, sizeof(ix->err), fmt, ap);
	va_end(ap);
}

/* index_status_of - SQLite result code to status; see index.h */
enum index_status
index_status_of(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_OK:
	case SQLITE_DONE:
	case SQLITE_ROW:
		return INDEX_OK;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_NOMEM:
	case SQLITE_CANTOPEN:
	case SQLITE_PROTOCOL:
		return INDEX_TEMPFAIL;
	case SQLITE_CONSTRAINT:
		return INDEX_EXISTS;
	default:
		return INDEX_PERMFAIL;
	}
}

/* index_fail - record the connection's error for what and map it; see index.h */
enum index_status
index_fail(struct index *ix, const char *what, int rc)
{
	index_seterr(ix, "index %s: %s: %s", ix->path, what, sqlite3_errmsg(ix->db));
	return index_status_of(rc);
}

/* index_failed - the handle's last SQLite failure, as index_error() and a status */
enum index_status
index_failed(struct index *ix, const char *what)
{
	return index_fail(ix, what, sqlite3_extended_errcode(ix->db));
}

/* index_hash - FNV-1a of the SQL text */
static uint32_t
index_hash(const char *sql)
{
	uint32_t h = 2166136261u;

	for (; *sql; sql++)
		h = (h ^ (unsigned char)*sql) * 16777619u;
	return h;
}

/* index_prepare - sql prepared on this handle, from the cache when it can be; see index.h */
sqlite3_stmt *
index_prepare(struct index *ix, const char *sql)
{
	struct index_cached	*c, *slot = NULL;
	sqlite3_stmt		*st;
	uint32_t		 h = index_hash(sql);
	int			 rc;

	ix->tick++;
	for (int i = 0; i < INDEX_STMT_CACHE; i++) {
		c = &ix->cache[i];
		if (c->st != NULL && !c->busy && c->hash == h && strcmp(c->sql, sql) == 0) {
			c->busy = 1;
			c->used = ix->tick;
			return c->st;
		}
		if (!c->busy && (slot == NULL || c->used < slot->used))
			slot = c;
	}
	rc = sqlite3_prepare_v3(ix->db, sql, -1, slot ? SQLITE_PREPARE_PERSISTENT : 0, &st,
	    NULL);
	if (rc != SQLITE_OK) {
		index_fail(ix, "prepare", rc);
		return NULL;
	}
	if (slot == NULL)		/* all in use: an uncached one, finalized when put back */
		return st;
	sqlite3_finalize(slot->st);
	free(slot->sql);
	if ((slot->sql = strdup(sql)) == NULL) {
		slot->st = NULL;
		slot->used = 0;
		return st;
	}
	slot->st = st;
	slot->hash = h;
	slot->busy = 1;
	slot->used = ix->tick;
	return st;
}

/* index_unprepare - give back a statement from index_prepare, reset and unbound */
void
index_unprepare(struct index *ix, sqlite3_stmt *st)
{
	if (st == NULL)
		return;
	for (int i = 0; i < INDEX_STMT_CACHE; i++)
		if (ix->cache[i].st == st) {
			/* a reset ends the statement's read transaction, as finalize would */
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			ix->cache[i].busy = 0;
			return;
		}
	sqlite3_finalize(st);
}

/* index_prep - sql from index_prepare's cache; NULL with *st; give back: index_unprepare */
sqlite3_stmt *
index_prep(struct index *ix, const char *sql, enum index_status *st)
{
	sqlite3_stmt *s;

	if ((s = index_prepare(ix, sql)) == NULL) {
		*st = index_failed(ix, "prepare");
		return NULL;
	}
	*st = INDEX_OK;
	return s;
}

/* index_bind_text - bind a named parameter if the statement has it */
void
index_bind_text(sqlite3_stmt *s, const char *name, const char *v)
{
	int i = sqlite3_bind_parameter_index(s, name);

	if (i > 0)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

/* index_bind_int - bind a named integer parameter if the statement has it */
void
index_bind_int(sqlite3_stmt *s, const char *name, int64_t v)
{
	int i = sqlite3_bind_parameter_index(s, name);

	if (i > 0)
		sqlite3_bind_int64(s, i, v);
}

/* index_text - column text or "" */
const char *
index_text(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	return t ? (const char *)t : "";
}

/* index_step_done - step a statement that returns no rows, then give it back */
enum index_status
index_step_done(struct index *ix, sqlite3_stmt *s, const char *what)
{
	enum index_status st = INDEX_OK;

	if (sqlite3_step(s) != SQLITE_DONE)
		st = index_failed(ix, what);
	index_unprepare(ix, s);
	return st;
}

/* index_rows_end - give back s after a row loop whose last step returned rc */
enum index_status
index_rows_end(struct index *ix, sqlite3_stmt *s, int rc, const char *what)
{
	enum index_status st = INDEX_OK;

	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		st = index_failed(ix, what);
	index_unprepare(ix, s);
	return st;
}

/* index_exec - run fixed SQL (pragmas, migrations, BEGIN/COMMIT) */
static int
index_exec(struct index *ix, const char *sql)
{
	char	*msg = NULL;
	int	 rc;

	rc = sqlite3_exec(ix->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		index_seterr(ix, "index %s: %s", ix->path, msg ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
	}
	return rc;
}

/*
 * index_wal - switch to WAL.  Changing the journal mode needs an exclusive
 * lock, and SQLite returns SQLITE_BUSY for it without calling the busy
 * handler when another process is opening the same new file at that moment
 * (two daemons starting together), so retry here within the busy timeout.
 * Once the file is in WAL mode the setting is persistent and this is a no-op.
 */
static int
index_wal(struct index *ix)
{
	int	rc, waited;

	for (waited = 0;; waited += 10) {
		rc = index_exec(ix, "PRAGMA journal_mode = WAL");
		if ((rc != SQLITE_BUSY && rc != SQLITE_LOCKED) || waited >= INDEX_BUSY_DEFAULT_MS)
			return rc;
		usleep(10 * 1000);
	}
}

/* index_user_version - PRAGMA user_version, or -1 */
static int
index_user_version(struct index *ix)
{
	sqlite3_stmt	*st;
	int		 v = -1, rc;

	rc = sqlite3_prepare_v2(ix->db, "PRAGMA user_version", -1, &st, NULL);
	if (rc != SQLITE_OK) {
		index_fail(ix, "user_version", rc);
		return -1;
	}
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	else
		index_fail(ix, "user_version", rc);
	sqlite3_finalize(st);
	return v;
}

/* migration_number - NNN of "schema/NNN_name.sql", or -1 */
static int
migration_number(const char *name)
{
	const char	*p;
	int		 n = 0, i;

	if (strncmp(name, "schema/", 7) != 0)
		return -1;
	p = name + 7;
	for (i = 0; i < 3; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		n = n * 10 + (p[i] - '0');
	}
	if (p[3] != '_' || strlen(p) < 8 || strcmp(p + strlen(p) - 4, ".sql") != 0)
		return -1;
	return n;
}

/* index_max_version - highest embedded migration number */
static int
index_max_version(void)
{
	const struct embed_file	*f;
	int			 n, max = 0;

	for (f = embed_files; f->name != NULL; f++)
		if ((n = migration_number(f->name)) > max)
			max = n;
	return max;
}

/* index_known_version - see index.h */
int
index_known_version(void)
{
	return index_max_version();
}

/* index_apply - apply migration v (if still due) in one immediate transaction */
static int
index_apply(struct index *ix, int v, const char *sql)
{
	char	pragma[64];
	int	cur;

	if (index_exec(ix, "BEGIN IMMEDIATE") != SQLITE_OK)
		return -1;
	if ((cur = index_user_version(ix)) < 0)
		goto fail;
	if (cur >= v) {
		index_exec(ix, "COMMIT");
		return 0;
	}
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", v);
	if (index_exec(ix, sql) != SQLITE_OK || index_exec(ix, pragma) != SQLITE_OK ||
	    index_exec(ix, "COMMIT") != SQLITE_OK)
		goto fail;
	return 0;
fail:
	sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* index_migrate - refuse a newer schema, then apply each due migration in NNN order */
static int
index_migrate(struct index *ix)
{
	const struct embed_file	*f, *next;
	int			 cur, max, v, n, best;

	max = index_max_version();
	if ((cur = index_user_version(ix)) < 0)
		return -1;
	if (cur > max) {
		index_seterr(ix, "index %s has schema version %d, newer than this program knows"
		    " (%d): upgrade mxspool or use the matching index", ix->path, cur, max);
		return -1;
	}
	for (v = cur;;) {
		/* the smallest migration above v */
		next = NULL;
		best = 0;
		for (f = embed_files; f->name != NULL; f++) {
			n = migration_number(f->name);
			if (n > v && (next == NULL || n < best)) {
				next = f;
				best = n;
			}
		}
		if (next == NULL)
			return 0;
		if (index_apply(ix, best, (const char *)next->data) == -1) {
			char	why[ERRSTR_MAX];

			snprintf(why, sizeof(why), "%s", ix->err);
			index_seterr(ix, "migration %s: %s", next->name, why);
			return -1;
		}
		v = best;
	}
}

/*
 * index_global - once per process, before SQLite initialises: no memory
 * statistics.  They are kept under one global mutex taken on every SQLite
 * allocation, which the commit and replay worker threads, each on its own
 * connection, otherwise all queue on.
 */
static void
index_global(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/* why this thread's last index_open* failed (index_open_status) */
static __thread enum index_status index_open_st;

/*
 * index_open_why - classify a failed open: permissions, busy and I/O can be
 * fixed and retried (INDEX_TEMPFAIL); anything else, including a file that is
 * not a database or a schema newer than ours (no SQLite error), is
 * INDEX_PERMFAIL: this program cannot use that file as it is
 */
static enum index_status
index_open_why(sqlite3 *db, int rc)
{
	enum index_status st;

	if (db != NULL && rc == SQLITE_OK)
		rc = sqlite3_extended_errcode(db);
	rc &= 0xff;
	if (rc == SQLITE_READONLY || rc == SQLITE_PERM || rc == SQLITE_AUTH)
		return INDEX_TEMPFAIL;
	st = index_status_of(rc);
	return st == INDEX_OK ? INDEX_PERMFAIL : st;
}

/* index_open_status - see index.h */
enum index_status
index_open_status(void)
{
	return index_open_st;
}

/* index_open_flags - open, configure and migrate */
static struct index *
index_open_flags(const char *path, int flags, char *err, size_t errlen)
{
	struct index	*ix;
	int		 rc;

	if ((ix = calloc(1, sizeof(*ix))) == NULL) {
		snprintf(err, errlen, "index %s: out of memory", path);
		return NULL;
	}
	snprintf(ix->path, sizeof(ix->path), "%s", path);
	index_open_st = INDEX_OK;
	pthread_once(&index_once, index_global);
	rc = sqlite3_open_v2(path, &ix->db, flags | SQLITE_OPEN_NOMUTEX, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "index %s: open: %s", path,
		    ix->db ? sqlite3_errmsg(ix->db) : sqlite3_errstr(rc));
		index_open_st = index_open_why(NULL, rc);
		goto fail;
	}
	index_set_busy_timeout(ix, INDEX_BUSY_DEFAULT_MS);
	/* SQLite falls back to read-only when it may not write the file: every commit
	 * would then fail ("readonly database"), so say it now, at start-up */
	if (sqlite3_db_readonly(ix->db, "main") == 1) {
		snprintf(err, errlen, "index %s: not writable by uid %ld (%s): chown it (and its"
		    " -wal, -shm) to the user the program runs as", path, (long)geteuid(),
		    access(path, W_OK) == -1 ? strerror(errno) : "read-only");
		index_open_st = INDEX_TEMPFAIL;	/* "not accessible": 75, not storage's 69 */
		goto fail;
	}
	if (index_wal(ix) != SQLITE_OK ||
	    index_exec(ix, "PRAGMA synchronous = FULL") != SQLITE_OK ||
	    index_exec(ix, "PRAGMA foreign_keys = ON") != SQLITE_OK ||
	    index_migrate(ix) == -1) {
		snprintf(err, errlen, "%s", ix->err);
		index_open_st = index_open_why(ix->db, SQLITE_OK);
		goto fail;
	}
	return ix;
fail:
	sqlite3_close(ix->db);
	free(ix);
	return NULL;
}

/* index_open - open or create path and migrate it */
struct index *
index_open(const char *path, char *err, size_t errlen)
{
	return index_open_flags(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, err, errlen);
}

/* index_open_existing - as index_open, but never create a new empty index */
struct index *
index_open_existing(const char *path, char *err, size_t errlen)
{
	if (access(path, F_OK) == -1) {
		snprintf(err, errlen, "index %s: %s (check [general] index / data_dir)", path,
		    strerror(errno));
		index_open_st = INDEX_NOTFOUND;
		return NULL;
	}
	return index_open_flags(path, SQLITE_OPEN_READWRITE, err, errlen);
}

/* index_close - finalize the cached statements and close */
void
index_close(struct index *ix)
{
	int	i;

	if (ix == NULL)
		return;
	for (i = 0; i < INDEX_STMT_CACHE; i++) {
		sqlite3_finalize(ix->cache[i].st);
		free(ix->cache[i].sql);
	}
	sqlite3_close(ix->db);
	free(ix);
}

const char *
index_error(const struct index *ix)
{
	return ix->err;
}

struct sqlite3 *
index_db(struct index *ix)
{
	return ix->db;
}

/* index_set_durable - synchronous=FULL or NORMAL for this handle; see index.h */
void
index_set_durable(struct index *ix, int full)
{
	(void)index_exec(ix, full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
}

/* index_set_busy_timeout - how long a writer waits for the lock before INDEX_TEMPFAIL */
void
index_set_busy_timeout(struct index *ix, int ms)
{
	sqlite3_busy_timeout(ix->db, ms);
	ix->busy_ms = ms;
}

/* index_wunlock - leave index_wlock if this handle holds it */
static void
index_wunlock(struct index *ix)
{
	if (ix->wlocked) {
		ix->wlocked = 0;
		pthread_mutex_unlock(&index_wlock);
	}
}

int
index_schema_version(struct index *ix)
{
	return index_user_version(ix);
}

/* index_begin - BEGIN IMMEDIATE: take the write lock now, wait up to the busy timeout */
enum index_status
index_begin(struct index *ix)
{
	struct timespec	ts;
	int		rc;

	if (!ix->wlocked) {
		clock_after(CLOCK_REALTIME, ix->busy_ms, &ts);
		if (pthread_mutex_timedlock(&index_wlock, &ts) != 0) {
			index_seterr(ix, "busy: another writer of this process held the index "
			    "for %d ms", ix->busy_ms);
			return INDEX_TEMPFAIL;
		}
		ix->wlocked = 1;
	}
	if ((rc = index_exec(ix, "BEGIN IMMEDIATE")) != SQLITE_OK) {
		index_wunlock(ix);
		return index_status_of(rc);
	}
	return INDEX_OK;
}

/* index_commit - COMMIT; on failure the transaction is rolled back */
enum index_status
index_commit(struct index *ix)
{
	int	rc;

	if ((rc = index_exec(ix, "COMMIT")) != SQLITE_OK) {
		if (!sqlite3_get_autocommit(ix->db))
			sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
		index_wunlock(ix);
		return index_status_of(rc);
	}
	index_wunlock(ix);
	return INDEX_OK;
}

void
index_rollback(struct index *ix)
{
	if (!sqlite3_get_autocommit(ix->db))
		sqlite3_exec(ix->db, "ROLLBACK", NULL, NULL, NULL);
	index_wunlock(ix);
}

/* index_end - roll back when st failed, else commit (the reason kept); the outcome */
enum index_status
index_end(struct index *ix, enum index_status st)
{
	if (st != INDEX_OK) {
		index_rollback(ix);
		return st;
	}
	return index_commit(ix);
}

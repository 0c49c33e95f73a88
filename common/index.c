/*
 * index.c - open the SQLite index, migrate it, and add/read messages.
 *
 * Entry points: index_open/index_open_existing/index_close, index_begin/
 * commit/rollback, index_add_message, index_set_location, index_get_message,
 * index_has_message, index_foreach_spooled/message, index_mark_missing,
 * index_kv_get/set.  Companion modules (index_replay.c, ...) use index_db().
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
#include "msgid.h"
#include "queue_state.h"

#define INDEX_BUSY_DEFAULT_MS	5000
#define INDEX_BATCH		512	/* ids per page in the foreach functions */

enum index_stmt {
	ST_ADD_MSG, ST_ADD_RCPT, ST_SET_LOC, ST_GET_MSG, ST_GET_RCPTS, ST_HAS,
	ST_SPOOLED, ST_ALL, ST_MISSING, ST_STATE, ST_KV_GET, ST_KV_SET, ST_COUNT
};

static const char *const index_sql[ST_COUNT] = {
	[ST_ADD_MSG] = "INSERT INTO messages (id, node, object_key, location, spool_path,"
	    " received_ms, size, sha256, mail_from, mail_params, client_addr, client_name,"
	    " helo, tls, state, next_attempt_ms, state_ms, auth_spf, auth_dkim, auth_dmarc)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14,"
	    " CASE WHEN ?19 THEN 'quarantine' ELSE 'queued' END, ?15, ?15, ?16, ?17, ?18)",
	/* a DMARC p=quarantine failure under auth_policy = enforce waits for the operator */
	[ST_ADD_RCPT] = "INSERT OR IGNORE INTO recipients (message_id, rcpt, domain, params, seq,"
	    " state, last_text, updated_ms)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, CASE WHEN ?6 THEN 'quarantine' ELSE 'pending' END,"
	    " CASE WHEN ?6 THEN 'DMARC policy quarantine (verified at ingest)' END,"
	    " CASE WHEN ?6 THEN ?7 END)",
	[ST_SET_LOC] = "UPDATE messages SET location = ?2, object_key = ?3, spool_path = ?4"
	    " WHERE id = ?1",
	[ST_GET_MSG] = "SELECT node, object_key, location, spool_path, received_ms, size, sha256,"
	    " mail_from, mail_params, client_addr, client_name, helo, tls,"
	    " auth_spf, auth_dkim, auth_dmarc FROM messages WHERE id = ?1",
	[ST_GET_RCPTS] = "SELECT rcpt, params FROM recipients WHERE message_id = ?1"
	    " ORDER BY seq, rcpt",
	[ST_HAS] = "SELECT 1 FROM messages WHERE id = ?1",
	/* "location <> 0" selects the partial index, "= 1" lets it deliver the order */
	[ST_SPOOLED] = "SELECT id, object_key, spool_path, received_ms FROM messages"
	    " WHERE location = 1 AND location <> 0 AND (received_ms, id) > (?1, ?2)"
	    " ORDER BY received_ms, id LIMIT ?3",
	[ST_ALL] = "SELECT id, object_key, location FROM messages WHERE id > ?1"
	    " ORDER BY id LIMIT ?2",
	[ST_MISSING] = "UPDATE messages SET state = " QS_SQL(QS_MISSING) ", state_ms = ?2 WHERE id = ?1",
	[ST_STATE] = "SELECT state, coalesce(purged_ms, 0) FROM messages WHERE id = ?1",
	[ST_KV_GET] = "SELECT value FROM control WHERE key = ?1",
	[ST_KV_SET] = "INSERT INTO control (key, value, updated_ms) VALUES (?1, ?2, ?3)"
	    " ON CONFLICT(key) DO UPDATE SET value = excluded.value,"
	    " updated_ms = excluded.updated_ms",
};

/*
 * The one statement cache of a handle, for this module (index_sql) and the
 * companion modules alike (index_prepare): parsing and planning cost more
 * than running them, at several statements per delivered message.  Keyed by
 * the SQL text, so the dynamic filter queries share slots only with
 * themselves; least recently used goes first.
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

/* rcpt_domain - lower-cased part after the last '@' ("" if none) */
static void
rcpt_domain(const char *addr, char *out, size_t outlen)
{
	const char	*at = strrchr(addr, '@');
	size_t		 i;

	at = at ? at + 1 : "";
	for (i = 0; at[i] != '\0' && i + 1 < outlen; i++)
		out[i] = (at[i] >= 'A' && at[i] <= 'Z') ? at[i] - 'A' + 'a' : at[i];
	out[i] = '\0';
}

/* bind_text - bind a C string (NULL binds "") */
static int
bind_text(sqlite3_stmt *st, int i, const char *s)
{
	return sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_STATIC);
}

/* index_insert - the two INSERTs of index_add_message, inside a transaction */
static enum index_status
index_insert(struct index *ix, const struct envelope *e, const char *object_key,
    enum index_location loc, const char *spool_path)
{
	sqlite3_stmt	*st;
	char		 dom[MXS_DOMAIN_MAX + 1];
	size_t		 i;
	int		 rc;

	if ((st = index_prepare(ix, index_sql[ST_ADD_MSG])) == NULL)
		return INDEX_PERMFAIL;
	bind_text(st, 1, e->id);
	bind_text(st, 2, e->node);
	bind_text(st, 3, object_key);
	sqlite3_bind_int(st, 4, loc);
	if (spool_path != NULL)
		bind_text(st, 5, spool_path);
	sqlite3_bind_int64(st, 6, e->received_ms);
	sqlite3_bind_int64(st, 7, e->size);
	bind_text(st, 8, e->sha256);
	bind_text(st, 9, e->mail_from);
	bind_text(st, 10, e->mail_params);
	bind_text(st, 11, e->client_addr);
	bind_text(st, 12, e->client_name);
	bind_text(st, 13, e->helo);
	bind_text(st, 14, e->tls);
	sqlite3_bind_int64(st, 15, now_ms());
	bind_text(st, 16, e->auth_spf);
	bind_text(st, 17, e->auth_dkim);
	bind_text(st, 18, e->auth_dmarc);
	sqlite3_bind_int(st, 19, e->auth_quarantine);
	rc = sqlite3_step(st);
	index_unprepare(ix, st);
	if (rc == SQLITE_CONSTRAINT &&
	    sqlite3_extended_errcode(ix->db) == SQLITE_CONSTRAINT_PRIMARYKEY) {
		index_seterr(ix, "index: message %s already present", e->id);
		return INDEX_EXISTS;
	}
	if (rc != SQLITE_DONE)
		return index_fail(ix, "insert message", rc) == INDEX_EXISTS ? INDEX_PERMFAIL :
		    index_status_of(rc);
	for (i = 0; i < e->nrcpts; i++) {
		if ((st = index_prepare(ix, index_sql[ST_ADD_RCPT])) == NULL)
			return INDEX_PERMFAIL;
		rcpt_domain(e->rcpts[i].addr, dom, sizeof(dom));
		bind_text(st, 1, e->id);
		bind_text(st, 2, e->rcpts[i].addr);
		bind_text(st, 3, dom);
		bind_text(st, 4, e->rcpts[i].params);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)i);
		sqlite3_bind_int(st, 6, e->auth_quarantine);
		sqlite3_bind_int64(st, 7, now_ms());
		rc = sqlite3_step(st);
		index_unprepare(ix, st);
		if (rc != SQLITE_DONE) {
			index_fail(ix, "insert recipient", rc);
			return index_status_of(rc) == INDEX_EXISTS ? INDEX_PERMFAIL : index_status_of(rc);
		}
	}
	return INDEX_OK;
}

/*
 * index_add_message - message + recipients in one transaction.  Inside a
 * caller's index_begin() it only inserts (bulk loads, reindex batches).
 */
enum index_status
index_add_message(struct index *ix, const struct envelope *e, const char *object_key,
    enum index_location loc, const char *spool_path)
{
	enum index_status	s;
	int			outer = !sqlite3_get_autocommit(ix->db);

	if (e->nrcpts == 0 || !msgid_valid(e->id)) {
		index_seterr(ix, "index: refusing message %s without recipients or valid id",
		    e->id);
		return INDEX_PERMFAIL;
	}
	if (!outer && (s = index_begin(ix)) != INDEX_OK)
		return s;
	s = index_insert(ix, e, object_key, loc, spool_path);
	if (outer)
		return s;
	if (s != INDEX_OK) {
		index_rollback(ix);
		return s;
	}
	return index_commit(ix);
}

/* index_set_location - move the bytes' location (spool -> store after upload) */
enum index_status
index_set_location(struct index *ix, const char *id, enum index_location loc,
    const char *object_key, const char *spool_path)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = index_prepare(ix, index_sql[ST_SET_LOC])) == NULL)
		return INDEX_PERMFAIL;
	bind_text(st, 1, id);
	sqlite3_bind_int(st, 2, loc);
	bind_text(st, 3, object_key);
	if (spool_path != NULL && loc == INDEX_LOC_SPOOL)
		bind_text(st, 4, spool_path);
	rc = sqlite3_step(st);
	index_unprepare(ix, st);
	if (rc != SQLITE_DONE)
		return index_fail(ix, "set location", rc);
	if (sqlite3_changes(ix->db) == 0) {
		index_seterr(ix, "index: no message %s", id);
		return INDEX_NOTFOUND;
	}
	return INDEX_OK;
}

/* col_dup - strdup of a text column ("" for NULL) */
static char *
col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char	*s = sqlite3_column_text(st, i);

	return strdup(s ? (const char *)s : "");
}

/* col_copy - a text column into a fixed buffer (truncation is a bug: buffers fit keys) */
static void
col_copy(sqlite3_stmt *st, int i, char *out, size_t outlen)
{
	const unsigned char	*s = sqlite3_column_text(st, i);

	if (out != NULL && outlen > 0)
		snprintf(out, outlen, "%s", s ? (const char *)s : "");
}

/* index_get_rcpts - recipients of id in envelope order */
static enum index_status
index_get_rcpts(struct index *ix, const char *id, struct envelope *e)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = index_prepare(ix, index_sql[ST_GET_RCPTS])) == NULL)
		return INDEX_PERMFAIL;
	bind_text(st, 1, id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (envelope_add_rcpt(e, (const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1)) == -1) {
			index_unprepare(ix, st);
			index_seterr(ix, "index: out of memory");
			return INDEX_TEMPFAIL;
		}
	}
	index_unprepare(ix, st);
	return rc == SQLITE_DONE ? INDEX_OK : index_fail(ix, "get recipients", rc);
}

/* index_get_message - the envelope and location of id; e is initialised here */
enum index_status
index_get_message(struct index *ix, const char *id, struct envelope *e, char *object_key,
    size_t keylen, enum index_location *loc, char *spool_path, size_t spoollen)
{
	sqlite3_stmt		*st;
	enum index_status	 s;
	int			 rc;

	envelope_init(e);
	if ((st = index_prepare(ix, index_sql[ST_GET_MSG])) == NULL)
		return INDEX_PERMFAIL;
	bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		index_unprepare(ix, st);
		index_seterr(ix, "index: no message %s", id);
		return INDEX_NOTFOUND;
	}
	if (rc != SQLITE_ROW) {
		index_unprepare(ix, st);
		return index_fail(ix, "get message", rc);
	}
	snprintf(e->id, sizeof(e->id), "%s", id);
	col_copy(st, 0, e->node, sizeof(e->node));
	col_copy(st, 1, object_key, keylen);
	if (loc != NULL)
		*loc = sqlite3_column_int(st, 2) ? INDEX_LOC_SPOOL : INDEX_LOC_STORE;
	col_copy(st, 3, spool_path, spoollen);
	e->received_ms = sqlite3_column_int64(st, 4);
	e->size = sqlite3_column_int64(st, 5);
	col_copy(st, 6, e->sha256, sizeof(e->sha256));
	e->mail_from = col_dup(st, 7);
	e->mail_params = col_dup(st, 8);
	e->client_addr = col_dup(st, 9);
	e->client_name = col_dup(st, 10);
	e->helo = col_dup(st, 11);
	e->tls = col_dup(st, 12);
	col_copy(st, 13, e->auth_spf, sizeof(e->auth_spf));
	col_copy(st, 14, e->auth_dkim, sizeof(e->auth_dkim));
	col_copy(st, 15, e->auth_dmarc, sizeof(e->auth_dmarc));
	index_unprepare(ix, st);
	if (!e->mail_from || !e->mail_params || !e->client_addr || !e->client_name ||
	    !e->helo || !e->tls) {
		envelope_free(e);
		index_seterr(ix, "index: out of memory");
		return INDEX_TEMPFAIL;
	}
	if ((s = index_get_rcpts(ix, id, e)) != INDEX_OK)
		envelope_free(e);
	return s;
}

/* index_has_message - INDEX_OK if id is indexed */
enum index_status
index_has_message(struct index *ix, const char *id)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = index_prepare(ix, index_sql[ST_HAS])) == NULL)
		return INDEX_PERMFAIL;
	bind_text(st, 1, id);
	rc = sqlite3_step(st);
	index_unprepare(ix, st);
	if (rc == SQLITE_ROW)
		return INDEX_OK;
	if (rc == SQLITE_DONE)
		return INDEX_NOTFOUND;
	return index_fail(ix, "has message", rc);
}

/* one row collected by a foreach page, so callbacks may write to the index */
struct index_row {
	char	id[MSGID_MAX];
	char	key[OBJKEY_MAX];
	char	spool[1024];
	int64_t	received_ms;
	int	loc;
};

/* index_foreach_spooled - messages in the spool, oldest first, in pages */
enum index_status
index_foreach_spooled(struct index *ix, int (*fn)(const char *, const char *, const char *,
    void *), void *arg)
{
	struct index_row	*rows;
	sqlite3_stmt		*st;
	char			 last_id[MSGID_MAX] = "";
	int64_t			 last_ms = -1;
	int			 n, i, rc;

	if ((rows = calloc(INDEX_BATCH, sizeof(*rows))) == NULL)
		return INDEX_TEMPFAIL;
	for (;;) {
		if ((st = index_prepare(ix, index_sql[ST_SPOOLED])) == NULL)
			goto perm;
		sqlite3_bind_int64(st, 1, last_ms);
		bind_text(st, 2, last_id);
		sqlite3_bind_int(st, 3, INDEX_BATCH);
		for (n = 0; (rc = sqlite3_step(st)) == SQLITE_ROW; n++) {
			col_copy(st, 0, rows[n].id, sizeof(rows[n].id));
			col_copy(st, 1, rows[n].key, sizeof(rows[n].key));
			col_copy(st, 2, rows[n].spool, sizeof(rows[n].spool));
			rows[n].received_ms = sqlite3_column_int64(st, 3);
		}
		index_unprepare(ix, st);
		if (rc != SQLITE_DONE) {
			free(rows);
			return index_fail(ix, "list spooled", rc);
		}
		for (i = 0; i < n; i++)
			if (fn(rows[i].id, rows[i].key, rows[i].spool, arg) != 0)
				goto done;
		if (n < INDEX_BATCH)
			goto done;
		last_ms = rows[n - 1].received_ms;
		memcpy(last_id, rows[n - 1].id, sizeof(last_id));
	}
done:
	free(rows);
	return INDEX_OK;
perm:
	free(rows);
	return INDEX_PERMFAIL;
}

/* index_foreach_message - every message in id order, in pages; fn != 0 stops */
enum index_status
index_foreach_message(struct index *ix, int (*fn)(const char *, const char *,
    enum index_location, void *), void *arg)
{
	struct index_row	*rows;
	sqlite3_stmt		*st;
	char			 last_id[MSGID_MAX] = "";
	int			 n, i, rc;

	if ((rows = calloc(INDEX_BATCH, sizeof(*rows))) == NULL)
		return INDEX_TEMPFAIL;
	for (;;) {
		if ((st = index_prepare(ix, index_sql[ST_ALL])) == NULL) {
			free(rows);
			return INDEX_PERMFAIL;
		}
		bind_text(st, 1, last_id);
		sqlite3_bind_int(st, 2, INDEX_BATCH);
		for (n = 0; (rc = sqlite3_step(st)) == SQLITE_ROW; n++) {
			col_copy(st, 0, rows[n].id, sizeof(rows[n].id));
			col_copy(st, 1, rows[n].key, sizeof(rows[n].key));
			rows[n].loc = sqlite3_column_int(st, 2);
		}
		index_unprepare(ix, st);
		if (rc != SQLITE_DONE) {
			free(rows);
			return index_fail(ix, "list messages", rc);
		}
		for (i = 0; i < n; i++)
			if (fn(rows[i].id, rows[i].key, rows[i].loc ? INDEX_LOC_SPOOL :
			    INDEX_LOC_STORE, arg) != 0)
				n = 0;
		if (n < INDEX_BATCH)
			break;
		memcpy(last_id, rows[n - 1].id, sizeof(last_id));
	}
	free(rows);
	return INDEX_OK;
}

/* index_get_state - the state of id and when its object was purged (0: not purged) */
enum index_status
index_get_state(struct index *ix, const char *id, char *state, size_t statelen,
    int64_t *purged_ms)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = index_prepare(ix, index_sql[ST_STATE])) == NULL)
		return INDEX_PERMFAIL;
	bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		col_copy(st, 0, state, statelen);
		if (purged_ms)
			*purged_ms = sqlite3_column_int64(st, 1);
	}
	index_unprepare(ix, st);
	if (rc == SQLITE_ROW)
		return INDEX_OK;
	if (rc == SQLITE_DONE) {
		index_seterr(ix, "index: no message %s", id);
		return INDEX_NOTFOUND;
	}
	return index_fail(ix, "get state", rc);
}

/* index_mark_missing - state 'missing': the object is gone, the row stays for audit */
enum index_status
index_mark_missing(struct index *ix, const char *id)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = index_prepare(ix, index_sql[ST_MISSING])) == NULL)
		return INDEX_PERMFAIL;
	bind_text(st, 1, id);
	sqlite3_bind_int64(st, 2, now_ms());
	rc = sqlite3_step(st);
	index_unprepare(ix, st);
	if (rc != SQLITE_DONE)
		return index_fail(ix, "mark missing", rc);
	return sqlite3_changes(ix->db) ? INDEX_OK : INDEX_NOTFOUND;
}

/* index_kv_get - a control value (malloc'd), INDEX_NOTFOUND if unset */
enum index_status
index_kv_get(struct index *ix, const char *key, char **value)
{
	sqlite3_stmt	*st;
	int		 rc;

	*value = NULL;
	if ((st = index_prepare(ix, index_sql[ST_KV_GET])) == NULL)
		return INDEX_PERMFAIL;
	bind_text(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*value = col_dup(st, 0);
	index_unprepare(ix, st);
	if (rc == SQLITE_DONE)
		return INDEX_NOTFOUND;
	if (rc != SQLITE_ROW)
		return index_fail(ix, "kv get", rc);
	return *value ? INDEX_OK : INDEX_TEMPFAIL;
}

/* index_kv_set - set a control value */
enum index_status
index_kv_set(struct index *ix, const char *key, const char *value)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = index_prepare(ix, index_sql[ST_KV_SET])) == NULL)
		return INDEX_PERMFAIL;
	bind_text(st, 1, key);
	bind_text(st, 2, value);
	sqlite3_bind_int64(st, 3, now_ms());
	rc = sqlite3_step(st);
	index_unprepare(ix, st);
	return rc == SQLITE_DONE ? INDEX_OK : index_fail(ix, "kv set", rc);
}

/* index_node_since - since when node commits into this index (index_nodes) into *ms */
enum index_status
index_node_since(struct index *ix, const char *node, int64_t *ms)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = index_prepare(ix, "SELECT since_ms FROM index_nodes WHERE node = ?1")) == NULL)
		return INDEX_TEMPFAIL;
	bind_text(st, 1, node);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*ms = sqlite3_column_int64(st, 0);
	index_unprepare(ix, st);
	if (rc == SQLITE_ROW)
		return INDEX_OK;
	if (rc == SQLITE_DONE)
		return INDEX_NOTFOUND;
	index_fail(ix, "node since", rc);
	return index_status_of(rc);
}

/* index_node_register - node commits into this index from now on (the first time counts) */
enum index_status
index_node_register(struct index *ix, const char *node, int64_t now)
{
	sqlite3_stmt	*st;
	int		 rc;

	if ((st = index_prepare(ix, "INSERT OR IGNORE INTO index_nodes (node, since_ms)"
	    " VALUES (?1, ?2)")) == NULL)
		return INDEX_PERMFAIL;
	bind_text(st, 1, node);
	sqlite3_bind_int64(st, 2, now);
	rc = sqlite3_step(st);
	index_unprepare(ix, st);
	return rc == SQLITE_DONE ? INDEX_OK : index_fail(ix, "node register", rc);
}

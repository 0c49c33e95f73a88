/*
 * index_verify.c - verify_cache and counters SQL; see index_verify.h.
 *
 * Shared, not the ingest's alone: the ingest fills and purges the cache
 * (ingest/rcpt_verify.c) and adds its counters (ingest/index_ingest.c); the
 * replay lists and flushes it (cli_verify.c, the operator's "verify"), reads
 * it in check (check_local.c) and counts its caps (sched_housekeep.c).
 *
 * Entry points: index_verify_get/put/delete/flush/list/purge, index_counter_add.
 * Each call takes its statement from the handle's cache (index_prepare),
 * binds every value with sqlite3_bind_*, steps once (or to the end) and gives
 * it back.  Errors: as every index module - the reason in index_error()
 * (index_fail), mapped to enum index_status; nothing is logged here, the
 * caller logs it once with what it was doing.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "index_verify.h"
#include "log.h"

/*
 * index_verify_prepare - sql from the handle's statement cache with ?1 = key
 * (when not NULL: the address or counter name every statement but two is
 * about); a failure in index_error()
 */
static enum index_status
index_verify_prepare(struct index *idx, const char *sql, sqlite3_stmt **st, const char *what,
    const char *key)
{
	if ((*st = index_prepare(idx, sql)) == NULL)
		return index_fail(idx, what, sqlite3_extended_errcode(index_db(idx)));
	if (key != NULL)
		sqlite3_bind_text(*st, 1, key, -1, SQLITE_STATIC);
	return INDEX_OK;
}

/* index_verify_finish - give st back after a step that returned rc; a failure in index_error() */
static enum index_status
index_verify_finish(struct index *idx, sqlite3_stmt *st, int rc, const char *what)
{
	enum index_status s = index_status_of(rc);

	if (s != INDEX_OK)
		s = index_fail(idx, what, rc);
	index_unprepare(idx, st);
	return s;
}

/* index_verify_change - step a change once, give st back; *changed (may be NULL) rows */
static enum index_status
index_verify_change(struct index *idx, sqlite3_stmt *st, const char *what, long long *changed)
{
	enum index_status s = index_verify_finish(idx, st, sqlite3_step(st), what);

	if (s == INDEX_OK && changed != NULL)
		*changed = sqlite3_changes(index_db(idx));
	return s;
}

/* index_verify_row - the entry in the columns result, code, text, checked_ms, expires_ms
 * of st, from column col on */
static void
index_verify_row(sqlite3_stmt *st, int col, struct index_verify_entry *e)
{
	const unsigned char *t = sqlite3_column_text(st, col + 2);

	e->result = sqlite3_column_int(st, col);
	e->code = sqlite3_column_int(st, col + 1);
	snprintf(e->text, sizeof(e->text), "%s", t ? (const char *)t : "");
	e->checked_ms = sqlite3_column_int64(st, col + 3);
	e->expires_ms = sqlite3_column_int64(st, col + 4);
}

/* index_verify_get - the row of addr; INDEX_NOTFOUND if none */
enum index_status
index_verify_get(struct index *idx, const char *addr, struct index_verify_entry *e)
{
	static const char sql[] = "SELECT result, code, text, checked_ms, expires_ms "
	    "FROM verify_cache WHERE address = ?1";
	sqlite3_stmt		*st;
	enum index_status	 s;
	int			 rc;

	if ((s = index_verify_prepare(idx, sql, &st, "verify_get", addr)) != INDEX_OK)
		return s;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		index_verify_row(st, 0, e);
	if ((s = index_verify_finish(idx, st, rc, "verify_get")) == INDEX_OK && rc == SQLITE_DONE)
		s = INDEX_NOTFOUND;
	return s;
}

/* index_verify_put - insert or replace the row of addr */
enum index_status
index_verify_put(struct index *idx, const char *addr, const struct index_verify_entry *e)
{
	static const char sql[] = "INSERT OR REPLACE INTO verify_cache "
	    "(address, result, code, text, checked_ms, expires_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";
	sqlite3_stmt		*st;
	enum index_status	 s;

	if ((s = index_verify_prepare(idx, sql, &st, "verify_put", addr)) != INDEX_OK)
		return s;
	sqlite3_bind_int(st, 2, e->result ? 1 : 0);
	sqlite3_bind_int(st, 3, e->code);
	sqlite3_bind_text(st, 4, e->text, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, e->checked_ms);
	sqlite3_bind_int64(st, 6, e->expires_ms);
	return index_verify_change(idx, st, "verify_put", NULL);
}

/* index_verify_delete - forget addr */
enum index_status
index_verify_delete(struct index *idx, const char *addr)
{
	static const char sql[] = "DELETE FROM verify_cache WHERE address = ?1";
	sqlite3_stmt		*st;
	enum index_status	 s;

	if ((s = index_verify_prepare(idx, sql, &st, "verify_delete", addr)) != INDEX_OK)
		return s;
	return index_verify_change(idx, st, "verify_delete", NULL);
}

/* rows of one domain: the key's single '@' (mailaddr_key refuses a local part with one) */
#define VERIFY_IN_DOMAIN	"(?2 IS NULL OR substr(address, -length(?2) - 1) = '@' || ?2)"

/* index_verify_flush - forget addr, every address @domain, or everything */
enum index_status
index_verify_flush(struct index *idx, const char *addr, const char *domain, long long *deleted)
{
	static const char sql[] = "DELETE FROM verify_cache WHERE (?1 IS NULL OR address = ?1)"
	    " AND " VERIFY_IN_DOMAIN;
	sqlite3_stmt		*st;
	enum index_status	 s;

	if ((s = index_verify_prepare(idx, sql, &st, "verify_flush", NULL)) != INDEX_OK)
		return s;
	sqlite3_bind_text(st, 1, addr, -1, SQLITE_STATIC);	/* NULL: every address */
	sqlite3_bind_text(st, 2, domain, -1, SQLITE_STATIC);
	return index_verify_change(idx, st, "verify_flush", deleted);
}

/* index_verify_list - the rows (of one domain), by address */
enum index_status
index_verify_list(struct index *idx, const char *domain,
    int (*fn)(const char *addr, const struct index_verify_entry *, void *), void *arg)
{
	static const char sql[] = "SELECT address, result, code, text, checked_ms, expires_ms"
	    " FROM verify_cache WHERE " VERIFY_IN_DOMAIN " ORDER BY address";
	struct index_verify_entry	 e;
	sqlite3_stmt			*st;
	const unsigned char		*t;
	enum index_status		 s;
	int				 rc;

	if ((s = index_verify_prepare(idx, sql, &st, "verify_list", NULL)) != INDEX_OK)
		return s;
	sqlite3_bind_text(st, 2, domain, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		index_verify_row(st, 1, &e);
		t = sqlite3_column_text(st, 0);
		if (fn(t ? (const char *)t : "", &e, arg) != 0) {
			rc = SQLITE_DONE;
			break;
		}
	}
	return index_verify_finish(idx, st, rc, "verify_list");
}

/* index_verify_purge - drop expired negatives and positives too stale to use */
enum index_status
index_verify_purge(struct index *idx, int64_t now_ms, int64_t stale_before_ms,
    long long *deleted)
{
	static const char sql[] = "DELETE FROM verify_cache WHERE "
	    "(result = 0 AND expires_ms <= ?1) OR (result <> 0 AND checked_ms < ?2)";
	sqlite3_stmt		*st;
	enum index_status	 s;

	if ((s = index_verify_prepare(idx, sql, &st, "verify_purge", NULL)) != INDEX_OK)
		return s;
	sqlite3_bind_int64(st, 1, now_ms);
	sqlite3_bind_int64(st, 2, stale_before_ms);
	return index_verify_change(idx, st, "verify_purge", deleted);
}

/* index_counter_add - counters(name, label) += delta */
enum index_status
index_counter_add(struct index *idx, const char *name, const char *label, long long delta)
{
	static const char sql[] = "INSERT INTO counters (name, label, value, updated_ms) "
	    "VALUES (?1, ?2, ?3, ?4) ON CONFLICT (name, label) DO UPDATE SET "
	    "value = value + excluded.value, updated_ms = excluded.updated_ms";
	sqlite3_stmt		*st;
	enum index_status	 s;

	if ((s = index_verify_prepare(idx, sql, &st, "counter_add", name)) != INDEX_OK)
		return s;
	sqlite3_bind_text(st, 2, label ? label : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, delta);
	sqlite3_bind_int64(st, 4, now_ms());
	return index_verify_change(idx, st, "counter_add", NULL);
}

/* index_counter_get - current value (0 when absent); the scheduler's tests read caps back */
enum index_status
index_counter_get(struct index *idx, const char *name, const char *label, long long *value)
{
	static const char sql[] = "SELECT value FROM counters WHERE name = ?1 AND label = ?2";
	sqlite3_stmt		*st;
	enum index_status	 s;
	int			 rc;

	if ((s = index_verify_prepare(idx, sql, &st, "counter_get", name)) != INDEX_OK)
		return s;
	sqlite3_bind_text(st, 2, label ? label : "", -1, SQLITE_STATIC);
	*value = 0;
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		*value = sqlite3_column_int64(st, 0);
		rc = SQLITE_DONE;
	}
	return index_verify_finish(idx, st, rc, "counter_get");
}

/*
 * index_drill.c - canary rows of the failover drill: SQL; see index_drill.h.
 *
 * Entry points: index_drill_mark/count/forget.  Statements are prepared per
 * call (a drill runs a handful of them).  index_drill_forget deletes only a
 * row with drill = 1: a mistyped id never removes real mail.
 */
#include <sqlite3.h>
#include <stdio.h>

#include "index_drill.h"
#include "log.h"

/* index_drill_run - prepare sql, bind id (and now), step once; INDEX_NOTFOUND if no change */
static enum index_status
index_drill_run(struct index *ix, const char *sql, const char *id, int64_t now_ms,
    const char *what)
{
	sqlite3		*db = index_db(ix);
	sqlite3_stmt	*st = NULL;
	int		 rc;

	if ((rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) == SQLITE_OK) {
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
		if (sqlite3_bind_parameter_count(st) > 1)
			sqlite3_bind_int64(st, 2, now_ms);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_warnx("%s index drill_%s failed error=\"%s\"", id, what, sqlite3_errmsg(db));
		return index_status_of(rc);
	}
	return sqlite3_changes(db) > 0 ? INDEX_OK : INDEX_NOTFOUND;
}

enum index_status
index_drill_mark(struct index *ix, const char *id, int64_t now_ms)
{
	return index_drill_run(ix, "UPDATE messages SET drill = 1, state = 'hold', state_ms = ?2"
	    " WHERE id = ?1", id, now_ms, "mark");
}

enum index_status
index_drill_count(struct index *ix, int64_t *n)
{
	sqlite3		*db = index_db(ix);
	sqlite3_stmt	*st = NULL;
	int		 rc;

	*n = 0;
	if ((rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM messages WHERE drill <> 0", -1,
	    &st, NULL)) == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		*n = sqlite3_column_int64(st, 0);
		rc = SQLITE_DONE;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		log_warnx("- index drill_count failed error=\"%s\"", sqlite3_errmsg(db));
		return index_status_of(rc);
	}
	return INDEX_OK;
}

enum index_status
index_drill_forget(struct index *ix, const char *id)
{
	enum index_status s;

	if ((s = index_begin(ix)) != INDEX_OK)
		return s;
	if ((s = index_drill_run(ix, "DELETE FROM attempts WHERE message_id = ?1 AND"
	    " EXISTS (SELECT 1 FROM messages WHERE id = ?1 AND drill <> 0)", id, 0,
	    "forget")) == INDEX_PERMFAIL || s == INDEX_TEMPFAIL ||
	    (s = index_drill_run(ix, "DELETE FROM recipients WHERE message_id = ?1 AND"
	    " EXISTS (SELECT 1 FROM messages WHERE id = ?1 AND drill <> 0)", id, 0,
	    "forget")) == INDEX_PERMFAIL || s == INDEX_TEMPFAIL ||
	    (s = index_drill_run(ix, "DELETE FROM messages WHERE id = ?1 AND drill <> 0", id, 0,
	    "forget")) != INDEX_OK) {
		index_rollback(ix);
		return s;
	}
	return index_commit(ix);
}

/*
 * index_drill.c - canary rows of the failover drill: SQL; see index_drill.h.
 *
 * Entry points: index_drill_tag/expect/unexpect/add (the mark made with the
 * insert, see index_drill.h), index_drill_mark/marked/count/forget.
 * Statements come from the handle's cache (index_prepare); a failure is
 * reported as in every index module: the reason in index_error() (index_fail),
 * nothing logged here, the caller logs it once.  The hold goes through the
 * one state setter (index_queue.c).  index_drill_forget deletes only a row
 * with drill = 1: a mistyped id never removes real mail.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "envelope.h"

#include "index_drill.h"
#include "index_queue.h"
#include "queue_state.h"

/* index_drill_prepare - sql from the handle's cache; NULL: *s and index_error() say why */
static sqlite3_stmt *
index_drill_prepare(struct index *ix, const char *sql, const char *what, enum index_status *s)
{
	sqlite3_stmt *st = index_prepare(ix, sql);

	*s = st ? INDEX_OK : index_fail(ix, what, sqlite3_extended_errcode(index_db(ix)));
	return st;
}

/* index_drill_exec - prepare sql, bind ?1 a, ?2 b (text), ?3 n, step once; NOTFOUND: no change */
static enum index_status
index_drill_exec(struct index *ix, const char *sql, const char *a, const char *b, int64_t n,
    const char *what)
{
	sqlite3		*db = index_db(ix);
	sqlite3_stmt	*st;
	enum index_status s;
	int		 rc;

	if ((st = index_drill_prepare(ix, sql, what, &s)) == NULL)
		return s;
	sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(st) > 1)
		sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC);
	if (sqlite3_bind_parameter_count(st) > 2)
		sqlite3_bind_int64(st, 3, n);
	rc = sqlite3_step(st);
	s = rc == SQLITE_DONE ? INDEX_OK : index_fail(ix, what, rc);
	index_unprepare(ix, st);
	if (s == INDEX_OK && sqlite3_changes(db) == 0)
		s = INDEX_NOTFOUND;
	return s;
}

/* index_drill_int - the first column of sql's row (?1 = id if any) in *v; NOTFOUND: no row */
static enum index_status
index_drill_int(struct index *ix, const char *sql, const char *id, const char *what,
    int64_t *v)
{
	sqlite3_stmt	*st;
	enum index_status s;
	int		 rc;

	if ((st = index_drill_prepare(ix, sql, what, &s)) == NULL)
		return s;
	if (id != NULL)
		sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*v = sqlite3_column_int64(st, 0);
	s = rc == SQLITE_ROW ? INDEX_OK : rc == SQLITE_DONE ? INDEX_NOTFOUND :
	    index_fail(ix, what, rc);
	index_unprepare(ix, st);
	return s;
}

int
index_drill_tag(const char *mail_params, char *out)
{
	const char	*p = mail_params ? strstr(mail_params, "ENVID=" DRILL_ENVID_PREFIX) : NULL;
	size_t		 n;

	if (p == NULL || (p != mail_params && p[-1] != ' '))
		return 0;
	p += strlen("ENVID=" DRILL_ENVID_PREFIX);
	n = strspn(p, "0123456789abcdef");
	if (n != DRILL_TAG_LEN || (p[n] != '\0' && p[n] != ' '))
		return 0;
	memcpy(out, p, n);
	out[n] = '\0';
	return 1;
}

enum index_status
index_drill_expect(struct index *ix, const char *tag, int64_t now_ms)
{
	return index_drill_exec(ix, "INSERT OR REPLACE INTO control (key, value, updated_ms)"
	    " VALUES ('drill_canary:' || ?1, ?2, ?3)", tag, "expected", now_ms, "drill_expect");
}

enum index_status
index_drill_unexpect(struct index *ix, const char *tag)
{
	enum index_status s = index_drill_exec(ix, "DELETE FROM control WHERE key ="
	    " 'drill_canary:' || ?1", tag, NULL, 0, "drill_unexpect");

	return s == INDEX_NOTFOUND ? INDEX_OK : s;
}

enum index_status
index_drill_add(struct index *ix, const struct envelope *e, const char *tag,
    const char *object_key, enum index_location loc, const char *spool_path, int64_t now_ms,
    int *marked)
{
	struct index_move a = { .now = now_ms };
	enum index_status s;
	int		  held;

	*marked = 0;
	if ((s = index_begin(ix)) != INDEX_OK)
		return s;
	/* inside our transaction index_add_message only inserts */
	if ((s = index_add_message(ix, e, object_key, loc, spool_path)) != INDEX_OK)
		goto fail;
	/* the registration consumed: it was there (a drill's), or this is a plain row */
	s = index_drill_exec(ix, "DELETE FROM control WHERE key = 'drill_canary:' || ?2",
	    e->id, tag, 0, "drill_add");
	if (s == INDEX_NOTFOUND)
		return index_commit(ix);
	/* the row was inserted just now, in the state the insert named */
	if (s != INDEX_OK || (s = index_queue_move(ix, e->id, QUEUE_BIT(e->auth_quarantine ?
	    QUEUE_QUARANTINE : QUEUE_QUEUED), QUEUE_HOLD, "drill = 1, state_ms = :now", "", &a,
	    &held)) != INDEX_OK)
		goto fail;
	*marked = 1;
	return index_commit(ix);
fail:
	index_rollback(ix);
	*marked = 0;
	return s;
}

enum index_status
index_drill_marked(struct index *ix, const char *id, int *marked)
{
	enum index_status s;
	int64_t		  v = 0;

	s = index_drill_int(ix, "SELECT drill FROM messages WHERE id = ?1", id, "drill_marked",
	    &v);
	*marked = s == INDEX_OK && v != 0;
	return s;
}

/*
 * index_drill_mark - drill = 1, then hold from the backlog states: a canary
 * already final (delivered, expired, deleted, adopted ...) keeps its state, so
 * a release never sends it again; marked all the same, so forget removes it
 */
enum index_status
index_drill_mark(struct index *ix, const char *id, int64_t now_ms)
{
	struct index_move a = { .now = now_ms };
	enum index_status s;
	int		  held;

	if ((s = index_begin(ix)) != INDEX_OK)
		return s;
	if ((s = index_drill_exec(ix, "UPDATE messages SET drill = 1 WHERE id = ?1", id, NULL,
	    0, "drill_mark")) == INDEX_OK)
		s = index_queue_move(ix, id, QUEUE_BACKLOG_SET, QUEUE_HOLD, INDEX_QUEUE_UNLEASE
		    ", state_ms = :now", "", &a, &held);
	return index_end(ix, s);
}

enum index_status
index_drill_count(struct index *ix, int64_t *n)
{
	*n = 0;
	return index_drill_int(ix, "SELECT count(*) FROM messages WHERE drill <> 0", NULL,
	    "drill_count", n);
}

enum index_status
index_drill_forget(struct index *ix, const char *id)
{
	enum index_status s;

	if ((s = index_begin(ix)) != INDEX_OK)
		return s;
	if ((s = index_drill_exec(ix, "DELETE FROM attempts WHERE message_id = ?1 AND"
	    " EXISTS (SELECT 1 FROM messages WHERE id = ?1 AND drill <> 0)", id, NULL, 0,
	    "drill_forget")) == INDEX_PERMFAIL || s == INDEX_TEMPFAIL ||
	    (s = index_drill_exec(ix, "DELETE FROM recipients WHERE message_id = ?1 AND"
	    " EXISTS (SELECT 1 FROM messages WHERE id = ?1 AND drill <> 0)", id, NULL, 0,
	    "drill_forget")) == INDEX_PERMFAIL || s == INDEX_TEMPFAIL ||
	    (s = index_drill_exec(ix, "DELETE FROM messages WHERE id = ?1 AND drill <> 0", id,
	    NULL, 0, "drill_forget")) != INDEX_OK) {
		index_rollback(ix);
		return s;
	}
	return index_commit(ix);
}

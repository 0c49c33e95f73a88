/*
 * index_adopt.c - see index_adopt.h.  The reverse of index_fleet_adopt(),
 * for the recipients the adopter names: a recipient another node finished
 * stays as it is, and a message none of whose recipients comes back stays
 * 'adopted'.
 */
#include <sqlite3.h>

#include "index_adopt.h"
#include "queue_state.h"

/* index_adopt_rcpt - one 'adopted' recipient pending again; *n counts it */
static int
index_adopt_rcpt(struct index *ix, const char *id, const char *rcpt, int64_t now, int *n)
{
	sqlite3_stmt	*st;
	int		 rc;

	st = index_prepare(ix, "UPDATE recipients SET state = " QS_SQL(RS_PENDING) ","
	    " updated_ms = ?3 WHERE message_id = ?1 AND rcpt = ?2 AND state = "
	    QS_SQL(RS_ADOPTED));
	if (st == NULL)
		return SQLITE_ERROR;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, rcpt, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, now);
	rc = sqlite3_step(st);
	*n += sqlite3_changes(index_db(ix)) > 0;
	index_unprepare(ix, st);
	return rc;
}

/* index_adopt_revive - see index_adopt.h */
enum index_status
index_adopt_revive(struct index *ix, const struct envelope *e, int64_t now, int *revived)
{
	enum index_status	 s;
	sqlite3_stmt		*st;
	int			 rc = SQLITE_DONE, n = 0;

	*revived = 0;
	if ((s = index_begin(ix)) != INDEX_OK)
		return s;
	for (size_t i = 0; i < e->nrcpts && rc == SQLITE_DONE; i++)
		rc = index_adopt_rcpt(ix, e->id, e->rcpts[i].addr, now, &n);
	if (rc == SQLITE_DONE && n > 0) {
		if ((st = index_prepare(ix, "UPDATE messages SET state = " QS_SQL(QS_QUEUED) ","
		    " state_ms = ?2, next_attempt_ms = ?2, note = NULL WHERE id = ?1 AND state = "
		    QS_SQL(QS_ADOPTED))) == NULL) {
			index_rollback(ix);
			return INDEX_PERMFAIL;
		}
		sqlite3_bind_text(st, 1, e->id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, now);
		rc = sqlite3_step(st);
		*revived = sqlite3_changes(index_db(ix)) > 0;
		index_unprepare(ix, st);
	}
	if (rc != SQLITE_DONE) {
		s = index_fail(ix, "adopt revive", rc);
		index_rollback(ix);
		*revived = 0;
		return s;
	}
	return index_commit(ix);
}

/*
 * index_replay.c - the delivery queue's changes: leases, outcomes, purge and
 * forget (see index_replay.h); every change of a message's state goes through
 * index_queue_move, of a recipient's through index_queue_rcpt_move (the one
 * setter, common/index_queue.c).  The reads are in index_replay_read.c, the
 * operator's operations in index_replay_ops.c.
 *
 * Every statement is prepared here with bound parameters; the optional
 * filters of struct index_filter become fixed SQL fragments with named
 * parameters, bound only when present.  Multi-statement changes run inside
 * index_begin() (BEGIN IMMEDIATE), which is what makes a lease exclusive.
 *
 * Errors: SQLITE_BUSY/LOCKED/IOERR/FULL map to INDEX_TEMPFAIL, anything else
 * to INDEX_PERMFAIL; the reason is the handle's index_error() (index_fail), as
 * in every index module.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "index_replay.h"
#include "index_replay_impl.h"
#include "queue_state.h"

/*
 * ir_filter_sql - append the WHERE fragments of f (which must follow a
 * "WHERE ..." already in sql).  pending: the domain/rcpt match must be a
 * recipient still pending (for leasing).  with_state: apply f->state.
 */
static int
ir_filter_sql(struct buf *sql, const struct index_filter *f, int with_state, int pending)
{
	const char *pend = pending ? " AND r.state = " QS_SQL(RS_PENDING) : "";

	if (with_state) {
		if (f->state == NULL || strcmp(f->state, QS_F_BACKLOG) == 0)
			buf_addstr(sql, " AND m.state IN " QS_BACKLOG_SQL);
		else if (strcmp(f->state, QS_F_ALL) != 0)
			buf_addstr(sql, " AND m.state = :f_state");
	}
	if (f->domain)
		buf_printf(sql, " AND EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id"
		    " AND lower(r.domain) = lower(:f_domain)%s)", pend);
	if (f->rcpt)
		buf_printf(sql, " AND EXISTS (SELECT 1 FROM recipients r WHERE r.message_id = m.id"
		    " AND lower(r.rcpt) = lower(:f_rcpt)%s)", pend);
	if (f->sender)
		buf_addstr(sql, " AND lower(m.mail_from) = lower(:f_sender)");
	if (f->id)
		buf_addstr(sql, " AND m.id = :f_id");
	if (f->since_ms)
		buf_addstr(sql, " AND m.received_ms >= :f_since");
	if (f->until_ms)
		buf_addstr(sql, " AND m.received_ms < :f_until");
	return 0;
}

/* ir_filter_bind - bind what ir_filter_sql asked for */
static void
ir_filter_bind(sqlite3_stmt *s, const struct index_filter *f)
{
	if (f->state)
		index_bind_text(s, ":f_state", f->state);
	if (f->domain)
		index_bind_text(s, ":f_domain", f->domain);
	if (f->rcpt)
		index_bind_text(s, ":f_rcpt", f->rcpt);
	if (f->sender)
		index_bind_text(s, ":f_sender", f->sender);
	if (f->id)
		index_bind_text(s, ":f_id", f->id);
	index_bind_int(s, ":f_since", f->since_ms);
	index_bind_int(s, ":f_until", f->until_ms);
	index_bind_int(s, ":f_limit", f->limit > 0 ? f->limit : -1);
}

/* ir_prep_buf - prepare the statement in sql, checking the buffer did not overflow */
static sqlite3_stmt *
ir_prep_buf(struct index *ix, struct buf *sql, int overflow, enum index_status *st)
{
	if (overflow || sql->data == NULL) {
		index_seterr(ix, "index: query too long");
		*st = INDEX_PERMFAIL;
		return NULL;
	}
	return index_prep(ix, sql->data, st);
}

/* ir_prep_filter - prepare head, the fragments of f (see ir_filter_sql) and tail, f bound */
sqlite3_stmt *
ir_prep_filter(struct index *ix, const char *head, const struct index_filter *f, int with_state,
    int pending, const char *tail, enum index_status *st)
{
	sqlite3_stmt	*s;
	struct buf	 sql;
	int		 rc;

	buf_init(&sql, 4096);
	buf_addstr(&sql, head);
	rc = ir_filter_sql(&sql, f, with_state, pending);
	rc |= buf_addstr(&sql, tail);
	s = ir_prep_buf(ix, &sql, rc, st);
	buf_free(&sql);
	if (s != NULL)
		ir_filter_bind(s, f);
	return s;
}

/* ir_lease_collect - append the ids s yields to ids[*n..max); the last step's code */
static int
ir_lease_collect(sqlite3_stmt *s, char (*ids)[MSGID_MAX], int max, int *n)
{
	int rc = SQLITE_DONE;

	while (*n < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
		snprintf(ids[(*n)++], MSGID_MAX, "%s", index_text(s, 0));
	return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

enum index_status
index_replay_lease(struct index *ix, const char *owner, int64_t now, int64_t lease_ms,
    int64_t lifetime_ms, int64_t flush_before, const struct index_filter *f,
    char (*ids)[MSGID_MAX], int max, int *n)
{
	static const struct index_filter none;
	sqlite3_stmt	*s = NULL;
	struct index_move	 a = { .owner = owner, .now = now, .until = now + lease_ms };
	enum index_status st;
	int		 rc = 0, nexp, moved;

	*n = 0;
	if (f == NULL)
		f = &none;
	if ((st = index_begin(ix)) != INDEX_OK)
		return st;
	/*
	 * Two selects, each along an index: leases that expired (a crashed
	 * worker's messages, few) first, then queued messages that are due,
	 * oldest first along messages_backlog (state, received_ms).  One select
	 * with an OR over both states walked every delivered message older than
	 * the backlog at each lease: quadratic over a drain.
	 */
	if ((s = ir_prep_filter(ix, "SELECT m.id FROM messages m WHERE m.state = " QS_SQL(QS_ACTIVE)
	    " AND m.lease_until_ms < :now", f, 0, 1, " LIMIT :max", &st)) == NULL)
		goto out;
	index_bind_int(s, ":now", now);
	index_bind_int(s, ":max", max);
	if ((rc = ir_lease_collect(s, ids, max, n)) != SQLITE_DONE)
		goto fail;
	nexp = *n;
	index_unprepare(ix, s);
	if ((s = ir_prep_filter(ix, "SELECT m.id FROM messages m WHERE m.state = " QS_SQL(QS_QUEUED) " AND"
	    " (m.next_attempt_ms <= :now OR COALESCE(m.expires_ms, m.received_ms + :life) <= :now"
	    " OR (:flush > 0 AND COALESCE(m.last_attempt_ms, 0) < :flush))", f, 0, 1,
	    " ORDER BY m.received_ms, m.id LIMIT :max", &st)) == NULL)
		goto out;
	index_bind_int(s, ":now", now);
	index_bind_int(s, ":life", lifetime_ms);
	index_bind_int(s, ":flush", flush_before);
	index_bind_int(s, ":max", max - *n);
	if ((rc = ir_lease_collect(s, ids, max, n)) != SQLITE_DONE)
		goto fail;
	index_unprepare(ix, s);
	s = NULL;
	/* an expired lease is active already: taken over by this owner */
	for (int i = 0; i < *n && st == INDEX_OK; i++)
		st = index_queue_move(ix, ids[i], QUEUE_BIT(i < nexp ? QUEUE_ACTIVE : QUEUE_QUEUED),
		    QUEUE_ACTIVE, "lease_owner = :o, lease_until_ms = :u, state_ms = :now", "",
		    &a, &moved);
	goto out;
fail:
	st = index_failed(ix, "lease select");
out:
	index_unprepare(ix, s);
	if ((st = index_end(ix, st)) != INDEX_OK)
		*n = 0;
	return st;
}

enum index_status
index_replay_renew(struct index *ix, const char *id, const char *owner, int64_t until_ms)
{
	sqlite3		*db = index_db(ix);
	sqlite3_stmt	*s;
	enum index_status st;

	if ((s = index_prep(ix, "UPDATE messages SET lease_until_ms = :u WHERE id = :id"
	    " AND state = " QS_SQL(QS_ACTIVE) " AND lease_owner = :o", &st)) == NULL)
		return st;
	index_bind_int(s, ":u", until_ms);
	index_bind_text(s, ":id", id);
	index_bind_text(s, ":o", owner);
	if ((st = index_step_done(ix, s, "renew")) == INDEX_OK && sqlite3_changes(db) == 0)
		st = INDEX_NOTFOUND;
	return st;
}

enum index_status
index_replay_unlease(struct index *ix, const char *id, const char *owner)
{
	struct index_move	 a = { .owner = owner };
	int		 moved;

	return index_queue_move(ix, id, QUEUE_BIT(QUEUE_ACTIVE), QUEUE_QUEUED, INDEX_QUEUE_UNLEASE,
	    " AND lease_owner = :o", &a, &moved);
}

enum index_status
index_replay_unlease_owner(struct index *ix, const char *owner, int *n)
{
	struct index_move	 a = { .owner = owner };

	return index_queue_move(ix, NULL, QUEUE_BIT(QUEUE_ACTIVE), QUEUE_QUEUED,
	    INDEX_QUEUE_UNLEASE, INDEX_QUEUE_OURS, &a, n);
}

enum index_status
index_replay_lease_owners(struct index *ix, void (*fn)(const char *, void *), void *arg)
{
	sqlite3_stmt	*s;
	enum index_status st;
	int		 rc;

	if ((s = index_prep(ix, "SELECT DISTINCT lease_owner FROM messages WHERE state = "
	    QS_SQL(QS_ACTIVE) " AND lease_owner IS NOT NULL", &st)) == NULL)
		return st;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn(index_text(s, 0), arg);
	return index_rows_end(ix, s, rc, "lease owners");
}

/* ir_record - attempts rows and recipient states of one attempt (inside a transaction) */
static enum index_status
ir_record(struct index *ix, const char *id, const struct index_outcome *o, size_t n,
    const char *worker, int64_t now)
{
	sqlite3_stmt	*a;
	enum index_status st;
	int		 moved;

	if ((a = index_prep(ix, "INSERT INTO attempts (message_id, rcpt, at_ms, target, code,"
	    " enhanced, text, worker) VALUES (:id, :r, :now, :t, :c, :e, :x, :w)", &st)) == NULL)
		return st;
	for (size_t i = 0; i < n && st == INDEX_OK; i++) {
		struct index_move ra = { .rcpt = o[i].rcpt, .text = o[i].text, .now = now,
		    .code = o[i].code };

		sqlite3_reset(a);
		index_bind_text(a, ":id", id);
		index_bind_text(a, ":r", o[i].rcpt);
		index_bind_int(a, ":now", now);
		index_bind_text(a, ":t", o[i].target ? o[i].target : "");
		index_bind_int(a, ":c", o[i].code);
		index_bind_text(a, ":e", o[i].enhanced ? o[i].enhanced : "");
		index_bind_text(a, ":x", o[i].text ? o[i].text : "");
		index_bind_text(a, ":w", worker ? worker : "");
		if (sqlite3_step(a) != SQLITE_DONE) {
			st = index_failed(ix, "insert attempt");
			break;
		}
		st = index_queue_rcpt_move(ix, id, RCPT_BIT(RCPT_PENDING), o[i].state,
		    "last_code = :c, last_text = :x", "", &ra, &moved);
	}
	index_unprepare(ix, a);
	return st;
}

/* ir_next_state - queued if a recipient is pending, else quarantine or delivered */
static enum index_status
ir_next_state(struct index *ix, const char *id, enum queue_state *state)
{
	sqlite3_stmt	*s;
	enum index_status st;

	if ((s = index_prep(ix, "SELECT COALESCE(sum(state = " QS_SQL(RS_PENDING) "), 0),"
	    " COALESCE(sum(state = " QS_SQL(RS_QUARANTINE) "), 0) FROM recipients WHERE message_id = :id",
	    &st)) == NULL)
		return st;
	index_bind_text(s, ":id", id);
	if (sqlite3_step(s) != SQLITE_ROW) {
		st = index_failed(ix, "count recipients");
	} else if (sqlite3_column_int64(s, 0) > 0)
		*state = QUEUE_QUEUED;
	else
		*state = sqlite3_column_int64(s, 1) > 0 ? QUEUE_QUARANTINE : QUEUE_DELIVERED;
	index_unprepare(ix, s);
	return st;
}

enum index_status
index_replay_finish(struct index *ix, const char *id, const char *owner,
    const struct index_outcome *o, size_t n, const char *worker, int64_t now, int64_t next_ms,
    enum queue_state *to)
{
	struct index_move	 a = { .owner = owner, .now = now, .next = next_ms };
	enum queue_state state = QUEUE_QUEUED;
	enum index_status st;
	int		 moved = 0;

	if (to)
		*to = QUEUE_UNKNOWN;
	if ((st = index_begin(ix)) != INDEX_OK)
		return st;
	if ((st = ir_record(ix, id, o, n, worker, now)) != INDEX_OK ||
	    (st = ir_next_state(ix, id, &state)) != INDEX_OK)
		return index_end(ix, st);
	/* only while we still own the lease: the operator or a new owner decides otherwise */
	st = index_queue_move(ix, id, QUEUE_BIT(QUEUE_ACTIVE), state, "next_attempt_ms = :next,"
	    " attempts = attempts + 1, last_attempt_ms = :now, " INDEX_QUEUE_UNLEASE ","
	    " state_ms = :now", INDEX_QUEUE_OURS, &a, &moved);
	if ((st = index_end(ix, st)) == INDEX_OK && moved && to)
		*to = state;
	return st;
}

enum index_status
index_replay_defer(struct index *ix, const char *id, const char *owner, int64_t now,
    int64_t next_ms, const char *note)
{
	struct index_move	 a = { .owner = owner, .now = now, .next = next_ms, .note = note };
	int		 moved;

	return index_queue_move(ix, id, QUEUE_BIT(QUEUE_ACTIVE), QUEUE_QUEUED,
	    "next_attempt_ms = :next, attempts = attempts + 1, last_attempt_ms = :now,"
	    " note = :note, " INDEX_QUEUE_UNLEASE ", state_ms = :now", INDEX_QUEUE_OURS, &a,
	    &moved);
}

enum index_status
index_replay_hold_note(struct index *ix, const char *id, const char *owner, int64_t now,
    const char *note)
{
	struct index_move	 a = { .owner = owner, .now = now, .note = note };
	int		 moved;

	return index_queue_move(ix, id, QUEUE_BIT(QUEUE_ACTIVE), QUEUE_HOLD, "note = :note, "
	    INDEX_QUEUE_UNLEASE ", state_ms = :now", INDEX_QUEUE_OURS, &a, &moved);
}

enum index_status
index_replay_expire(struct index *ix, const char *id, const char *owner, int64_t now,
    int dsn_sent, const char *note, enum queue_state *to)
{
	struct index_move	 a = { .owner = owner, .now = now, .note = note, .sent = dsn_sent };
	enum index_status st;
	int		 n, moved = 0;

	if (to)
		*to = QUEUE_UNKNOWN;
	if ((st = index_begin(ix)) != INDEX_OK)
		return st;
	st = index_queue_rcpt_move(ix, id, RCPT_BIT(RCPT_PENDING), RCPT_EXPIRED,
	    "dsn_ms = CASE WHEN :sent THEN :now END", " AND EXISTS (SELECT 1 FROM messages"
	    " WHERE id = :id AND state = " QS_SQL(QS_ACTIVE) INDEX_QUEUE_OURS ")", &a, &n);
	if (st == INDEX_OK)
		st = index_queue_move(ix, id, QUEUE_BIT(QUEUE_ACTIVE), QUEUE_EXPIRED,
		    "note = :note, " INDEX_QUEUE_UNLEASE ", state_ms = :now", INDEX_QUEUE_OURS,
		    &a, &moved);
	if ((st = index_end(ix, st)) == INDEX_OK && moved && to)
		*to = QUEUE_EXPIRED;
	return st;
}

enum index_status
index_replay_purgeable(struct index *ix, int64_t cutoff, int limit,
    int (*fn)(const char *, const char *, void *), void *arg)
{
	sqlite3_stmt	*s;
	enum index_status st;
	int		 rc;

	if ((s = index_prep(ix, "SELECT id, COALESCE(object_key, '') FROM messages WHERE state = "
	    QS_SQL(QS_DELIVERED)
	    " AND state_ms < :c AND purged_ms IS NULL ORDER BY state_ms LIMIT :l", &st)) == NULL)
		return st;
	index_bind_int(s, ":c", cutoff);
	index_bind_int(s, ":l", limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (fn(index_text(s, 0), index_text(s, 1), arg) != 0)
			break;
	return index_rows_end(ix, s, rc, "purgeable");
}

enum index_status
index_replay_mark_purged(struct index *ix, const char *id, int64_t now)
{
	sqlite3_stmt	*s;
	enum index_status st;

	/* no ir_op: the retention purge has just listed the row, no need to look it up */
	s = index_prep(ix, "UPDATE messages SET purged_ms = :now WHERE id = :id", &st);
	if (s == NULL)
		return st;
	index_bind_text(s, ":id", id);
	index_bind_int(s, ":now", now);
	if ((st = index_step_done(ix, s, "update")) == INDEX_OK &&
	    sqlite3_changes(index_db(ix)) == 0) {
		index_seterr(ix, "index: no message %s", id);
		st = INDEX_NOTFOUND;
	}
	return st;
}

/*
 * index_replay_mark_missing - reindex --repair found no object for id: state
 * 'missing', the row kept for audit; from any state but deleted and missing
 */
enum index_status
index_replay_mark_missing(struct index *ix, const char *id, int64_t now, int *changed)
{
	struct index_move a = { .now = now };
	unsigned from = QUEUE_ALL_SET & ~(QUEUE_BIT(QUEUE_DELETED) | QUEUE_BIT(QUEUE_MISSING));

	/* no owner kept: a worker holding the lease must not take the row as its own */
	return index_queue_move(ix, id, from, QUEUE_MISSING,
	    INDEX_QUEUE_UNLEASE ", state_ms = :now", "", &a, changed);
}

enum index_status
index_replay_forget(struct index *ix, int64_t cutoff, int limit, int *n)
{
	/* the same oldest-purged set twice: nothing else changes it inside the transaction */
	static const char *const sql[] = {
		"DELETE FROM attempts WHERE message_id IN (SELECT id FROM messages"
		" WHERE purged_ms IS NOT NULL AND purged_ms < :c ORDER BY purged_ms LIMIT :l)",
		"DELETE FROM messages WHERE id IN (SELECT id FROM messages"	/* recipients cascade */
		" WHERE purged_ms IS NOT NULL AND purged_ms < :c ORDER BY purged_ms LIMIT :l)",
		"DELETE FROM backlog_samples WHERE at_ms < :c",
	};
	sqlite3_stmt	*s;
	enum index_status st;
	size_t		 i;

	*n = 0;
	if ((st = index_begin(ix)) != INDEX_OK)
		return st;
	for (i = 0; i < sizeof(sql) / sizeof(sql[0]) && st == INDEX_OK; i++) {
		if ((s = index_prep(ix, sql[i], &st)) == NULL)
			break;
		index_bind_int(s, ":c", cutoff);
		index_bind_int(s, ":l", limit);
		if ((st = index_step_done(ix, s, "forget")) == INDEX_OK && i == 1)
			*n = sqlite3_changes(index_db(ix));
	}
	return index_end(ix, st);
}

enum index_status
index_replay_sample(struct index *ix, int64_t now)
{
	sqlite3_stmt	*s;
	enum index_status st;

	if ((s = index_prep(ix, "INSERT OR REPLACE INTO backlog_samples (at_ms, count, bytes,"
	    " oldest_ms) SELECT :now, count(*), COALESCE(sum(size), 0), min(received_ms)"
	    " FROM messages WHERE state IN " QS_BACKLOG_SQL, &st)) == NULL)
		return st;
	index_bind_int(s, ":now", now);
	return index_step_done(ix, s, "sample");
}

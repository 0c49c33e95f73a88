/*
 * index_replay.c - the delivery queue's changes: leases, outcomes, purge and
 * forget (see index_replay.h); every change of a message's state goes through
 * ir_move, of a recipient's through ir_rcpt_move.  The reads are in
 * index_replay_read.c, the operator's operations in index_replay_ops.c.
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
#include "log.h"
#include "index_replay_impl.h"
#include "queue_state.h"


/* ir_fail - the handle's last SQLite failure, as index_error() and a status */
enum index_status
ir_fail(struct index *ix, const char *what)
{
	return index_fail(ix, what, sqlite3_extended_errcode(index_db(ix)));
}

/* ir_prep - sql from index_prepare's cache; NULL after ir_fail; give back: index_unprepare */
sqlite3_stmt *
ir_prep(struct index *ix, const char *sql, enum index_status *st)
{
	sqlite3_stmt *s;

	if ((s = index_prepare(ix, sql)) == NULL) {
		*st = ir_fail(ix, "prepare");
		return NULL;
	}
	*st = INDEX_OK;
	return s;
}

/* ir_bind_* - bind a named parameter if the statement has it */
void
ir_bind_text(sqlite3_stmt *s, const char *name, const char *v)
{
	int i = sqlite3_bind_parameter_index(s, name);

	if (i > 0)
		sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
}

void
ir_bind_int(sqlite3_stmt *s, const char *name, int64_t v)
{
	int i = sqlite3_bind_parameter_index(s, name);

	if (i > 0)
		sqlite3_bind_int64(s, i, v);
}

/* ir_text - column text or "" */
const char *
ir_text(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	return t ? (const char *)t : "";
}

/* ir_step_done - step a statement that returns no rows, then give it back */
enum index_status
ir_step_done(struct index *ix, sqlite3_stmt *s, const char *what)
{
	enum index_status st = INDEX_OK;

	if (sqlite3_step(s) != SQLITE_DONE)
		st = ir_fail(ix, what);
	index_unprepare(ix, s);
	return st;
}

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
		ir_bind_text(s, ":f_state", f->state);
	if (f->domain)
		ir_bind_text(s, ":f_domain", f->domain);
	if (f->rcpt)
		ir_bind_text(s, ":f_rcpt", f->rcpt);
	if (f->sender)
		ir_bind_text(s, ":f_sender", f->sender);
	if (f->id)
		ir_bind_text(s, ":f_id", f->id);
	ir_bind_int(s, ":f_since", f->since_ms);
	ir_bind_int(s, ":f_until", f->until_ms);
	ir_bind_int(s, ":f_limit", f->limit > 0 ? f->limit : -1);
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
	return ir_prep(ix, sql->data, st);
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

/* ir_rows_end - give back s after a row loop whose last step returned rc */
enum index_status
ir_rows_end(struct index *ix, sqlite3_stmt *s, int rc, const char *what)
{
	enum index_status st = INDEX_OK;

	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		st = ir_fail(ix, what);
	index_unprepare(ix, s);
	return st;
}

/* ir_end - roll back when st failed, else commit (the reason kept); the outcome */
enum index_status
ir_end(struct index *ix, enum index_status st)
{
	if (st != INDEX_OK) {
		index_rollback(ix);
		return st;
	}
	return index_commit(ix);
}

/*
 * The one place a message or recipient changes state.  Every change names
 * the states it may leave; a row in any other state is refused (left as
 * it was, *moved = 0), as OpenSMTPD's single state setter does.  A change
 * is logged at debug level, one line: "<id> queue state old -> new".
 */
/* ir_bind_args - bind what the statement asks for of a */
static void
ir_bind_args(sqlite3_stmt *s, const struct ir_args *a)
{
	ir_bind_text(s, ":o", a->owner ? a->owner : "");
	if (a->note)
		ir_bind_text(s, ":note", a->note);
	if (a->rcpt)
		ir_bind_text(s, ":r", a->rcpt);
	ir_bind_text(s, ":x", a->text ? a->text : "");
	ir_bind_int(s, ":now", a->now);
	ir_bind_int(s, ":next", a->next);
	ir_bind_int(s, ":u", a->until);
	ir_bind_int(s, ":life", a->life);
	ir_bind_int(s, ":c", a->code);
	ir_bind_int(s, ":sent", a->sent);
}

/* ir_one_state - the state of a set with exactly one member, else QUEUE_UNKNOWN */
static enum queue_state
ir_one_state(unsigned from)
{
	for (int i = 0; i < QUEUE_NSTATES; i++)
		if (from == QUEUE_BIT(i))
			return (enum queue_state)i;
	return QUEUE_UNKNOWN;
}

/* ir_state_of - the stored state of message id; INDEX_NOTFOUND if none */
enum index_status
ir_state_of(struct index *ix, const char *id, enum queue_state *state)
{
	sqlite3_stmt	*s;
	enum index_status st;
	int		 rc;

	if ((s = ir_prep(ix, "SELECT state FROM messages WHERE id = :id", &st)) == NULL)
		return st;
	ir_bind_text(s, ":id", id);
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		*state = queue_state_parse(ir_text(s, 0));
	st = rc == SQLITE_ROW ? INDEX_OK : rc == SQLITE_DONE ? INDEX_NOTFOUND :
	    ir_fail(ix, "state");
	index_unprepare(ix, s);
	return st;
}

/*
 * ir_move - move message id (NULL: every message cond selects; from must then
 * be one state) from one of the states in from to state to.  set: more
 * "column = expr" assignments ("" for none); cond: more " AND ..." conditions
 * ("" for none); both use the parameters of struct ir_args.  *moved = number
 * of messages moved (0: refused).  INDEX_NOTFOUND if id does not exist.
 */
enum index_status
ir_move(struct index *ix, const char *id, unsigned from, enum queue_state to,
    const char *set, const char *cond, const struct ir_args *a, int *moved)
{
	enum queue_state old = ir_one_state(from);
	sqlite3_stmt	*s;
	enum index_status st;
	char		 sql[1024];
	int		 len, rc;

	*moved = 0;
	if (old == QUEUE_UNKNOWN) {
		if (id == NULL)
			return INDEX_PERMFAIL;
		if ((st = ir_state_of(ix, id, &old)) != INDEX_OK)
			return st;
		if (!queue_state_in(old, from)) {
			log_debug("%s queue state %s -> %s refused", id, queue_state_name(old),
			    queue_state_name(to));
			return INDEX_OK;
		}
	}
	len = snprintf(sql, sizeof(sql), "UPDATE messages SET state = :to%s%s WHERE %s"
	    " AND state = :old%s RETURNING id", set[0] ? ", " : "", set,
	    id ? "id = :id" : "1", cond);
	if (len < 0 || (size_t)len >= sizeof(sql)) {
		index_seterr(ix, "index: query too long");
		return INDEX_PERMFAIL;
	}
	if ((s = ir_prep(ix, sql, &st)) == NULL)
		return st;
	if (id)
		ir_bind_text(s, ":id", id);
	ir_bind_text(s, ":to", queue_state_name(to));
	ir_bind_text(s, ":old", queue_state_name(old));
	ir_bind_args(s, a);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		(*moved)++;
		log_debug("%s queue state %s -> %s", ir_text(s, 0), queue_state_name(old),
		    queue_state_name(to));
	}
	if (*moved == 0 && id && rc == SQLITE_DONE)
		log_debug("%s queue state %s -> %s refused", id, queue_state_name(old),
		    queue_state_name(to));
	return ir_rows_end(ix, s, rc, "state");
}

/*
 * ir_rcpt_move - move the recipients of message id (a->rcpt: that one only)
 * that are in one of the states in from (RCPT_BIT set) to state to, setting
 * updated_ms = :now and set ("" for none); cond: more " AND ..." conditions.
 * *moved = recipients moved.
 */
enum index_status
ir_rcpt_move(struct index *ix, const char *id, unsigned from, enum rcpt_state to,
    const char *set, const char *cond, const struct ir_args *a, int *moved)
{
	sqlite3_stmt	*s;
	enum index_status st;
	char		 sql[1024], in[128];
	size_t		 n = 0;
	int		 len;

	*moved = 0;
	in[0] = '\0';
	for (int i = 0; i < RCPT_NSTATES; i++)
		if (from & RCPT_BIT(i))
			n += (size_t)snprintf(in + n, n < sizeof(in) ? sizeof(in) - n : 0, "%s'%s'",
			    n ? ", " : "", rcpt_state_name(i));
	len = snprintf(sql, sizeof(sql), "UPDATE recipients SET state = :to, updated_ms = :now"
	    "%s%s WHERE message_id = :id AND state IN (%s)%s%s", set[0] ? ", " : "", set, in,
	    a->rcpt ? " AND rcpt = :r" : "", cond);
	if (n >= sizeof(in) || len < 0 || (size_t)len >= sizeof(sql)) {
		index_seterr(ix, "index: query too long");
		return INDEX_PERMFAIL;
	}
	if ((s = ir_prep(ix, sql, &st)) == NULL)
		return st;
	ir_bind_text(s, ":id", id);
	ir_bind_text(s, ":to", rcpt_state_name(to));
	ir_bind_args(s, a);
	if ((st = ir_step_done(ix, s, "recipient state")) == INDEX_OK &&
	    (*moved = sqlite3_changes(index_db(ix))) > 0)
		log_debug("%s queue rcpt state (%s) -> %s n=%d%s%s", id, in, rcpt_state_name(to),
		    *moved, a->rcpt ? " to=" : "", a->rcpt ? a->rcpt : "");
	return st;
}

/* ir_lease_collect - append the ids s yields to ids[*n..max); the last step's code */
static int
ir_lease_collect(sqlite3_stmt *s, char (*ids)[MSGID_MAX], int max, int *n)
{
	int rc = SQLITE_DONE;

	while (*n < max && (rc = sqlite3_step(s)) == SQLITE_ROW)
		snprintf(ids[(*n)++], MSGID_MAX, "%s", ir_text(s, 0));
	return rc == SQLITE_ROW ? SQLITE_DONE : rc;
}

enum index_status
index_replay_lease(struct index *ix, const char *owner, int64_t now, int64_t lease_ms,
    int64_t lifetime_ms, int64_t flush_before, const struct index_filter *f,
    char (*ids)[MSGID_MAX], int max, int *n)
{
	static const struct index_filter none;
	sqlite3_stmt	*s = NULL;
	struct ir_args	 a = { .owner = owner, .now = now, .until = now + lease_ms };
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
	ir_bind_int(s, ":now", now);
	ir_bind_int(s, ":max", max);
	if ((rc = ir_lease_collect(s, ids, max, n)) != SQLITE_DONE)
		goto fail;
	nexp = *n;
	index_unprepare(ix, s);
	if ((s = ir_prep_filter(ix, "SELECT m.id FROM messages m WHERE m.state = " QS_SQL(QS_QUEUED) " AND"
	    " (m.next_attempt_ms <= :now OR COALESCE(m.expires_ms, m.received_ms + :life) <= :now"
	    " OR (:flush > 0 AND COALESCE(m.last_attempt_ms, 0) < :flush))", f, 0, 1,
	    " ORDER BY m.received_ms, m.id LIMIT :max", &st)) == NULL)
		goto out;
	ir_bind_int(s, ":now", now);
	ir_bind_int(s, ":life", lifetime_ms);
	ir_bind_int(s, ":flush", flush_before);
	ir_bind_int(s, ":max", max - *n);
	if ((rc = ir_lease_collect(s, ids, max, n)) != SQLITE_DONE)
		goto fail;
	index_unprepare(ix, s);
	s = NULL;
	/* an expired lease is active already: taken over by this owner */
	for (int i = 0; i < *n && st == INDEX_OK; i++)
		st = ir_move(ix, ids[i], QUEUE_BIT(i < nexp ? QUEUE_ACTIVE : QUEUE_QUEUED),
		    QUEUE_ACTIVE, "lease_owner = :o, lease_until_ms = :u, state_ms = :now", "",
		    &a, &moved);
	goto out;
fail:
	st = ir_fail(ix, "lease select");
out:
	index_unprepare(ix, s);
	if ((st = ir_end(ix, st)) != INDEX_OK)
		*n = 0;
	return st;
}

enum index_status
index_replay_renew(struct index *ix, const char *id, const char *owner, int64_t until_ms)
{
	sqlite3		*db = index_db(ix);
	sqlite3_stmt	*s;
	enum index_status st;

	if ((s = ir_prep(ix, "UPDATE messages SET lease_until_ms = :u WHERE id = :id"
	    " AND state = " QS_SQL(QS_ACTIVE) " AND lease_owner = :o", &st)) == NULL)
		return st;
	ir_bind_int(s, ":u", until_ms);
	ir_bind_text(s, ":id", id);
	ir_bind_text(s, ":o", owner);
	if ((st = ir_step_done(ix, s, "renew")) == INDEX_OK && sqlite3_changes(db) == 0)
		st = INDEX_NOTFOUND;
	return st;
}

enum index_status
index_replay_unlease(struct index *ix, const char *id, const char *owner)
{
	struct ir_args	 a = { .owner = owner };
	int		 moved;

	return ir_move(ix, id, QUEUE_BIT(QUEUE_ACTIVE), QUEUE_QUEUED, IR_UNLEASE,
	    " AND lease_owner = :o", &a, &moved);
}

enum index_status
index_replay_unlease_owner(struct index *ix, const char *owner, int *n)
{
	struct ir_args	 a = { .owner = owner };

	return ir_move(ix, NULL, QUEUE_BIT(QUEUE_ACTIVE), QUEUE_QUEUED, IR_UNLEASE,
	    " AND lease_owner = :o", &a, n);
}

enum index_status
index_replay_lease_owners(struct index *ix, void (*fn)(const char *, void *), void *arg)
{
	sqlite3_stmt	*s;
	enum index_status st;
	int		 rc;

	if ((s = ir_prep(ix, "SELECT DISTINCT lease_owner FROM messages WHERE state = " QS_SQL(QS_ACTIVE)
	    " AND lease_owner IS NOT NULL", &st)) == NULL)
		return st;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		fn(ir_text(s, 0), arg);
	return ir_rows_end(ix, s, rc, "lease owners");
}

/* ir_record - attempts rows and recipient states of one attempt (inside a transaction) */
static enum index_status
ir_record(struct index *ix, const char *id, const struct index_outcome *o, size_t n,
    const char *worker, int64_t now)
{
	sqlite3_stmt	*a;
	enum index_status st;
	int		 moved;

	if ((a = ir_prep(ix, "INSERT INTO attempts (message_id, rcpt, at_ms, target, code,"
	    " enhanced, text, worker) VALUES (:id, :r, :now, :t, :c, :e, :x, :w)", &st)) == NULL)
		return st;
	for (size_t i = 0; i < n && st == INDEX_OK; i++) {
		struct ir_args ra = { .rcpt = o[i].rcpt, .text = o[i].text, .now = now,
		    .code = o[i].code };

		sqlite3_reset(a);
		ir_bind_text(a, ":id", id);
		ir_bind_text(a, ":r", o[i].rcpt);
		ir_bind_int(a, ":now", now);
		ir_bind_text(a, ":t", o[i].target ? o[i].target : "");
		ir_bind_int(a, ":c", o[i].code);
		ir_bind_text(a, ":e", o[i].enhanced ? o[i].enhanced : "");
		ir_bind_text(a, ":x", o[i].text ? o[i].text : "");
		ir_bind_text(a, ":w", worker ? worker : "");
		if (sqlite3_step(a) != SQLITE_DONE) {
			st = ir_fail(ix, "insert attempt");
			break;
		}
		st = ir_rcpt_move(ix, id, RCPT_BIT(RCPT_PENDING), o[i].state,
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

	if ((s = ir_prep(ix, "SELECT COALESCE(sum(state = " QS_SQL(RS_PENDING) "), 0),"
	    " COALESCE(sum(state = " QS_SQL(RS_QUARANTINE) "), 0) FROM recipients WHERE message_id = :id",
	    &st)) == NULL)
		return st;
	ir_bind_text(s, ":id", id);
	if (sqlite3_step(s) != SQLITE_ROW) {
		st = ir_fail(ix, "count recipients");
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
	struct ir_args	 a = { .owner = owner, .now = now, .next = next_ms };
	enum queue_state state = QUEUE_QUEUED;
	enum index_status st;
	int		 moved = 0;

	if (to)
		*to = QUEUE_UNKNOWN;
	if ((st = index_begin(ix)) != INDEX_OK)
		return st;
	if ((st = ir_record(ix, id, o, n, worker, now)) != INDEX_OK ||
	    (st = ir_next_state(ix, id, &state)) != INDEX_OK)
		return ir_end(ix, st);
	/* only while we still own the lease: the operator or a new owner decides otherwise */
	st = ir_move(ix, id, QUEUE_BIT(QUEUE_ACTIVE), state, "next_attempt_ms = :next,"
	    " attempts = attempts + 1, last_attempt_ms = :now, " IR_UNLEASE ", state_ms = :now",
	    IR_OURS, &a, &moved);
	if ((st = ir_end(ix, st)) == INDEX_OK && moved && to)
		*to = state;
	return st;
}

enum index_status
index_replay_defer(struct index *ix, const char *id, const char *owner, int64_t now,
    int64_t next_ms, const char *note)
{
	struct ir_args	 a = { .owner = owner, .now = now, .next = next_ms, .note = note };
	int		 moved;

	return ir_move(ix, id, QUEUE_BIT(QUEUE_ACTIVE), QUEUE_QUEUED, "next_attempt_ms = :next,"
	    " attempts = attempts + 1, last_attempt_ms = :now, note = :note, " IR_UNLEASE ","
	    " state_ms = :now", IR_OURS, &a, &moved);
}

enum index_status
index_replay_hold_note(struct index *ix, const char *id, const char *owner, int64_t now,
    const char *note)
{
	struct ir_args	 a = { .owner = owner, .now = now, .note = note };
	int		 moved;

	return ir_move(ix, id, QUEUE_BIT(QUEUE_ACTIVE), QUEUE_HOLD, "note = :note, " IR_UNLEASE
	    ", state_ms = :now", IR_OURS, &a, &moved);
}

enum index_status
index_replay_expire(struct index *ix, const char *id, const char *owner, int64_t now,
    int dsn_sent, const char *note, enum queue_state *to)
{
	struct ir_args	 a = { .owner = owner, .now = now, .note = note, .sent = dsn_sent };
	enum index_status st;
	int		 n, moved = 0;

	if (to)
		*to = QUEUE_UNKNOWN;
	if ((st = index_begin(ix)) != INDEX_OK)
		return st;
	st = ir_rcpt_move(ix, id, RCPT_BIT(RCPT_PENDING), RCPT_EXPIRED,
	    "dsn_ms = CASE WHEN :sent THEN :now END", " AND EXISTS (SELECT 1 FROM messages"
	    " WHERE id = :id AND state = " QS_SQL(QS_ACTIVE) IR_OURS ")", &a, &n);
	if (st == INDEX_OK)
		st = ir_move(ix, id, QUEUE_BIT(QUEUE_ACTIVE), QUEUE_EXPIRED, "note = :note, "
		    IR_UNLEASE ", state_ms = :now", IR_OURS, &a, &moved);
	if ((st = ir_end(ix, st)) == INDEX_OK && moved && to)
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

	if ((s = ir_prep(ix, "SELECT id, COALESCE(object_key, '') FROM messages WHERE state = "
	    QS_SQL(QS_DELIVERED)
	    " AND state_ms < :c AND purged_ms IS NULL ORDER BY state_ms LIMIT :l", &st)) == NULL)
		return st;
	ir_bind_int(s, ":c", cutoff);
	ir_bind_int(s, ":l", limit);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW)
		if (fn(ir_text(s, 0), ir_text(s, 1), arg) != 0)
			break;
	return ir_rows_end(ix, s, rc, "purgeable");
}

enum index_status
index_replay_mark_purged(struct index *ix, const char *id, int64_t now)
{
	sqlite3_stmt	*s;
	enum index_status st;

	/* no ir_op: the retention purge has just listed the row, no need to look it up */
	if ((s = ir_prep(ix, "UPDATE messages SET purged_ms = :now WHERE id = :id", &st)) == NULL)
		return st;
	ir_bind_text(s, ":id", id);
	ir_bind_int(s, ":now", now);
	if ((st = ir_step_done(ix, s, "update")) == INDEX_OK &&
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
	struct ir_args a = { .now = now };
	unsigned from = ((1u << QUEUE_NSTATES) - 1) & ~(QUEUE_BIT(QUEUE_DELETED) |
	    QUEUE_BIT(QUEUE_MISSING));

	return ir_move(ix, id, from, QUEUE_MISSING, "state_ms = :now", "", &a, changed);
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
		if ((s = ir_prep(ix, sql[i], &st)) == NULL)
			break;
		ir_bind_int(s, ":c", cutoff);
		ir_bind_int(s, ":l", limit);
		if ((st = ir_step_done(ix, s, "forget")) == INDEX_OK && i == 1)
			*n = sqlite3_changes(index_db(ix));
	}
	return ir_end(ix, st);
}

enum index_status
index_replay_sample(struct index *ix, int64_t now)
{
	sqlite3_stmt	*s;
	enum index_status st;

	if ((s = ir_prep(ix, "INSERT OR REPLACE INTO backlog_samples (at_ms, count, bytes,"
	    " oldest_ms) SELECT :now, count(*), COALESCE(sum(size), 0), min(received_ms)"
	    " FROM messages WHERE state IN " QS_BACKLOG_SQL, &st)) == NULL)
		return st;
	ir_bind_int(s, ":now", now);
	return ir_step_done(ix, s, "sample");
}

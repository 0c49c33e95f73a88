/*
 * index_replay_ops.c - the operator's operations on one queued message:
 * hold, release, requeue, release from quarantine, delete (index_replay.h),
 * for the CLI and the HTTP controls alike (replay/ops.c calls them).
 *
 * Invariants: each is refused (*changed = 0) for a message not in a state it
 * may leave, and moves states only through index_queue_move/_rcpt_move
 * (common/index_queue.c), so every change is logged the same way.  A message
 * that does not exist is INDEX_NOTFOUND.  Multi-row changes run in one
 * index_begin() transaction.  Errors: the handle's index_error() (index_fail),
 * mapped to INDEX_TEMPFAIL / INDEX_PERMFAIL; nothing logged here.
 */
#include <sqlite3.h>
#include <stdint.h>

#include "index_replay.h"
#include "index_replay_impl.h"
#include "queue_state.h"

/* ir_op - run an operator UPDATE on id; binds :id :now :life; *changed = rows changed */
static enum index_status
ir_op(struct index *ix, const char *sql, const char *id, int64_t now, int64_t life,
    int *changed)
{
	sqlite3		*db = index_db(ix);
	sqlite3_stmt	*s;
	enum index_status st;

	*changed = 0;
	if ((st = index_has_message(ix, id)) != INDEX_OK)
		return st;
	if ((s = index_prep(ix, sql, &st)) == NULL)
		return st;
	index_bind_text(s, ":id", id);
	index_bind_int(s, ":now", now);
	index_bind_int(s, ":life", life);
	if ((st = index_step_done(ix, s, "update")) == INDEX_OK)
		*changed = sqlite3_changes(db) > 0;
	return st;
}

/* ir_op_move - an operator's move of message id: INDEX_NOTFOUND if there is no such message */
static enum index_status
ir_op_move(struct index *ix, const char *id, unsigned from, enum queue_state to,
    const char *set, const struct index_move *a, int *changed)
{
	enum index_status st;

	*changed = 0;
	if ((st = index_has_message(ix, id)) != INDEX_OK)
		return st;
	return index_queue_move(ix, id, from, to, set, "", a, changed);
}

enum index_status
index_replay_hold(struct index *ix, const char *id, int64_t now, int *changed)
{
	struct index_move a = { .now = now };

	return ir_op_move(ix, id, QUEUE_BIT(QUEUE_QUEUED) | QUEUE_BIT(QUEUE_ACTIVE) |
	    QUEUE_BIT(QUEUE_QUARANTINE), QUEUE_HOLD, INDEX_QUEUE_UNLEASE ", state_ms = :now", &a,
	    changed);
}

enum index_status
index_replay_release(struct index *ix, const char *id, int64_t now, int64_t lifetime_ms,
    int *changed)
{
	struct index_move a = { .now = now, .life = lifetime_ms };

	return ir_op_move(ix, id, QUEUE_BIT(QUEUE_HOLD), QUEUE_QUEUED, "next_attempt_ms = :now,"
	    " note = NULL, state_ms = :now, expires_ms = CASE WHEN COALESCE(expires_ms,"
	    " received_ms + :life) <= :now THEN :now + :life ELSE expires_ms END", &a, changed);
}

/* index_replay_requeue - due now; not a change of state */
enum index_status
index_replay_requeue(struct index *ix, const char *id, int64_t now, int *changed)
{
	return ir_op(ix, "UPDATE messages SET next_attempt_ms = :now WHERE id = :id"
	    " AND state = " QS_SQL(QS_QUEUED), id, now, 0, changed);
}

enum index_status
index_replay_qrelease(struct index *ix, const char *id, int64_t now, int *changed)
{
	struct index_move	 a = { .now = now };
	enum index_status st;
	int		 dummy;

	*changed = 0;
	if ((st = index_begin(ix)) != INDEX_OK)
		return st;
	if ((st = index_has_message(ix, id)) == INDEX_OK)
		st = index_queue_rcpt_move(ix, id, RCPT_BIT(RCPT_QUARANTINE), RCPT_PENDING, "",
		    "", &a, changed);
	*changed = *changed > 0;
	if (st == INDEX_OK && *changed)
		st = index_queue_move(ix, id, QUEUE_BIT(QUEUE_QUARANTINE) | QUEUE_BIT(QUEUE_QUEUED),
		    QUEUE_QUEUED, "next_attempt_ms = :now, state_ms = :now, note = NULL", "", &a,
		    &dummy);
	return index_end(ix, st);
}

enum index_status
index_replay_delete(struct index *ix, const char *id, int64_t now, int *changed)
{
	struct index_move	 a = { .now = now };
	enum index_status st;
	int		 dummy;

	if ((st = index_begin(ix)) != INDEX_OK)
		return st;
	st = ir_op_move(ix, id, QUEUE_ALL_SET & ~QUEUE_BIT(QUEUE_DELETED) &
	    ~QUEUE_BIT(QUEUE_ADOPTED), QUEUE_DELETED, INDEX_QUEUE_UNLEASE ", state_ms = :now", &a,
	    changed);
	if (st == INDEX_OK)
		st = index_queue_rcpt_move(ix, id, RCPT_BIT(RCPT_PENDING) |
		    RCPT_BIT(RCPT_QUARANTINE), RCPT_DELETED, "", "", &a, &dummy);
	return index_end(ix, st);
}

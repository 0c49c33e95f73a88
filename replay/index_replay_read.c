/*
 * index_replay_read.c - the delivery queue's reads (see index_replay.h):
 * one message (index_replay_get), a worker's job (index_replay_job),
 * listings, recipients, attempts, counts, and filtered statements for
 * index_stats.c.  The changes of state are in index_replay.c; both share
 * its statement helpers (index_replay_impl.h).
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "index_replay.h"
#include "index_replay_impl.h"

#define IR_MSG_COLS "m.id, m.state, m.mail_from, COALESCE(m.note, ''),"		\
	" COALESCE(m.lease_owner, ''), m.received_ms, m.size, m.next_attempt_ms,"	\
	" m.state_ms, COALESCE(m.lease_until_ms, 0), COALESCE(m.expires_ms, 0),"	\
	" COALESCE(m.last_attempt_ms, 0), m.attempts,"					\
	" (SELECT count(*) FROM recipients r WHERE r.message_id = m.id),"		\
	" (SELECT count(*) FROM recipients r WHERE r.message_id = m.id"			\
	" AND r.state = " QS_SQL(RS_PENDING) "), COALESCE(m.purged_ms, 0)"

/* ir_msg_row - fill row from a statement selecting IR_MSG_COLS */
static void
ir_msg_row(sqlite3_stmt *s, struct index_msg_row *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%s", ir_text(s, 0));
	m->state = queue_state_parse(ir_text(s, 1));
	m->mail_from = ir_text(s, 2);
	m->note = ir_text(s, 3);
	m->lease_owner = ir_text(s, 4);
	m->received_ms = sqlite3_column_int64(s, 5);
	m->size = sqlite3_column_int64(s, 6);
	m->next_attempt_ms = sqlite3_column_int64(s, 7);
	m->state_ms = sqlite3_column_int64(s, 8);
	m->lease_until_ms = sqlite3_column_int64(s, 9);
	m->expires_ms = sqlite3_column_int64(s, 10);
	m->last_attempt_ms = sqlite3_column_int64(s, 11);
	m->attempts = sqlite3_column_int(s, 12);
	m->nrcpts = sqlite3_column_int(s, 13);
	m->npending = sqlite3_column_int(s, 14);
	m->purged_ms = sqlite3_column_int64(s, 15);
}

enum index_status
index_replay_get(struct index *ix, const char *id, struct index_msg_row *m)
{
	/* the row's strings outlive the statement (which must not keep a read
	 * transaction open): copies per thread, valid until the next call */
	static __thread struct {
		char	mail_from[MXS_PATH_MAX + 1];
		char	note[512];
		char	owner[160];
	} keep;
	sqlite3_stmt	*s;
	enum index_status st;
	int		 rc;

	if ((s = ir_prep(ix, "SELECT " IR_MSG_COLS " FROM messages m WHERE m.id = :id",
	    &st)) == NULL)
		return st;
	ir_bind_text(s, ":id", id);
	if ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ir_msg_row(s, m);
		snprintf(keep.mail_from, sizeof(keep.mail_from), "%s", m->mail_from);
		snprintf(keep.note, sizeof(keep.note), "%s", m->note);
		snprintf(keep.owner, sizeof(keep.owner), "%s", m->lease_owner);
		m->mail_from = keep.mail_from;
		m->note = keep.note;
		m->lease_owner = keep.owner;
	} else
		st = rc == SQLITE_DONE ? INDEX_NOTFOUND : ir_fail(ix, "get message");
	index_unprepare(ix, s);
	return st;
}

enum index_status
index_replay_list(struct index *ix, const struct index_filter *f,
    int (*fn)(const struct index_msg_row *, void *), void *arg)
{
	sqlite3_stmt	*s;
	struct index_msg_row m;
	enum index_status st;
	int		 rc;

	if ((s = ir_prep_filter(ix, "SELECT " IR_MSG_COLS " FROM messages m WHERE 1", f, 1, 0,
	    " ORDER BY m.received_ms, m.id LIMIT :f_limit", &st)) == NULL)
		return st;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		ir_msg_row(s, &m);
		if (fn(&m, arg) != 0)
			break;
	}
	return ir_rows_end(ix, s, rc, "list");
}

enum index_status
index_replay_id_width(struct index *ix, const struct index_filter *f, int *width)
{
	sqlite3_stmt	*s;
	enum index_status st;

	*width = 0;
	if ((s = ir_prep_filter(ix, "SELECT COALESCE(max(length(m.id)), 0) FROM messages m"
	    " WHERE 1", f, 1, 0, "", &st)) == NULL)
		return st;
	if (sqlite3_step(s) == SQLITE_ROW)
		*width = sqlite3_column_int(s, 0);
	else
		st = ir_fail(ix, "id width");
	index_unprepare(ix, s);
	return st;
}

enum index_status
index_replay_rcpts(struct index *ix, const char *id,
    int (*fn)(const struct index_rcpt_row *, void *), void *arg)
{
	sqlite3_stmt	*s;
	struct index_rcpt_row r;
	enum index_status st;
	int		 rc;

	if ((s = ir_prep(ix, "SELECT rcpt, domain, params, state, COALESCE(last_code, 0),"
	    " COALESCE(last_text, ''), COALESCE(updated_ms, 0), COALESCE(dsn_ms, 0)"
	    " FROM recipients WHERE message_id = :id ORDER BY rcpt", &st)) == NULL)
		return st;
	ir_bind_text(s, ":id", id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r.rcpt = ir_text(s, 0);
		r.domain = ir_text(s, 1);
		r.params = ir_text(s, 2);
		r.state = rcpt_state_parse(ir_text(s, 3));
		r.last_code = sqlite3_column_int(s, 4);
		r.last_text = ir_text(s, 5);
		r.updated_ms = sqlite3_column_int64(s, 6);
		r.dsn_ms = sqlite3_column_int64(s, 7);
		if (fn(&r, arg) != 0)
			break;
	}
	return ir_rows_end(ix, s, rc, "recipients");
}

enum index_status
index_replay_attempts(struct index *ix, const char *id,
    int (*fn)(const struct index_attempt_row *, void *), void *arg)
{
	sqlite3_stmt	*s;
	struct index_attempt_row a;
	enum index_status st;
	int		 rc;

	if ((s = ir_prep(ix, "SELECT at_ms, rcpt, target, code, enhanced, text, worker"
	    " FROM attempts WHERE message_id = :id ORDER BY at_ms, id", &st)) == NULL)
		return st;
	ir_bind_text(s, ":id", id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		a.at_ms = sqlite3_column_int64(s, 0);
		a.rcpt = ir_text(s, 1);
		a.target = ir_text(s, 2);
		a.code = sqlite3_column_int(s, 3);
		a.enhanced = ir_text(s, 4);
		a.text = ir_text(s, 5);
		a.worker = ir_text(s, 6);
		if (fn(&a, arg) != 0)
			break;
	}
	return ir_rows_end(ix, s, rc, "attempts");
}

sqlite3_stmt *
index_replay_prepare_filter(struct index *ix, const char *head, const struct index_filter *f,
    const char *tail, enum index_status *st)
{
	return ir_prep_filter(ix, head, f, 1, 0, tail, st);
}

enum index_status
index_replay_count(struct index *ix, const struct index_filter *f, int64_t *count,
    int64_t *bytes, int64_t *oldest_ms)
{
	sqlite3_stmt	*s;
	enum index_status st;

	if ((s = ir_prep_filter(ix, "SELECT count(*), COALESCE(sum(m.size), 0),"
	    " COALESCE(min(m.received_ms), 0) FROM messages m WHERE 1", f, 1, 0, "", &st)) == NULL)
		return st;
	if (sqlite3_step(s) == SQLITE_ROW) {
		*count = sqlite3_column_int64(s, 0);
		*bytes = sqlite3_column_int64(s, 1);
		*oldest_ms = sqlite3_column_int64(s, 2);
	} else
		st = ir_fail(ix, "count");
	index_unprepare(ix, s);
	return st;
}

/* ir_job_pending - index_replay_rcpts callback of index_replay_job: pending ones only */
struct ir_job_cb {
	int	(*fn)(const struct index_rcpt_row *, void *);
	void	*arg;
};

static int
ir_job_pending(const struct index_rcpt_row *r, void *arg)
{
	struct ir_job_cb *cb = arg;

	return r->state == RCPT_PENDING ? cb->fn(r, cb->arg) : 0;
}

enum index_status
index_replay_job(struct index *ix, const char *id, struct index_job *job,
    int (*fn)(const struct index_rcpt_row *, void *), void *arg)
{
	struct ir_job_cb cb = { fn, arg };
	enum index_status st;

	envelope_init(&job->env);
	if ((st = index_replay_get(ix, id, &job->row)) != INDEX_OK)
		return st;
	if ((st = index_get_message(ix, id, &job->env, job->object_key, sizeof(job->object_key),
	    &job->loc, job->spool_path, sizeof(job->spool_path))) != INDEX_OK)
		return st;
	return index_replay_rcpts(ix, id, ir_job_pending, &cb);
}

/*
 * index_replay_read.c - the delivery queue's reads (see index_replay.h):
 * one message (index_replay_get), a worker's job (index_replay_job),
 * listings, recipients, attempts, counts, and filtered statements for
 * index_stats.c.  The changes of state are in index_replay.c; both use the
 * statement helpers of index.h and the filters of index_replay_impl.h.  A job
 * is two statements: its message row with the envelope, then its recipients.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "index_replay.h"
#include "index_replay_impl.h"

/* the columns of struct index_msg_row (ir_msg_row); IR_MSG_COLS with its counts */
#define IR_MSG_HEAD "m.id, m.state, m.mail_from, COALESCE(m.note, ''),"		\
	" COALESCE(m.lease_owner, ''), m.received_ms, m.size, m.next_attempt_ms,"	\
	" m.state_ms, COALESCE(m.lease_until_ms, 0), COALESCE(m.expires_ms, 0),"	\
	" COALESCE(m.last_attempt_ms, 0), m.attempts, "
#define IR_MSG_TAIL ", COALESCE(m.purged_ms, 0)"
#define IR_MSG_COLS IR_MSG_HEAD							\
	" (SELECT count(*) FROM recipients r WHERE r.message_id = m.id),"		\
	" (SELECT count(*) FROM recipients r WHERE r.message_id = m.id"			\
	" AND r.state = " QS_SQL(RS_PENDING) ")" IR_MSG_TAIL
/* a job's row: the counts come from its recipients' read (index_replay_job) */
#define IR_JOB_COLS IR_MSG_HEAD "0, 0" IR_MSG_TAIL
#define IR_MSG_NCOLS 16

/* ir_msg_row - fill row from a statement selecting IR_MSG_COLS */
static void
ir_msg_row(sqlite3_stmt *s, struct index_msg_row *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->id, sizeof(m->id), "%s", index_text(s, 0));
	m->state = queue_state_parse(index_text(s, 1));
	m->mail_from = index_text(s, 2);
	m->note = index_text(s, 3);
	m->lease_owner = index_text(s, 4);
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

/*
 * ir_keep - the row's strings copied per thread: they outlive the statement
 * (which must not keep a read transaction open), valid until the next call
 */
static void
ir_keep(struct index_msg_row *m)
{
	static __thread struct {
		char	mail_from[MXS_PATH_MAX + 1];
		char	note[512];
		char	owner[160];
	} keep;

	snprintf(keep.mail_from, sizeof(keep.mail_from), "%s", m->mail_from);
	snprintf(keep.note, sizeof(keep.note), "%s", m->note);
	snprintf(keep.owner, sizeof(keep.owner), "%s", m->lease_owner);
	m->mail_from = keep.mail_from;
	m->note = keep.note;
	m->lease_owner = keep.owner;
}

/* ir_get_row - the row of id from sql (IR_MSG_COLS or IR_JOB_COLS, ...), s given back
 * only on failure: *sp is the statement positioned on the row */
static enum index_status
ir_get_row(struct index *ix, const char *sql, const char *id, struct index_msg_row *m,
    sqlite3_stmt **sp)
{
	sqlite3_stmt	*s;
	enum index_status st;
	int		 rc;

	*sp = NULL;
	if ((s = index_prep(ix, sql, &st)) == NULL)
		return st;
	index_bind_text(s, ":id", id);
	if ((rc = sqlite3_step(s)) != SQLITE_ROW) {
		st = rc == SQLITE_DONE ? INDEX_NOTFOUND : index_failed(ix, "get message");
		index_unprepare(ix, s);
		return st;
	}
	ir_msg_row(s, m);
	ir_keep(m);
	*sp = s;
	return INDEX_OK;
}

enum index_status
index_replay_get(struct index *ix, const char *id, struct index_msg_row *m)
{
	sqlite3_stmt	*s;
	enum index_status st;

	st = ir_get_row(ix, "SELECT " IR_MSG_COLS " FROM messages m WHERE m.id = :id", id, m,
	    &s);
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
	return index_rows_end(ix, s, rc, "list");
}

/* ir_filter_ints - the n integer columns of the one row of head (SELECT ... WHERE 1) and f */
static enum index_status
ir_filter_ints(struct index *ix, const char *head, const struct index_filter *f,
    const char *what, int64_t *v, int n)
{
	sqlite3_stmt	*s;
	enum index_status st;

	if ((s = ir_prep_filter(ix, head, f, 1, 0, "", &st)) == NULL)
		return st;
	if (sqlite3_step(s) == SQLITE_ROW) {
		for (int i = 0; i < n; i++)
			v[i] = sqlite3_column_int64(s, i);
	} else
		st = index_failed(ix, what);
	index_unprepare(ix, s);
	return st;
}

enum index_status
index_replay_id_width(struct index *ix, const struct index_filter *f, int *width)
{
	enum index_status st;
	int64_t		 w = 0;

	st = ir_filter_ints(ix, "SELECT COALESCE(max(length(m.id)), 0) FROM messages m WHERE 1",
	    f, "id width", &w, 1);
	*width = (int)w;
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

	if ((s = index_prep(ix, "SELECT rcpt, domain, params, state, COALESCE(last_code, 0),"
	    " COALESCE(last_text, ''), COALESCE(updated_ms, 0), COALESCE(dsn_ms, 0)"
	    " FROM recipients WHERE message_id = :id ORDER BY rcpt", &st)) == NULL)
		return st;
	index_bind_text(s, ":id", id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		r.rcpt = index_text(s, 0);
		r.domain = index_text(s, 1);
		r.params = index_text(s, 2);
		r.state = rcpt_state_parse(index_text(s, 3));
		r.last_code = sqlite3_column_int(s, 4);
		r.last_text = index_text(s, 5);
		r.updated_ms = sqlite3_column_int64(s, 6);
		r.dsn_ms = sqlite3_column_int64(s, 7);
		if (fn(&r, arg) != 0)
			break;
	}
	return index_rows_end(ix, s, rc, "recipients");
}

enum index_status
index_replay_attempts(struct index *ix, const char *id,
    int (*fn)(const struct index_attempt_row *, void *), void *arg)
{
	sqlite3_stmt	*s;
	struct index_attempt_row a;
	enum index_status st;
	int		 rc;

	if ((s = index_prep(ix, "SELECT at_ms, rcpt, target, code, enhanced, text, worker"
	    " FROM attempts WHERE message_id = :id ORDER BY at_ms, id", &st)) == NULL)
		return st;
	index_bind_text(s, ":id", id);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		a.at_ms = sqlite3_column_int64(s, 0);
		a.rcpt = index_text(s, 1);
		a.target = index_text(s, 2);
		a.code = sqlite3_column_int(s, 3);
		a.enhanced = index_text(s, 4);
		a.text = index_text(s, 5);
		a.worker = index_text(s, 6);
		if (fn(&a, arg) != 0)
			break;
	}
	return index_rows_end(ix, s, rc, "attempts");
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
	enum index_status st;
	int64_t		 v[3] = { 0, 0, 0 };

	st = ir_filter_ints(ix, "SELECT count(*), COALESCE(sum(m.size), 0),"
	    " COALESCE(min(m.received_ms), 0) FROM messages m WHERE 1", f, "count", v, 3);
	if (st == INDEX_OK) {
		*count = v[0];
		*bytes = v[1];
		*oldest_ms = v[2];
	}
	return st;
}

/* what index_replay_job's recipient walk counts and passes on */
struct ir_job_cb {
	struct index_msg_row *row;
	int	(*fn)(const struct index_rcpt_row *, void *);
	void	*arg;
};

/* ir_job_rcpt - index_replay_rcpts callback of index_replay_job: count, pass pending ones */
static int
ir_job_rcpt(const struct index_rcpt_row *r, void *arg)
{
	struct ir_job_cb *cb = arg;

	cb->row->nrcpts++;
	if (r->state != RCPT_PENDING)
		return 0;
	cb->row->npending++;
	return cb->fn(r, cb->arg);
}

/*
 * index_replay_job - two statements: the message row with its envelope
 * columns, then its recipients (counted into the row as they pass, the
 * pending ones handed to fn)
 */
enum index_status
index_replay_job(struct index *ix, const char *id, struct index_job *job,
    int (*fn)(const struct index_rcpt_row *, void *), void *arg)
{
	struct ir_job_cb cb = { &job->row, fn, arg };
	sqlite3_stmt	*s;
	enum index_status st;

	envelope_init(&job->env);
	if ((st = ir_get_row(ix, "SELECT " IR_JOB_COLS ", " INDEX_ENVELOPE_COLS
	    " FROM messages m WHERE m.id = :id", id, &job->row, &s)) != INDEX_OK)
		return st;
	st = index_envelope_cols(ix, s, IR_MSG_NCOLS, id, &job->env, job->object_key,
	    sizeof(job->object_key), &job->loc, job->spool_path, sizeof(job->spool_path));
	index_unprepare(ix, s);
	if (st != INDEX_OK)
		return st;
	return index_replay_rcpts(ix, id, ir_job_rcpt, &cb);
}

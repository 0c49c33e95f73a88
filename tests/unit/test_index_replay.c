/*
 * test_index_replay.c - the queue SQL of replay/index_replay.c on a real
 * SQLite file: leases (exclusive across two handles, expiry, filters, flush,
 * deadline), outcomes and message states, operator operations, purge,
 * forgetting purged history, counts and qshape, a worker's job in two
 * statements.  Times are passed in: no sleeps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "envelope.h"
#include "index_replay.h"
#include "index_stats.h"
#include "msgid.h"
#include "testlib.h"

struct fx {
	struct testlib_index db;
	struct index	*a, *b;		/* two handles: two workers */
	char		 id[3][MSGID_MAX];
	int64_t		 t0;
};

/* add - one message received at t with the given recipients */
static void
add(struct fx *f, int i, int64_t t, const char *from, const char *r1, const char *r2)
{
	struct envelope e;

	testlib_envelope(&e, t);
	snprintf(f->id[i], sizeof(f->id[i]), "%s", e.id);
	e.size = 100 * (i + 1);
	e.mail_from = strdup(from);
	e.mail_params = strdup("");
	assert_int_equal(envelope_add_rcpt(&e, r1, ""), 0);
	if (r2)
		assert_int_equal(envelope_add_rcpt(&e, r2, "NOTIFY=FAILURE"), 0);
	assert_int_equal(index_add_message(f->a, &e, "k", INDEX_LOC_STORE, NULL), INDEX_OK);
	envelope_free(&e);
}

static int
setup(void **state)
{
	struct fx	*f = calloc(1, sizeof(*f));
	char		 err[256];

	f->a = testlib_index_open(&f->db, "test_index_replay");
	f->b = index_open_existing(f->db.path, err, sizeof(err));
	assert_non_null(f->b);
	f->t0 = now_ms();
	add(f, 0, f->t0 - 3000, "s@x.test", "a@one.test", "b@two.test");
	add(f, 1, f->t0 - 2000, "", "c@one.test", NULL);
	add(f, 2, f->t0 - 1000, "s@x.test", "d@two.test", NULL);
	/* "now" of the tests: after the inserts made them due (next_attempt_ms = insert time) */
	f->t0 += 60000;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx	*f = *state;

	index_close(f->a);
	index_close(f->b);
	testlib_index_remove(&f->db);
	free(f);
	return 0;
}

#define DAY	(86400LL * 1000)

/* lease - lease up to max on ix at now; returns how many */
static int
lease(struct index *ix, const char *owner, int64_t now, const struct index_filter *flt,
    int64_t flush, char (*ids)[MSGID_MAX], int max)
{
	int n = -1;

	assert_int_equal(index_replay_lease(ix, owner, now, 60000, 7 * DAY, flush, flt, ids, max,
	    &n), INDEX_OK);
	return n;
}

static void
test_lease_exclusive_oldest_first(void **state)
{
	struct fx	*f = *state;
	char		 ids[8][MSGID_MAX];
	struct index_msg_row m;

	assert_int_equal(lease(f->a, "h:1", f->t0, NULL, 0, ids, 2), 2);
	assert_string_equal(ids[0], f->id[0]);
	assert_string_equal(ids[1], f->id[1]);
	/* the other worker gets only what is left */
	assert_int_equal(lease(f->b, "h:2", f->t0, NULL, 0, ids, 8), 1);
	assert_string_equal(ids[0], f->id[2]);
	assert_int_equal(lease(f->b, "h:2", f->t0, NULL, 0, ids, 8), 0);
	assert_int_equal(index_replay_get(f->a, f->id[0], &m), INDEX_OK);
	assert_int_equal(m.state, QUEUE_ACTIVE);
	assert_string_equal(m.lease_owner, "h:1");
	/* an expired lease (crashed worker) is due again, for anyone */
	assert_int_equal(lease(f->b, "h:2", f->t0 + 60001, NULL, 0, ids, 8), 3);
	/* renew/unlease only by the owner */
	assert_int_equal(index_replay_renew(f->a, f->id[0], "h:1", f->t0 + 99), INDEX_NOTFOUND);
	assert_int_equal(index_replay_renew(f->a, f->id[0], "h:2", f->t0 + 99999), INDEX_OK);
}

static void
test_finish_states(void **state)
{
	struct fx	*f = *state;
	enum queue_state to;
	char		 ids[8][MSGID_MAX];
	struct index_msg_row m;
	struct index_outcome o[2] = {
		{ "a@one.test", "smtp://p", RCPT_DELIVERED, 250, "2.0.0", "ok" },
		{ "b@two.test", "smtp://p", RCPT_PENDING, 421, "4.3.0", "later" },
	};
	int		 changed;

	assert_int_equal(lease(f->a, "h:1", f->t0, NULL, 0, ids, 1), 1);
	assert_int_equal(index_replay_finish(f->a, f->id[0], "h:1", o, 2, "h:1/w0", f->t0,
	    f->t0 + 5000, &to), INDEX_OK);
	assert_int_equal(to, QUEUE_QUEUED);
	assert_int_equal(index_replay_get(f->a, f->id[0], &m), INDEX_OK);
	assert_int_equal(m.state, QUEUE_QUEUED);
	assert_int_equal(m.attempts, 1);
	assert_int_equal(m.npending, 1);
	assert_int_equal(m.next_attempt_ms, f->t0 + 5000);
	assert_string_equal(m.lease_owner, "");
	/* not due before next_attempt_ms (the others are leased away first) */
	assert_int_equal(lease(f->b, "h:2", f->t0 + 1, NULL, 0, ids, 8), 2);
	assert_int_equal(lease(f->b, "h:2", f->t0 + 1, NULL, 0, ids, 8), 0);
	assert_int_equal(lease(f->b, "h:2", f->t0 + 5000, NULL, 0, ids, 8), 1);
	/* a re-sent delivered recipient is ignored: only pending ones change */
	o[0].state = RCPT_QUARANTINE;
	o[1].state = RCPT_QUARANTINE;
	o[1].code = 550;
	assert_int_equal(index_replay_finish(f->b, f->id[0], "h:2", o, 2, "h:2/w0",
	    f->t0 + 5000, f->t0 + 9000, &to), INDEX_OK);
	assert_int_equal(to, QUEUE_QUARANTINE);
	assert_int_equal(index_replay_get(f->a, f->id[0], &m), INDEX_OK);
	assert_int_equal(m.state, QUEUE_QUARANTINE);
	assert_int_equal(m.npending, 0);
	/* the operator releases the quarantine: pending again, due now */
	assert_int_equal(index_replay_qrelease(f->a, f->id[0], f->t0 + 6000, &changed), INDEX_OK);
	assert_int_equal(changed, 1);
	assert_int_equal(index_replay_get(f->a, f->id[0], &m), INDEX_OK);
	assert_int_equal(m.state, QUEUE_QUEUED);
	assert_int_equal(m.npending, 1);
	assert_int_equal(lease(f->a, "h:1", f->t0 + 6000, NULL, 0, ids, 8), 1);
	o[1].state = RCPT_DELIVERED;
	o[1].code = 250;
	assert_int_equal(index_replay_finish(f->a, f->id[0], "h:1", &o[1], 1, "w", f->t0 + 6000,
	    0, &to), INDEX_OK);
	assert_int_equal(to, QUEUE_DELIVERED);
	assert_int_equal(index_replay_get(f->a, f->id[0], &m), INDEX_OK);
	assert_int_equal(m.state, QUEUE_DELIVERED);
	/* a delivered message is not in a state to hold: refused, left as it was */
	assert_int_equal(index_replay_hold(f->a, f->id[0], f->t0 + 7000, &changed), INDEX_OK);
	assert_int_equal(changed, 0);
	assert_int_equal(index_replay_get(f->a, f->id[0], &m), INDEX_OK);
	assert_int_equal(m.state, QUEUE_DELIVERED);
}

static int
count_attempts(const struct index_attempt_row *a, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

static void
test_finish_lost_lease(void **state)
{
	struct fx	*f = *state;
	enum queue_state to;
	char		 ids[8][MSGID_MAX];
	struct index_msg_row m;
	struct index_outcome o = { "c@one.test", "t", RCPT_DELIVERED, 250, "", "ok" };
	int		 n = 0;

	assert_int_equal(lease(f->a, "h:1", f->t0, NULL, 0, ids, 2), 2);
	/* h:1 stalls, its lease expires and h:2 takes message 1 */
	assert_int_equal(lease(f->b, "h:2", f->t0 + 70000, NULL, 0, ids, 1), 1);
	assert_string_equal(ids[0], f->id[0]);
	assert_int_equal(lease(f->b, "h:2", f->t0 + 70000, NULL, 0, ids, 1), 1);
	assert_string_equal(ids[0], f->id[1]);
	/* h:1 finishes late: the recipient outcome counts, the message stays h:2's */
	assert_int_equal(index_replay_finish(f->a, f->id[1], "h:1", &o, 1, "w", f->t0 + 70001,
	    0, &to), INDEX_OK);
	assert_int_equal(to, QUEUE_UNKNOWN);
	assert_int_equal(index_replay_get(f->a, f->id[1], &m), INDEX_OK);
	assert_int_equal(m.state, QUEUE_ACTIVE);
	assert_string_equal(m.lease_owner, "h:2");
	assert_int_equal(m.npending, 0);
	assert_int_equal(index_replay_attempts(f->a, f->id[1], count_attempts, &n), INDEX_OK);
	assert_int_equal(n, 1);
	/* crash recovery: give back every lease of h:2 */
	assert_int_equal(index_replay_unlease_owner(f->a, "h:2", &n), INDEX_OK);
	assert_int_equal(n, 2);
	assert_int_equal(index_replay_get(f->a, f->id[0], &m), INDEX_OK);
	assert_int_equal(m.state, QUEUE_QUEUED);
}

static void
test_filters_flush_deadline(void **state)
{
	struct fx	*f = *state;
	enum queue_state to;
	char		 ids[8][MSGID_MAX];
	struct index_filter flt = { 0 };
	struct index_outcome o = { "d@two.test", "t", RCPT_PENDING, 451, "", "later" };

	flt.domain = "TWO.test";
	assert_int_equal(lease(f->a, "h:1", f->t0, &flt, 0, ids, 8), 2);
	assert_string_equal(ids[0], f->id[0]);
	assert_string_equal(ids[1], f->id[2]);
	index_replay_unlease(f->a, f->id[0], "h:1");
	assert_int_equal(index_replay_finish(f->a, f->id[2], "h:1", &o, 1, "w", f->t0,
	    f->t0 + DAY, &to), INDEX_OK);
	memset(&flt, 0, sizeof(flt));
	flt.sender = "";
	assert_int_equal(lease(f->a, "h:1", f->t0, &flt, 0, ids, 8), 1);
	assert_string_equal(ids[0], f->id[1]);
	index_replay_unlease(f->a, f->id[1], "h:1");
	/* message 2 waits a day; a drain that began after its attempt does not take it... */
	memset(&flt, 0, sizeof(flt));
	flt.id = f->id[2];
	assert_int_equal(lease(f->a, "h:1", f->t0 + 10, &flt, f->t0 - 1, ids, 8), 0);
	/* ...one that began before it does */
	assert_int_equal(lease(f->a, "h:1", f->t0 + 10, &flt, f->t0 + 5, ids, 8), 1);
	index_replay_unlease(f->a, f->id[2], "h:1");
	/* past its deadline it is due whatever next_attempt_ms says */
	assert_int_equal(index_replay_finish(f->a, f->id[2], "h:1", &o, 0, "w", f->t0,
	    f->t0 + DAY, &to), INDEX_OK);
	assert_int_equal(lease(f->a, "h:1", f->t0 + 7 * DAY, &flt, 0, ids, 8), 1);
}

static void
test_operator_ops(void **state)
{
	struct fx	*f = *state;
	char		 ids[8][MSGID_MAX];
	struct index_msg_row m;
	int		 changed;
	int64_t		 n, bytes, oldest;
	struct index_filter flt = { 0 };

	assert_int_equal(index_replay_hold(f->a, f->id[0], f->t0, &changed), INDEX_OK);
	assert_int_equal(changed, 1);
	assert_int_equal(index_replay_hold(f->a, f->id[0], f->t0, &changed), INDEX_OK);
	assert_int_equal(changed, 0);
	assert_int_equal(index_replay_hold(f->a, "01JDAB3K8QW2E5R7T9Y1U3I5O7.mx9", f->t0,
	    &changed), INDEX_NOTFOUND);
	/* held messages are not leased */
	assert_int_equal(lease(f->a, "h:1", f->t0, NULL, 0, ids, 8), 2);
	index_replay_unlease_owner(f->a, "h:1", &changed);
	flt.state = "hold";
	assert_int_equal(index_replay_count(f->a, &flt, &n, &bytes, &oldest), INDEX_OK);
	assert_int_equal(n, 1);
	assert_int_equal(bytes, 100);
	/* release of a message past its deadline gives it a new lifetime */
	assert_int_equal(index_replay_release(f->a, f->id[0], f->t0 + 8 * DAY, 7 * DAY,
	    &changed), INDEX_OK);
	assert_int_equal(changed, 1);
	assert_int_equal(index_replay_get(f->a, f->id[0], &m), INDEX_OK);
	assert_int_equal(m.state, QUEUE_QUEUED);
	assert_int_equal(m.expires_ms, f->t0 + 15 * DAY);
	assert_int_equal(index_replay_requeue(f->a, f->id[1], f->t0 - 5, &changed), INDEX_OK);
	assert_int_equal(changed, 1);
	assert_int_equal(index_replay_delete(f->a, f->id[2], f->t0, &changed), INDEX_OK);
	assert_int_equal(changed, 1);
	assert_int_equal(index_replay_get(f->a, f->id[2], &m), INDEX_OK);
	assert_int_equal(m.state, QUEUE_DELETED);
	assert_int_equal(m.npending, 0);
	flt.state = NULL;	/* backlog */
	assert_int_equal(index_replay_count(f->a, &flt, &n, &bytes, &oldest), INDEX_OK);
	assert_int_equal(n, 2);
	assert_int_equal(oldest, f->t0 - 63000);
}

/* stmt_count - sqlite3_trace_v2 callback: statements begun (not trigger programs) */
static int
stmt_count(unsigned type, void *arg, void *p, void *x)
{
	(void)type;
	(void)p;
	if (strncmp((const char *)x, "--", 2) != 0)
		(*(int *)arg)++;
	return 0;
}

/* job_rcpt - index_replay_job callback: the pending recipients handed over, in a string */
static int
job_rcpt(const struct index_rcpt_row *r, void *arg)
{
	char *got = arg;
	size_t n = strlen(got);

	assert_int_equal(r->state, RCPT_PENDING);
	snprintf(got + n, 256 - n, "%s%s", n ? " " : "", r->rcpt);
	return 0;
}

/*
 * test_job_two_reads - a worker's job is two statements (the message with its
 * envelope, then its recipients), where it was four: the row with two count
 * subqueries, the row again with the envelope, the envelope's recipients, and
 * the recipients again for the pending ones
 */
static void
test_job_two_reads(void **state)
{
	struct fx	*f = *state;
	struct index_job job;
	char		 ids[1][MSGID_MAX], got[256] = "";
	int		 n = 0;

	assert_int_equal(lease(f->a, "h:1", f->t0, NULL, 0, ids, 1), 1);
	assert_string_equal(ids[0], f->id[0]);
	assert_int_equal(sqlite3_exec(index_db(f->a), "UPDATE recipients SET state = 'delivered'"
	    " WHERE rcpt = 'b@two.test'", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_trace_v2(index_db(f->a), SQLITE_TRACE_STMT, stmt_count, &n);
	assert_int_equal(index_replay_job(f->a, f->id[0], &job, job_rcpt, got), INDEX_OK);
	sqlite3_trace_v2(index_db(f->a), 0, NULL, NULL);
	if (n != 2)
		fail_msg("index_replay_job: got %d statements, want 2", n);
	assert_string_equal(got, "a@one.test");
	assert_int_equal(job.row.state, QUEUE_ACTIVE);
	assert_string_equal(job.row.lease_owner, "h:1");
	assert_string_equal(job.row.mail_from, "s@x.test");
	assert_int_equal(job.row.nrcpts, 2);
	assert_int_equal(job.row.npending, 1);
	assert_int_equal(job.row.size, 100);
	assert_string_equal(job.env.id, f->id[0]);
	assert_string_equal(job.env.mail_from, "s@x.test");
	assert_int_equal(job.env.received_ms, f->t0 - 60000 - 3000);
	assert_string_equal(job.object_key, "k");
	assert_int_equal(job.loc, INDEX_LOC_STORE);
	envelope_free(&job.env);
	assert_int_equal(index_replay_job(f->a, "01JDAB3K8QW2E5R7T9Y1U3I5O7.mx9", &job, job_rcpt,
	    got), INDEX_NOTFOUND);
	envelope_free(&job.env);
}

/*
 * test_mark_missing - reindex's 'missing' goes through the one state setter:
 * from a backlog state, with state_ms; a deleted message stays deleted (the
 * old index_mark_missing moved any state); an unknown id is INDEX_NOTFOUND
 */
static void
test_mark_missing(void **state)
{
	struct fx	*f = *state;
	struct index_msg_row m;
	char		 ids[1][MSGID_MAX];
	int		 changed;

	/* leased first: a missing message keeps no owner (a worker must not see it as its own) */
	assert_int_equal(lease(f->a, "w1", f->t0, NULL, 0, ids, 1), 1);
	assert_string_equal(ids[0], f->id[0]);
	assert_int_equal(index_replay_mark_missing(f->a, f->id[0], f->t0, &changed), INDEX_OK);
	assert_int_equal(changed, 1);
	assert_int_equal(index_replay_get(f->a, f->id[0], &m), INDEX_OK);
	assert_int_equal(m.state, QUEUE_MISSING);
	assert_int_equal(m.state_ms, f->t0);
	assert_string_equal(m.lease_owner, "");
	assert_int_equal(m.lease_until_ms, 0);
	assert_int_equal(index_replay_mark_missing(f->a, f->id[0], f->t0, &changed), INDEX_OK);
	assert_int_equal(changed, 0);
	assert_int_equal(index_replay_delete(f->a, f->id[1], f->t0, &changed), INDEX_OK);
	assert_int_equal(index_replay_mark_missing(f->a, f->id[1], f->t0, &changed), INDEX_OK);
	assert_int_equal(changed, 0);
	assert_int_equal(index_replay_get(f->a, f->id[1], &m), INDEX_OK);
	assert_int_equal(m.state, QUEUE_DELETED);
	assert_int_equal(index_replay_mark_missing(f->a, "01JDAB3K8QW2E5R7T9Y1U3I5O7.mx9", f->t0,
	    &changed), INDEX_NOTFOUND);
}

struct qs {
	int	one, two;
};

static int
qs_cb(const struct index_stats_domain *d, void *arg)
{
	struct qs *q = arg;

	if (strcmp(d->domain, "one.test") == 0)
		q->one += d->messages;
	if (strcmp(d->domain, "two.test") == 0)
		q->two += d->messages;
	return 0;
}

static int
purge_cb(const char *id, const char *key, void *arg)
{
	assert_string_equal(key, "k");	/* the row's key, so the purge need not read it again */
	snprintf(arg, MSGID_MAX, "%s", id);
	return 0;
}

static void
test_qshape_purge_sample(void **state)
{
	struct fx	*f = *state;
	enum queue_state to;
	char		 ids[8][MSGID_MAX], got[MSGID_MAX] = "";
	struct index_outcome o = { "c@one.test", "t", RCPT_DELIVERED, 250, "", "ok" };
	struct index_filter flt = { 0 };
	struct qs	 q = { 0, 0 };
	int64_t		 n, bytes, oldest;

	assert_int_equal(index_stats_shape(f->a, &flt, f->t0, 0, qs_cb, &q, NULL), INDEX_OK);
	assert_int_equal(q.one, 2);
	assert_int_equal(q.two, 2);
	flt.id = f->id[1];
	assert_int_equal(lease(f->a, "h:1", f->t0, &flt, 0, ids, 8), 1);
	assert_int_equal(index_replay_finish(f->a, f->id[1], "h:1", &o, 1, "w", f->t0, 0, &to),
	    INDEX_OK);
	/* delivered: purgeable only after the retention cutoff, once */
	assert_int_equal(index_replay_purgeable(f->a, f->t0, 10, purge_cb, got), INDEX_OK);
	assert_string_equal(got, "");
	assert_int_equal(index_replay_purgeable(f->a, f->t0 + 1, 10, purge_cb, got), INDEX_OK);
	assert_string_equal(got, f->id[1]);
	assert_int_equal(index_replay_mark_purged(f->a, f->id[1], f->t0 + 1), INDEX_OK);
	assert_int_equal(index_replay_mark_purged(f->a, "01JDAB3K8QW2E5R7T9Y1U3I5O7.mx9", f->t0 + 1),
	    INDEX_NOTFOUND);
	got[0] = '\0';
	assert_int_equal(index_replay_purgeable(f->a, f->t0 + 1, 10, purge_cb, got), INDEX_OK);
	assert_string_equal(got, "");
	assert_int_equal(index_replay_sample(f->a, f->t0), INDEX_OK);
	memset(&flt, 0, sizeof(flt));
	assert_int_equal(index_replay_count(f->a, &flt, &n, &bytes, &oldest), INDEX_OK);
	assert_int_equal(n, 2);
}

/* count - one integer from sql (a test's own look at the tables) */
static int64_t
count(struct index *ix, const char *sql)
{
	sqlite3_stmt	*s;
	int64_t		 n;

	assert_int_equal(sqlite3_prepare_v2(index_db(ix), sql, -1, &s, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

/* deliver - lease message i alone and finish its one recipient as delivered */
static void
deliver(struct fx *f, int i, const char *rcpt)
{
	char		 ids[2][MSGID_MAX];
	struct index_filter flt = { 0 };
	struct index_outcome o = { rcpt, "t", RCPT_DELIVERED, 250, "", "ok" };

	flt.id = f->id[i];
	assert_int_equal(lease(f->a, "h:1", f->t0, &flt, 0, ids, 2), 1);
	assert_int_equal(index_replay_finish(f->a, f->id[i], "h:1", &o, 1, "w", f->t0, 0, NULL),
	    INDEX_OK);
}

/* forget_after: purged messages' history goes, oldest purge first, in batches */
static void
test_forget(void **state)
{
	struct fx	*f = *state;
	int64_t		 totals;
	int		 n = -1;

	deliver(f, 1, "c@one.test");
	deliver(f, 2, "d@two.test");
	assert_int_equal(index_replay_mark_purged(f->a, f->id[1], f->t0 + 1), INDEX_OK);
	assert_int_equal(index_replay_mark_purged(f->a, f->id[2], f->t0 + 5000), INDEX_OK);
	assert_int_equal(index_replay_sample(f->a, f->t0), INDEX_OK);
	assert_int_equal(index_replay_sample(f->a, f->t0 + 10000), INDEX_OK);
	assert_int_equal(count(f->a, "SELECT count(*) FROM attempts"), 2);
	totals = count(f->a, "SELECT sum(count) FROM attempt_totals");

	/* nothing purged before the cutoff: nothing goes but older samples */
	assert_int_equal(index_replay_forget(f->a, f->t0 + 1, 10, &n), INDEX_OK);
	assert_int_equal(n, 0);
	assert_int_equal(count(f->a, "SELECT count(*) FROM messages"), 3);
	assert_int_equal(count(f->a, "SELECT count(*) FROM backlog_samples"), 1);

	/* a limit of 1: the one purged first goes, with its recipients and attempts */
	assert_int_equal(index_replay_forget(f->a, f->t0 + 100 * DAY, 1, &n), INDEX_OK);
	assert_int_equal(n, 1);
	assert_int_equal(count(f->a, "SELECT count(*) FROM messages"), 2);
	assert_int_equal(count(f->a, "SELECT count(*) FROM recipients WHERE rcpt = 'c@one.test'"),
	    0);
	assert_int_equal(count(f->a, "SELECT count(*) FROM attempts WHERE rcpt = 'c@one.test'"),
	    0);
	assert_int_equal(count(f->a, "SELECT count(*) FROM attempts"), 1);
	assert_int_equal(count(f->a, "SELECT count(*) FROM backlog_samples"), 0);

	/* then the next; never a message that was not purged */
	assert_int_equal(index_replay_forget(f->a, f->t0 + 100 * DAY, 10, &n), INDEX_OK);
	assert_int_equal(n, 1);
	assert_int_equal(index_replay_forget(f->a, f->t0 + 100 * DAY, 10, &n), INDEX_OK);
	assert_int_equal(n, 0);
	assert_int_equal(count(f->a, "SELECT count(*) FROM messages"), 1);
	assert_int_equal(count(f->a, "SELECT count(*) FROM recipients"), 2);	/* id[0]'s */
	assert_int_equal(count(f->a, "SELECT count(*) FROM attempts"), 0);
	/* /metrics counters do not go back */
	assert_int_equal(count(f->a, "SELECT sum(count) FROM attempt_totals"), totals);
}

/* count_rcpts - index_replay_rcpts callback */
static int
count_rcpts(const struct index_rcpt_row *r, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

/*
 * One error channel: a failed index_replay_* call leaves its reason in the
 * handle's index_error(), as every index module does.  The worker logged
 * index_error() after an index_replay_rcpts failure while the reason was kept
 * elsewhere (per thread): it logged an empty or stale reason.
 */
static void
test_error_channel(void **state)
{
	struct fx	*f = *state;
	int		 n = 0;

	assert_int_equal(index_replay_rcpts(f->a, f->id[0], count_rcpts, &n), INDEX_OK);
	assert_true(n > 0);
	assert_int_equal(sqlite3_exec(index_db(f->a), "ALTER TABLE recipients RENAME TO"
	    " recipients_gone", NULL, NULL, NULL), SQLITE_OK);
	assert_int_not_equal(index_replay_rcpts(f->a, f->id[0], count_rcpts, &n), INDEX_OK);
	assert_non_null(strstr(index_error(f->a), "recipients"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_lease_exclusive_oldest_first, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finish_states, setup, teardown),
		cmocka_unit_test_setup_teardown(test_finish_lost_lease, setup, teardown),
		cmocka_unit_test_setup_teardown(test_filters_flush_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_operator_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mark_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_two_reads, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qshape_purge_sample, setup, teardown),
		cmocka_unit_test_setup_teardown(test_forget, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_channel, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

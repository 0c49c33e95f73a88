/*
 * sched.c - the lease loop of the replay scheduler (see sched.h): each
 * turn takes the workers' results, runs the once-a-second duties (control
 * table or drain progress, housekeeping), then leases what the rate allows.
 *
 * One scheduler thread owns the rate control and its own store/index handle;
 * it leases one message per token, several in one transaction, and pushes the
 * ids to the worker pool (sched_pool.c).  The other roles have files of their
 * own (sched_impl.h lists them).
 *
 * Exactly-one delivery across processes comes from the index lease (BEGIN
 * IMMEDIATE in index_replay_lease); the scheduler adds no locking of its own
 * beyond the queue mutex.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "fleet.h"
#include "index_replay.h"
#include "index_stats.h"
#include "log.h"
#include "sched_impl.h"

void
sched_owner(char *out, size_t outlen)
{
	char host[128];

	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(out, outlen, "%s:%ld", host, (long)getpid());
}

/* sched_wait - wait on cv for at most ms (mu held) */
void
sched_wait(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t ms)
{
	struct timespec ts;

	clock_after(CLOCK_REALTIME, ms, &ts);
	pthread_cond_timedwait(cv, mu, &ts);
}

/*
 * sched_lease - lease up to max messages (one transaction) and queue them;
 * the number queued, 0 none due, -1 index error.  Batching matters when
 * uncapped: a lease is a write transaction, and one per message was the
 * scheduler's whole budget.
 */
static int
sched_lease(struct sched *s, struct index *ix, int64_t now, int max)
{
	struct sched_conf	*c = s->conf;
	char			 ids[SCHED_LEASE_BATCH][MSGID_MAX];
	enum index_status	 st;
	int			 n;

	st = index_replay_lease(ix, c->wc.owner, now, c->wc.lease_ms, c->wc.lifetime_ms,
	    c->flush_before, &c->filter, ids, max, &n);
	if (st != INDEX_OK) {
		log_warnx("- replay lease reason=\"%s\"", index_error(ix));
		return -1;
	}
	if (n == 0)
		return 0;
	pthread_mutex_lock(&s->mu);
	for (int i = 0; i < n; i++) {
		memcpy(s->q[(s->qhead + s->qlen) % s->qcap], ids[i], MSGID_MAX);	/* NUL-terminated by the lease */
		s->qlen++;
	}
	if (n == 1)
		pthread_cond_signal(&s->work_cv);
	else
		pthread_cond_broadcast(&s->work_cv);
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* sched_periodic - once a second: control table (serve) or progress (drain); housekeeping */
static void
sched_periodic(struct sched *s, struct store *store, struct rate *r, struct sched_stats *st,
    int64_t now)
{
	struct sched_conf	*c = s->conf;
	struct index		*ix = store_index(store);
	struct sched_paused_at	 pa = { NULL, 0 };

	if (now - s->last_ctl < SCHED_CONTROL_MS)
		return;
	s->last_ctl = now;
	if (!c->use_control) {
		if (c->progress) {
			st->achieved = rate_achieved(r, now);
			st->target = rate_current(r, now);
			c->progress(st, NULL, NULL, c->progress_arg);
		}
		return;
	}
	s->paused = sched_control(s, ix, r, now, st, &s->auto_ms, s->paused);
	fleet_agent_set_replay(s->fleet, s->paused ? "paused" : "running");
	/* autostart only resumes the pause we wrote: remember when that was */
	if (s->auto_ms == -1 && index_stats_control(ix, sched_paused_cb, &pa) == INDEX_OK)
		s->auto_ms = pa.updated_ms;
	if (now - s->last_sample >= SCHED_SAMPLE_MS) {
		sched_housekeeping(s, store, now);
		s->last_sample = now;
	}
}

/* sched_tick - lease what may start now; returns how long to wait, or -1 to leave (drain) */
static int64_t
sched_tick(struct sched *s, struct index *ix, struct rate *r, struct sched_stats *st,
    int64_t now)
{
	struct sched_conf	*c = s->conf;
	int64_t			 wait = c->poll_ms;
	int			 rc, k;

	/* a claim on this node without its manifest: deliver nothing (docs/storage.md) */
	if (fleet_agent_blocked(s->fleet, st->blocked, sizeof(st->blocked)))
		return c->exit_when_empty && r->inflight == 0 ? -1 : c->poll_ms;
	if (s->paused || (c->limit > 0 && st->leased >= c->limit) || s->idle_ms > now)
		return c->exit_when_empty && r->inflight == 0 && !s->paused ? -1 : wait;
	/* as many tokens as the rate and the free workers give, up to a batch */
	for (k = 0; k < SCHED_LEASE_BATCH; k++) {
		if (c->limit > 0 && st->leased + k >= c->limit)
			break;
		if (!rate_acquire(r, now, &wait))
			break;
	}
	if (k == 0)
		return wait == 0 || wait > c->poll_ms ? c->poll_ms : wait;
	rc = sched_lease(s, ix, now, k);
	for (int i = rc > 0 ? rc : 0; i < k; i++)	/* the tokens no lease used go back */
		rate_cancel(r);
	if (rc > 0) {
		st->leased += rc;
		st->inflight = r->inflight;
		return 0;
	}
	if (rc == 0 && c->exit_when_empty && r->inflight == 0)
		return -1;
	/* nothing due (or the index is busy): look again later, or when a result comes */
	s->idle_ms = now + (rc == 0 && c->exit_when_empty ? 50 : c->poll_ms);
	return s->idle_ms - now;
}

int
sched_run(struct sched_conf *c, volatile sig_atomic_t *stop, struct sched_stats *st)
{
	struct sched	 s;
	struct store	*store;
	struct index	*ix;
	struct rate	 r;
	char		 err[ERRSTR_MAX];
	int64_t		 wait;

	memset(st, 0, sizeof(*st));
	memset(&s, 0, sizeof(s));
	s.conf = c;
	s.health = -1;
	s.storage = -1;
	pthread_mutex_init(&s.mu, NULL);
	pthread_cond_init(&s.work_cv, NULL);
	pthread_cond_init(&s.done_cv, NULL);
	pthread_cond_init(&s.probe_cv, NULL);
	if ((store = store_open(c->wc.cfg, err, sizeof(err))) == NULL) {
		log_warnx("- replay start reason=\"%s\"", err);
		return -1;
	}
	ix = store_index(store);
	index_set_durable(ix, 0);	/* leases: a duplicate at worst (index.h) */
	sched_reclaim(ix);
	/* before the first lease: a killed process's ledger written, claims honoured */
	s.fleet = fleet_agent_start(c->wc.cfg, c->use_control ? FLEET_ROLE_SERVE :
	    FLEET_ROLE_DRAIN, err, sizeof(err));
	if (s.fleet == NULL && *err != '\0')
		log_warnx("- replay fleet reason=\"%s\" (no heartbeat, ledger or claims)", err);
	if (c->use_control && c->start_paused && index_kv_set(ix, CTL_PAUSED, "1") == INDEX_OK)
		s.auto_ms = -1;
	rate_init(&r, c->rate, c->concurrency, c->ramp_s, now_ms());
	if (sched_start(&s) == -1)
		s.failed = 1;
	while (!*stop && !s.failed) {
		sched_collect(&s, ix, &r, st);
		sched_periodic(&s, store, &r, st, now_ms());
		if ((wait = sched_tick(&s, ix, &r, st, now_ms())) == -1)
			break;
		if (wait == 0)
			continue;
		pthread_mutex_lock(&s.mu);
		if (s.ndone == 0)
			sched_wait(&s.done_cv, &s.mu, wait);
		pthread_mutex_unlock(&s.mu);
	}
	sched_stop(&s, ix, &r, st);
	fleet_agent_stop(s.fleet);	/* the ledger of what finished, an exiting heartbeat */
	if (c->use_control) {
		sched_setf(ix, CTL_ACHIEVED_RATE, 0, NULL, 0);
		sched_setf(ix, CTL_TARGET_RATE, 0, NULL, 0);
	}
	store_close(store);
	pthread_mutex_destroy(&s.mu);
	pthread_cond_destroy(&s.work_cv);
	pthread_cond_destroy(&s.done_cv);
	pthread_cond_destroy(&s.probe_cv);
	return s.failed ? -1 : 0;
}

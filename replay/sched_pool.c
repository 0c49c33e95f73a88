/*
 * sched_pool.c - the scheduler's worker pool: one thread per worker
 * (worker.h), a queue of leased ids in, a queue of results out (both
 * concurrency long, under s->mu), start-up and an orderly stop.
 *
 * A result that finds the done queue full is dropped (it cannot happen while
 * no more than concurrency messages are in flight); such a drop is counted
 * and logged by the scheduler thread (sched_collect, sched_cap_hit).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "index_replay.h"
#include "log.h"
#include "sched_impl.h"

struct sched_warg {
	struct sched	*s;
	int		 n;
};

/* sched_worker - worker thread: take ids, deliver, report */
static void *
sched_worker(void *arg)
{
	struct sched_warg	*wa = arg;
	struct sched		*s = wa->s;
	struct worker		*w = s->workers[wa->n];
	struct sched_done	 d;
	time_t			 idle = time(NULL);

	pthread_mutex_lock(&s->mu);
	for (;;) {
		if (s->qlen == 0 && s->stopping)
			break;
		if (s->qlen == 0) {
			sched_wait(&s->work_cv, &s->mu, 1000);
			if (s->qlen == 0 && time(NULL) - idle >= SCHED_IDLE_CLOSE_S) {
				pthread_mutex_unlock(&s->mu);
				worker_idle(w);
				pthread_mutex_lock(&s->mu);
				idle = time(NULL) + 3600;
			}
			continue;
		}
		snprintf(d.id, sizeof(d.id), "%s", s->q[s->qhead]);
		s->qhead = (s->qhead + 1) % s->qcap;
		s->qlen--;
		pthread_mutex_unlock(&s->mu);
		worker_run(w, d.id, &d.r);
		idle = time(NULL);
		pthread_mutex_lock(&s->mu);
		if (s->ndone < s->donecap)
			s->done[s->ndone++] = d;
		else
			s->dropped++;	/* counted and logged by sched_collect */
		pthread_cond_signal(&s->done_cv);
	}
	pthread_mutex_unlock(&s->mu);
	free(wa);
	return NULL;
}

/* sched_collect - take the workers' results: rate feedback and stats */
void
sched_collect(struct sched *s, struct index *ix, struct rate *r, struct sched_stats *st)
{
	struct sched_done	d;
	int64_t			now;
	int			dropped;

	for (;;) {
		pthread_mutex_lock(&s->mu);
		if (s->ndone == 0) {
			dropped = s->dropped;
			s->dropped = 0;
			pthread_mutex_unlock(&s->mu);
			if (dropped > 0)
				sched_cap_hit(ix, "done_queue", dropped, "worker results dropped",
				    &s->cap_log_ms);
			return;
		}
		d = s->done[--s->ndone];
		pthread_mutex_unlock(&s->mu);
		now = now_ms();
		rate_release(r, now, d.r.congested ? RATE_CONGESTED : RATE_OK);
		st->done++;
		st->final += d.r.final;
		st->delivered += d.r.delivered;
		st->deferred += d.r.deferred;
		st->quarantined += d.r.quarantined;
		st->expired += d.r.expired;
		st->lost += d.r.lost;
		st->inflight = r->inflight;
		st->achieved = rate_achieved(r, now);
		if (s->conf->progress)
			s->conf->progress(st, d.id, &d.r, s->conf->progress_arg);
	}
}

/* sched_start - open the workers and start the threads; -1 on failure (logged) */
int
sched_start(struct sched *s)
{
	struct sched_conf	*c = s->conf;
	struct sched_warg	*wa;
	char			 err[ERRSTR_MAX];

	s->qcap = s->donecap = c->concurrency;
	s->q = calloc(s->qcap, MSGID_MAX);
	s->done = calloc(s->donecap, sizeof(*s->done));
	s->workers = calloc(c->concurrency, sizeof(*s->workers));
	s->threads = calloc(c->concurrency, sizeof(*s->threads));
	if (!s->q || !s->done || !s->workers || !s->threads) {
		log_warnx("- replay start reason=\"out of memory\"");
		return -1;
	}
	for (int i = 0; i < c->concurrency; i++)
		if ((s->workers[i] = worker_open(&c->wc, i, err, sizeof(err))) == NULL) {
			log_warnx("- replay start reason=\"%s\"", err);
			return -1;
		}
	for (int i = 0; i < c->concurrency; i++) {
		if ((wa = malloc(sizeof(*wa))) == NULL)
			return -1;
		wa->s = s;
		wa->n = i;
		if (pthread_create(&s->threads[i], NULL, sched_worker, wa) != 0) {
			free(wa);
			log_warnx("- replay start reason=\"cannot start threads\"");
			return -1;
		}
	}
	if (c->probe_ms > 0 && pthread_create(&s->probe, NULL, sched_probe, s) == 0)
		s->probing = 1;
	if (c->probe_ms > 0 && c->use_control &&
	    pthread_create(&s->sprobe, NULL, sched_sprobe, s) == 0)
		s->sprobing = 1;
	return 0;
}

/* sched_stop - give back unstarted leases, let in-flight finish, join, free */
void
sched_stop(struct sched *s, struct index *ix, struct rate *r, struct sched_stats *st)
{
	char	id[MSGID_MAX];

	pthread_mutex_lock(&s->mu);
	s->stopping = 1;
	while (s->qlen > 0) {
		snprintf(id, sizeof(id), "%s", s->q[s->qhead]);
		s->qhead = (s->qhead + 1) % s->qcap;
		s->qlen--;
		pthread_mutex_unlock(&s->mu);
		index_replay_unlease(ix, id, s->conf->wc.owner);
		rate_cancel(r);
		pthread_mutex_lock(&s->mu);
	}
	pthread_cond_broadcast(&s->work_cv);
	pthread_cond_broadcast(&s->probe_cv);
	pthread_mutex_unlock(&s->mu);
	for (int i = 0; s->threads && i < s->conf->concurrency; i++)
		if (s->workers && s->workers[i] && s->threads[i])
			pthread_join(s->threads[i], NULL);
	if (s->probing)
		pthread_join(s->probe, NULL);
	if (s->sprobing)
		pthread_join(s->sprobe, NULL);
	sched_collect(s, ix, r, st);
	for (int i = 0; s->workers && i < s->conf->concurrency; i++)
		worker_close(s->workers[i]);
	free(s->workers);
	free(s->threads);
	free(s->q);
	free(s->done);
}

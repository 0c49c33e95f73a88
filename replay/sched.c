/*
 * sched.c - lease loop, worker pool, control table and housekeeping (see sched.h).
 *
 * One scheduler thread owns the rate control and its own store/index handle;
 * it leases one message per token, several in one transaction, pushes the
 * ids on a queue, and collects results from the workers.  Worker threads
 * only run worker_run().  A probe thread (serve) connects to the default
 * route now and then and keeps the primary's health for the status page and
 * for autostart; a second one asks the object store for a key, with its own
 * handle and short deadlines, and keeps the storage health.  Only the
 * scheduler thread writes what they found to the control table.
 *
 * Exactly-one delivery across processes comes from the index lease (BEGIN
 * IMMEDIATE in index_replay_lease); this file adds no locking of its own
 * beyond the queue mutex.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "config.h"
#include "index_replay.h"
#include "index_stats.h"
#include "log.h"
#include "msgid.h"
#include "objstore.h"
#include "rate.h"
#include "sched.h"
#include "store.h"

#define SCHED_SAMPLE_MS		60000
#define SCHED_PURGE_MS		60000
#define SCHED_PURGE_BATCH	100
#define SCHED_FORGET_BATCH	1000	/* messages' history dropped per minute */
#define SCHED_CONTROL_MS	1000
#define SCHED_IDLE_CLOSE_S	5	/* idle workers close cached connections after */
#define SCHED_LEASE_BATCH	16	/* messages leased in one transaction at most */

struct sched_done {
	char			id[MSGID_MAX];
	struct worker_result	r;
};

struct sched {
	struct sched_conf	*conf;
	pthread_mutex_t		 mu;
	pthread_cond_t		 work_cv;	/* workers wait for ids */
	pthread_cond_t		 done_cv;	/* the scheduler waits for results */
	pthread_cond_t		 probe_cv;	/* the probe thread sleeps on it */
	char			(*q)[MSGID_MAX];
	int			 qhead, qlen, qcap;
	struct sched_done	*done;
	int			 ndone, donecap;
	int			 stopping;
	struct worker		**workers;
	pthread_t		*threads;
	/* probe thread */
	pthread_t		 probe;
	int			 probing;
	int			 health;	/* 1 up, 0 down, -1 unknown */
	int			 healthy_run;	/* consecutive healthy probes */
	int64_t			 health_ms;	/* when the last probe ended; 0 never */
	char			 health_why[ERRSTR_MAX];
	/* storage probe thread */
	pthread_t		 sprobe;
	int			 sprobing;
	int			 storage;	/* 1 ok, 0 failing, -1 unknown */
	int64_t			 storage_ms;	/* when the last storage probe ended */
	char			 storage_why[ERRSTR_MAX];
	/* what the scheduler thread last wrote to the control table */
	char			 last_ach[32], last_tgt[32], last_health[16];
	char			 last_storage[16];
	int64_t			 pub_health_ms, pub_storage_ms;
	/* scheduler thread only */
	int			 paused;
	int			 failed;	/* start-up failed */
	int64_t			 last_ctl, last_sample;
	int64_t			 auto_ms;	/* when we paused at start (-1: not read yet) */
	int64_t			 idle_ms;	/* nothing due before this */
};

void
sched_owner(char *out, size_t outlen)
{
	char host[128];

	if (gethostname(host, sizeof(host)) == -1)
		snprintf(host, sizeof(host), "localhost");
	host[sizeof(host) - 1] = '\0';
	snprintf(out, outlen, "%s:%ld", host, (long)getpid());
}

/* sched_reclaim_one - lease_owners callback: unlease owners that are dead processes here */
static void
sched_reclaim_one(const char *owner, void *arg)
{
	char	me[160], host[160];
	char	(*dead)[160] = arg;
	const char *colon = strrchr(owner, ':');
	long long pid;

	sched_owner(me, sizeof(me));
	if (colon == NULL || config_parse_num(colon + 1, 1, 1LL << 31, &pid) == -1)
		return;
	snprintf(host, sizeof(host), "%.*s", (int)(colon - owner), owner);
	if (strncmp(me, host, strlen(host)) != 0 || me[strlen(host)] != ':' ||
	    pid == (long long)getpid())
		return;
	if (kill((pid_t)pid, 0) == -1 && errno == ESRCH) {
		for (int i = 0; i < 16; i++)
			if (dead[i][0] == '\0') {
				snprintf(dead[i], sizeof(dead[i]), "%s", owner);
				break;
			}
	}
}

int
sched_reclaim(struct index *ix)
{
	char	dead[16][160];
	int	n, total = 0;

	memset(dead, 0, sizeof(dead));
	if (index_replay_lease_owners(ix, sched_reclaim_one, dead) != INDEX_OK)
		return 0;
	for (int i = 0; i < 16 && dead[i][0]; i++)
		if (index_replay_unlease_owner(ix, dead[i], &n) == INDEX_OK && n > 0) {
			log_info("- replay reclaim owner=%s messages=%d reason=\"process gone\"",
			    dead[i], n);
			total += n;
		}
	return total;
}

/* sched_wait - wait on cv for at most ms (mu held) */
static void
sched_wait(pthread_cond_t *cv, pthread_mutex_t *mu, int64_t ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	pthread_cond_timedwait(cv, mu, &ts);
}

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
		pthread_cond_signal(&s->done_cv);
	}
	pthread_mutex_unlock(&s->mu);
	free(wa);
	return NULL;
}

/* sched_probe_next - (mu held, released) sleep probe_ms unless stopping; 1 if stopping */
static int
sched_probe_next(struct sched *s)
{
	int stopping;

	if (!s->stopping)
		sched_wait(&s->probe_cv, &s->mu, s->conf->probe_ms);
	stopping = s->stopping;
	pthread_mutex_unlock(&s->mu);
	return stopping;
}

/* sched_probe - probe thread: deliver_connect to the default route every probe_ms */
static void *
sched_probe(void *arg)
{
	struct sched		*s = arg;
	struct deliver_route	 rt;
	struct deliver_conn	*c;
	char			 err[ERRSTR_MAX];
	int			 code, up;

	if (deliver_route_lookup(s->conf->wc.routes, "*", &rt) == -1)
		return NULL;	/* no default route: health stays unknown */
	for (;;) {
		c = deliver_connect(&rt, &s->conf->wc.dopts, &code, err, sizeof(err));
		up = c != NULL;
		deliver_close(c);
		pthread_mutex_lock(&s->mu);
		if (up != s->health && up)
			log_info("- replay primary health=up target=%s", rt.target);
		else if (up != s->health)
			log_warnx("- replay primary health=down target=%s reason=\"%s\"", rt.target,
			    err);
		s->health = up;
		s->healthy_run = up ? s->healthy_run + 1 : 0;
		s->health_ms = now_ms();
		snprintf(s->health_why, sizeof(s->health_why), "%s", up ? "" : err);
		if (sched_probe_next(s))
			break;
	}
	return NULL;
}

struct sched_sprobe_text {
	struct buf	buf;
	int		rc;
};

/* sched_sprobe_key - config_foreach callback: copy [storage], less its deadlines */
static void
sched_sprobe_key(const char *key, const char *value, void *arg)
{
	struct sched_sprobe_text *t = arg;

	if (strcmp(key, "connect_timeout") != 0 && strcmp(key, "timeout") != 0 &&
	    strcmp(key, "retries") != 0)
		t->rc |= buf_printf(&t->buf, "%s = %s\n", key, value);
}

/*
 * sched_sprobe_open - an object store handle for the probe: [storage] as
 * configured (values copied raw, so env: secrets stay in the environment)
 * but one attempt bounded by storage_timeout_s.  A store that accepts TCP
 * and never answers must read as failing within that, not after the
 * minutes of [storage] timeout x retries that an upload may take.
 */
static struct objstore *
sched_sprobe_open(struct sched *s, char *err, size_t errlen)
{
	struct sched_sprobe_text	 t;
	struct config			*cfg;
	struct objstore			*os = NULL;

	buf_init(&t.buf, 64 * 1024);
	t.rc = buf_addstr(&t.buf, "[storage]\n");
	config_foreach(s->conf->wc.cfg, "storage", sched_sprobe_key, &t);
	t.rc |= buf_printf(&t.buf, "connect_timeout = %ds\ntimeout = %ds\nretries = 0\n",
	    s->conf->storage_timeout_s, s->conf->storage_timeout_s);
	t.rc |= buf_add(&t.buf, "", 1);
	if (t.rc != 0 || t.buf.data == NULL)
		snprintf(err, errlen, "[storage] too large to copy");
	else if ((cfg = config_from_string(config_path(s->conf->wc.cfg), t.buf.data, err,
	    errlen)) != NULL) {
		os = objstore_open(cfg, err, errlen);
		config_free(cfg);
	}
	buf_free(&t.buf);
	return os;
}

/* sched_sprobe_once - HEAD <prefix>/healthcheck: an answer (found or not) is healthy */
static int
sched_sprobe_once(struct objstore *os, const char *prefix, char *why, size_t whylen)
{
	enum objstore_status	st;
	char			key[OBJKEY_MAX];

	snprintf(key, sizeof(key), "%s%shealthcheck", prefix, *prefix ? "/" : "");
	st = objstore_head(os, key, NULL, NULL);
	if (st == OBJ_OK || st == OBJ_NOTFOUND) {
		snprintf(why, whylen, "%s answers", objstore_describe(os));
		return 1;
	}
	snprintf(why, whylen, "%s: %s (%s)", objstore_describe(os), objstore_strstatus(st),
	    objstore_error(os));
	return 0;
}

/* sched_sprobe - storage probe thread: sched_sprobe_once every probe_ms */
static void *
sched_sprobe(void *arg)
{
	struct sched	*s = arg;
	struct objstore	*os = NULL;
	const char	*prefix = config_str(s->conf->wc.cfg, "storage", "prefix", "");
	char		 why[ERRSTR_MAX];
	int		 ok;

	for (;;) {
		if (os == NULL && (os = sched_sprobe_open(s, why, sizeof(why))) == NULL)
			ok = 0;
		else
			ok = sched_sprobe_once(os, prefix, why, sizeof(why));
		pthread_mutex_lock(&s->mu);
		if (ok != s->storage && ok)
			log_info("- replay storage health=ok");
		else if (ok != s->storage)
			log_warnx("- replay storage health=failing reason=\"%s\"", why);
		s->storage = ok;
		s->storage_ms = now_ms();
		snprintf(s->storage_why, sizeof(s->storage_why), "%s", why);
		if (sched_probe_next(s))
			break;
	}
	objstore_close(os);
	return NULL;
}

/* sched_ctl_bool - "1"/"yes"/"true" */
static int
sched_ctl_bool(const char *v)
{
	return v && (strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0 ||
	    strcasecmp(v, "true") == 0);
}

struct sched_paused_at {
	const char	*value;
	int64_t		 updated_ms;
};

/* sched_paused_cb - index_stats_control callback: the "paused" row */
static int
sched_paused_cb(const char *key, const char *value, int64_t updated_ms, void *arg)
{
	struct sched_paused_at *p = arg;

	if (strcmp(key, CTL_PAUSED) == 0)
		p->updated_ms = updated_ms;
	return 0;
}

/* sched_sets - write a control value if it changed (each write is an fsync'd commit) */
static void
sched_sets(struct index *ix, const char *key, const char *v, char *last, size_t lastlen)
{
	if (last && strcmp(last, v) == 0)
		return;
	if (index_kv_set(ix, key, v) == INDEX_OK && last)
		snprintf(last, lastlen, "%s", v);
}

/* sched_setf - write a number to the control table, unless last[] already says so */
static void
sched_setf(struct index *ix, const char *key, double v, char *last, size_t lastlen)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%.3f", v);
	sched_sets(ix, key, buf, last, lastlen);
}

/* sched_seti - write a time or count to the control table if it changed */
static void
sched_seti(struct index *ix, const char *key, int64_t v, int64_t *last)
{
	char buf[32];

	if (*last == v)
		return;
	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	if (index_kv_set(ix, key, buf) == INDEX_OK)
		*last = v;
}

/*
 * sched_publish - what serve aims at and achieves, and what its probes
 * found, for status, /status, /metrics and the dashboard.  Values are
 * written only when they changed: each write is a commit.
 */
static void
sched_publish(struct sched *s, struct index *ix, const struct sched_stats *st)
{
	int	health, storage;
	int64_t	health_ms, storage_ms;
	char	health_why[ERRSTR_MAX], storage_why[ERRSTR_MAX];

	pthread_mutex_lock(&s->mu);
	health = s->health;
	health_ms = s->health_ms;
	storage = s->storage;
	storage_ms = s->storage_ms;
	snprintf(health_why, sizeof(health_why), "%s", s->health_why);
	snprintf(storage_why, sizeof(storage_why), "%s", s->storage_why);
	pthread_mutex_unlock(&s->mu);
	sched_setf(ix, CTL_ACHIEVED_RATE, st->achieved, s->last_ach, sizeof(s->last_ach));
	sched_setf(ix, CTL_TARGET_RATE, st->target, s->last_tgt, sizeof(s->last_tgt));
	sched_sets(ix, CTL_PRIMARY_HEALTH, health == 1 ? "up" : health == 0 ? "down" : "unknown",
	    s->last_health, sizeof(s->last_health));
	if (health_ms != s->pub_health_ms) {
		/* the reason first: a reader that sees the new time sees its reason */
		index_kv_set(ix, CTL_PRIMARY_REASON, health_why);
		sched_seti(ix, CTL_PRIMARY_CHECKED, health_ms, &s->pub_health_ms);
	}
	if (storage_ms != s->pub_storage_ms) {
		index_kv_set(ix, CTL_STORAGE_REASON, storage_why);
		sched_sets(ix, CTL_STORAGE_HEALTH, storage == 1 ? "ok" : "failing",
		    s->last_storage, sizeof(s->last_storage));
		sched_seti(ix, CTL_STORAGE_CHECKED, storage_ms, &s->pub_storage_ms);
	}
}

/*
 * sched_control - serve: read paused and rate, publish the figures,
 * autostart.  Each key is read on its own: a key never written (a fresh
 * index has neither) means its default (running; [replay] rate), and a
 * busy index keeps the last decision for that key only.  Returns the paused
 * flag.  *auto_ms is when we paused at start (0: not us).
 */
static int
sched_control(struct sched *s, struct index *ix, struct rate *r, int64_t now,
    struct sched_stats *st, int64_t *auto_ms, int was_paused)
{
	struct sched_conf	*c = s->conf;
	struct sched_paused_at	 pa = { NULL, 0 };
	enum index_status	 ist;
	char			*v = NULL;
	double			 cap = c->rate;
	int			 paused, run;

	if ((ist = index_kv_get(ix, CTL_PAUSED, &v)) == INDEX_OK)
		paused = sched_ctl_bool(v);
	else
		paused = ist == INDEX_NOTFOUND ? 0 : was_paused;
	free(v);
	v = NULL;
	if ((ist = index_kv_get(ix, CTL_RATE, &v)) == INDEX_OK && rate_parse(v, &cap) == -1) {
		log_warnx("- replay control bad rate=\"%s\": keeping %.3f", v, r->cap);
		cap = r->cap;
	} else if (ist != INDEX_OK && ist != INDEX_NOTFOUND)
		cap = r->cap;
	free(v);
	if (cap != r->cap) {
		log_info("- replay rate cap=%.3f", cap);
		rate_set_cap(r, cap, now);
	}
	pthread_mutex_lock(&s->mu);
	run = s->healthy_run;
	pthread_mutex_unlock(&s->mu);
	if (paused && *auto_ms && c->autostart_probes > 0 && run >= c->autostart_probes &&
	    index_stats_control(ix, sched_paused_cb, &pa) == INDEX_OK &&
	    pa.updated_ms == *auto_ms) {
		log_info("- replay autostart healthy_probes=%d", run);
		if (index_kv_set(ix, CTL_PAUSED, "0") == INDEX_OK)
			paused = 0;
		*auto_ms = 0;
	}
	if (paused != was_paused) {
		log_info("- replay %s", paused ? "paused" : "resumed");
		if (!paused)
			rate_restart(r, now);
	}
	st->achieved = rate_achieved(r, now);
	st->target = paused ? 0 : rate_current(r, now);
	sched_publish(s, ix, st);
	return paused;
}

struct sched_purge {
	char	(*ids)[MSGID_MAX];
	int	  n;
};

/* sched_purge_cb - collect ids to purge */
static int
sched_purge_cb(const char *id, void *arg)
{
	struct sched_purge *p = arg;

	snprintf(p->ids[p->n++], MSGID_MAX, "%s", id);
	return p->n >= SCHED_PURGE_BATCH;
}

/*
 * sched_housekeeping - serve, once a minute: backlog sample, retention purge,
 * and forgetting the history of messages purged more than forget_after ago
 * (an archive that stands by for years must not grow without bound).
 */
static void
sched_housekeeping(struct sched *s, struct store *st, int64_t now)
{
	struct index		*ix = store_index(st);
	struct sched_purge	 p;
	enum store_status	 ss;
	int			 n;

	if (index_replay_sample(ix, now) != INDEX_OK)
		log_warnx("- replay sample reason=\"%s\"", index_error(ix));
	if (s->conf->forget_ms > 0) {
		if (index_replay_forget(ix, now - s->conf->forget_ms, SCHED_FORGET_BATCH,
		    &n) != INDEX_OK)
			log_warnx("- replay forget reason=\"%s\"", index_error(ix));
		else if (n > 0)
			log_info("- replay forgot messages=%d purged_before_ms=%lld", n,
			    (long long)(now - s->conf->forget_ms));
	}
	if ((p.ids = calloc(SCHED_PURGE_BATCH, MSGID_MAX)) == NULL)
		return;
	p.n = 0;
	if (index_replay_purgeable(ix, now - s->conf->retention_ms, SCHED_PURGE_BATCH,
	    sched_purge_cb, &p) == INDEX_OK) {
		for (int i = 0; i < p.n; i++) {
			if ((ss = store_purge(st, p.ids[i])) == STORE_OK || ss == STORE_NOTFOUND) {
				index_replay_mark_purged(ix, p.ids[i], now);
				log_info("%s replay purged reason=retention", p.ids[i]);
			}
		}
	}
	free(p.ids);
}

/* sched_collect - take the workers' results: rate feedback and stats */
static void
sched_collect(struct sched *s, struct rate *r, struct sched_stats *st)
{
	struct sched_done	d;
	int64_t			now;

	for (;;) {
		pthread_mutex_lock(&s->mu);
		if (s->ndone == 0) {
			pthread_mutex_unlock(&s->mu);
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
static int
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
static void
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
	sched_collect(s, r, st);
	for (int i = 0; s->workers && i < s->conf->concurrency; i++)
		worker_close(s->workers[i]);
	free(s->workers);
	free(s->threads);
	free(s->q);
	free(s->done);
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
	if (c->use_control && c->start_paused && index_kv_set(ix, CTL_PAUSED, "1") == INDEX_OK)
		s.auto_ms = -1;
	rate_init(&r, c->rate, c->concurrency, c->ramp_s, now_ms());
	if (sched_start(&s) == -1)
		s.failed = 1;
	while (!*stop && !s.failed) {
		sched_collect(&s, &r, st);
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

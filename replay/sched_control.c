/*
 * sched_control.c - serve's side of the control table: reads paused and
 * rate each second, publishes the achieved and target rates and what the
 * probes found (written only when changed: each write is a commit), and
 * resumes a start-paused worker after autostart_probes healthy probes.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <strings.h>

#include "index_replay.h"
#include "index_stats.h"
#include "log.h"
#include "sched_impl.h"

/* sched_ctl_bool - "1"/"yes"/"true" */
static int
sched_ctl_bool(const char *v)
{
	return v && (strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0 ||
	    strcasecmp(v, "true") == 0);
}


/* sched_paused_cb - index_stats_control callback: the "paused" row */
int
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
void
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
int
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

/*
 * sched_housekeep.c - the scheduler's slow duties: once a minute (serve) a
 * backlog sample, the retention purge (deletes the objects of messages
 * delivered longer than retention ago, then marks them purged) and forgetting
 * old history; at start, the reclaim of leases held by dead processes of this
 * host.  A limit that is hit is counted and logged (sched_cap_hit).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "index_replay.h"
#include "index_verify.h"
#include "log.h"
#include "sched_impl.h"

/* dead lease owners of this host found in one pass, at most SCHED_RECLAIM_MAX */
struct sched_dead {
	char	owner[SCHED_RECLAIM_MAX][160];
	int	n;
	int	over;		/* more dead owners than that: left for the next pass */
};

/* sched_reclaim_one - lease_owners callback: unlease owners that are dead processes here */
static void
sched_reclaim_one(const char *owner, void *arg)
{
	char	me[160], host[160];
	struct sched_dead *dead = arg;
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
		if (dead->n < SCHED_RECLAIM_MAX)
			snprintf(dead->owner[dead->n++], sizeof(dead->owner[0]), "%s", owner);
		else
			dead->over++;
	}
}

int
sched_reclaim(struct index *ix)
{
	struct sched_dead dead;
	int		  n, total = 0;

	memset(&dead, 0, sizeof(dead));
	if (index_replay_lease_owners(ix, sched_reclaim_one, &dead) != INDEX_OK)
		return 0;
	for (int i = 0; i < dead.n; i++)
		if (index_replay_unlease_owner(ix, dead.owner[i], &n) == INDEX_OK && n > 0) {
			log_info("- replay reclaim owner=%s messages=%d reason=\"process gone\"",
			    dead.owner[i], n);
			total += n;
		}
	if (dead.over > 0)
		sched_cap_hit(ix, "dead_owners", dead.over, "dead lease owners left for a later"
		    " start (their leases expire meanwhile)", NULL);
	return total;
}

struct sched_purge {
	char	(*ids)[MSGID_MAX];
	char	(*keys)[OBJKEY_MAX];
	int	  n;
};

/* sched_purge_cb - collect ids to purge, with the object key of their row (one read) */
static int
sched_purge_cb(const char *id, const char *key, void *arg)
{
	struct sched_purge *p = arg;

	snprintf(p->ids[p->n], MSGID_MAX, "%s", id);
	snprintf(p->keys[p->n++], OBJKEY_MAX, "%s", key);
	return p->n >= SCHED_PURGE_BATCH;
}

/*
 * sched_housekeeping - serve, once a minute: backlog sample, retention purge,
 * and forgetting the history of messages purged more than forget_after ago
 * (an archive that stands by for years must not grow without bound).
 */
void
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
	p.ids = calloc(SCHED_PURGE_BATCH, MSGID_MAX);
	p.keys = calloc(SCHED_PURGE_BATCH, OBJKEY_MAX);
	if (p.ids == NULL || p.keys == NULL) {
		free(p.ids);
		free(p.keys);
		return;
	}
	p.n = 0;
	if (index_replay_purgeable(ix, now - s->conf->retention_ms, SCHED_PURGE_BATCH,
	    sched_purge_cb, &p) == INDEX_OK) {
		for (int i = 0; i < p.n; i++) {
			if ((ss = store_purge_key(st, p.ids[i], p.keys[i])) == STORE_OK ||
			    ss == STORE_NOTFOUND) {
				index_replay_mark_purged(ix, p.ids[i], now);
				log_info("%s replay purged reason=retention", p.ids[i]);
			}
		}
	}
	free(p.ids);
	free(p.keys);
}

/* sched_cap_hit - see sched_impl.h */
void
sched_cap_hit(struct index *ix, const char *cap, int n, const char *what, int64_t *last_log_ms)
{
	int64_t now = now_ms();

	if (index_counter_add(ix, "replay_cap_hits", cap, n) != INDEX_OK)
		log_warnx("- replay cap=%s counter reason=\"%s\"", cap, index_error(ix));
	if (last_log_ms != NULL && *last_log_ms != 0 && now - *last_log_ms < SCHED_CAP_LOG_MS)
		return;
	if (last_log_ms != NULL)
		*last_log_ms = now;
	log_warnx("- replay cap=%s hit=%d reason=\"%s\"", cap, n, what);
}

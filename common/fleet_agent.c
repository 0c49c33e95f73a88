/*
 * fleet_agent.c - the node side of the fleet: each process (ingest, serve,
 * drain) keeps its heartbeat fresh, the replay roles write their ledger and
 * honour claims on their node.  See fleet.h and docs/storage.md.
 *
 * Entry points: fleet_agent_start/stop/blocked/set_replay/poke,
 * fleet_honour_claims.  The agent runs in a thread of its own (periodic.c:
 * a pass a second on CLOCK_MONOTONIC, at once when poked) with its own object
 * store and index handles, so a slow bucket never holds a mail thread: each
 * bucket call ends within [fleet] call_deadline, a failure is logged once
 * (and its recovery once) and tried again at the next interval.  At stop the
 * thread ends first, then a last pass writes the ledger and an exiting
 * heartbeat from the caller's thread.
 * Claims are read at start (before the caller leases anything), at every
 * heartbeat, and every ledger interval while a claim blocks the replay.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "config.h"
#include "fleet.h"
#include "index.h"
#include "index_fleet.h"
#include "log.h"
#include "periodic.h"
#include "version.h"

#define FLEET_ADOPT_CHUNK	1000	/* ids marked adopted per index transaction */
#define FLEET_TICK_MS		1000

/* what failed last time, so each failure is logged once */
enum fleet_duty { FLEET_D_HB, FLEET_D_LEDGER, FLEET_D_CLAIMS, FLEET_ND };
static const char *const fleet_duty_name[FLEET_ND] = { "heartbeat", "ledger", "claims" };

struct fleet_agent {
	struct fleet		 f;
	struct index		*ix;		/* NULL: figures unknown, no ledger, no claims */
	enum fleet_role		 role;
	struct periodic		 per;
	pthread_mutex_t		 mu;		/* guards the fields below */
	int			 blocked;
	char			 why[ERRSTR_MAX];
	char			 replay[FLEET_WORD_MAX];
	/* agent thread only */
	int64_t			 next_hb, next_ledger, next_claims;	/* mono_ms */
	int			 failing[FLEET_ND];
	int			 kv_unset;	/* fleet_blocked not written yet */
	char			 host[FLEET_HOST_MAX];
};

/* fleet_agent_outcome - log a duty's failure once, and its recovery once */
static void
fleet_agent_outcome(struct fleet_agent *a, enum fleet_duty d, int ok, const char *why)
{
	if (!ok && !a->failing[d])
		log_warnx("- fleet %s failed node=%s role=%s reason=\"%s\" (retried every "
		    "interval)", fleet_duty_name[d], a->f.node, fleet_role_name(a->role), why);
	else if (ok && a->failing[d])
		log_info("- fleet %s recovered node=%s role=%s", fleet_duty_name[d], a->f.node,
		    fleet_role_name(a->role));
	a->failing[d] = !ok;
}

/* the ids of one manifest, gathered in chunks */
struct fleet_adopt {
	struct index	*ix;
	const char	*adopter;
	char		(*ids)[MSGID_MAX];
	size_t		  n;
	int		  changed;
	int		  failed;
};

/* fleet_adopt_chunk - mark the gathered ids adopted */
static int
fleet_adopt_chunk(struct fleet_adopt *ad)
{
	int ch = 0;

	if (ad->n == 0)
		return 0;
	if (index_fleet_adopt(ad->ix, (const char (*)[MSGID_MAX])ad->ids, ad->n, ad->adopter,
	    now_ms(), &ch) != INDEX_OK) {
		ad->failed = 1;
		return -1;
	}
	ad->changed += ch;
	ad->n = 0;
	return 0;
}

/* fleet_adopt_id - fleet_manifest_read callback */
static int
fleet_adopt_id(const char *id, void *arg)
{
	struct fleet_adopt *ad = arg;

	snprintf(ad->ids[ad->n++], MSGID_MAX, "%s", id);
	if (ad->n == FLEET_ADOPT_CHUNK)
		return fleet_adopt_chunk(ad) == -1;
	return 0;
}

/* fleet_honour_one - apply claim c (it has a manifest); 0 or -1 with why */
static int
fleet_honour_one(struct fleet *f, struct index *ix, const struct fleet_claim *c, char *why,
    size_t whylen)
{
	struct fleet_adopt	ad = { ix, c->adopter, NULL, 0, 0, 0 };
	enum objstore_status	st;

	if ((ad.ids = calloc(FLEET_ADOPT_CHUNK, MSGID_MAX)) == NULL) {
		snprintf(why, whylen, "out of memory");
		return -1;
	}
	st = fleet_manifest_read(f, c->node, c->epoch, fleet_adopt_id, &ad);
	if (st == OBJ_OK && !ad.failed)
		(void)fleet_adopt_chunk(&ad);
	free(ad.ids);
	if (st != OBJ_OK) {
		snprintf(why, whylen, "%s", fleet_error(f));
		return -1;
	}
	if (ad.failed || index_fleet_set_epoch(ix, c->epoch) != INDEX_OK) {
		snprintf(why, whylen, "index: %s", index_error(ix));
		return -1;
	}
	log_info("- fleet adopted node=%s epoch=%lld by=%s messages=%d", c->node,
	    (long long)c->epoch, c->adopter, ad.changed);
	return 0;
}

/* fleet_honour_claims - see fleet.h */
int
fleet_honour_claims(struct fleet *f, struct index *ix, char *why, size_t whylen)
{
	struct fleet_claim	*v;
	size_t			 n, i;
	int64_t			 acked;
	int			 rc = 0;

	*why = '\0';
	if (index_fleet_epoch(ix, &acked) != INDEX_OK) {
		snprintf(why, whylen, "index: %s", index_error(ix));
		return -1;
	}
	if (fleet_claims_list(f, f->node, &v, &n) != OBJ_OK) {
		snprintf(why, whylen, "%s", fleet_error(f));
		return -1;
	}
	for (i = 0; i < n && rc == 0; i++) {
		if (v[i].epoch <= acked)
			continue;
		/* a newer claim superseded it: its adopter was lost before it took anything */
		if (!v[i].manifest && i + 1 < n)
			continue;
		if (!v[i].manifest) {
			snprintf(why, whylen, "node %s claimed this node's backlog (epoch %lld) and "
			    "has not written what it took: nothing is delivered until it does "
			    "(adopt in progress, or re-run `mxspool-replay adopt %s` on %s)",
			    v[i].adopter, (long long)v[i].epoch, f->node, v[i].adopter);
			rc = 1;
		} else if (fleet_honour_one(f, ix, &v[i], why, whylen) == -1)
			rc = -1;
	}
	free(v);
	return rc;
}

/* fleet_agent_claims - honour claims; update blocked */
static void
fleet_agent_claims(struct fleet_agent *a)
{
	char	why[ERRSTR_MAX];
	int	rc = fleet_honour_claims(&a->f, a->ix, why, sizeof(why)), changed;

	fleet_agent_outcome(a, FLEET_D_CLAIMS, rc != -1, why);
	if (rc == -1)
		return;		/* unknown: keep the last decision */
	pthread_mutex_lock(&a->mu);
	if (rc == 1 && !a->blocked)
		log_warnx("- fleet blocked node=%s role=%s reason=\"%s\"", a->f.node,
		    fleet_role_name(a->role), why);
	else if (rc == 0 && a->blocked)
		log_info("- fleet unblocked node=%s role=%s", a->f.node, fleet_role_name(a->role));
	changed = a->blocked != (rc == 1) || a->kv_unset;
	a->blocked = rc == 1;
	snprintf(a->why, sizeof(a->why), "%s", rc == 1 ? why : "");
	pthread_mutex_unlock(&a->mu);
	/* status and the dashboard read it from the index */
	if (changed && index_kv_set(a->ix, INDEX_FLEET_BLOCKED_KEY, rc == 1 ? why : "") ==
	    INDEX_OK)
		a->kv_unset = 0;
}

/* fleet_agent_ledger - write what waits for the ledger (whole: only full batches) */
static void
fleet_agent_ledger(struct fleet_agent *a, int whole)
{
	enum objstore_status	st;
	int64_t			n;

	st = whole ? fleet_ledger_flush_whole(&a->f, a->ix, &n) :
	    fleet_ledger_flush(&a->f, a->ix, &n);
	fleet_agent_outcome(a, FLEET_D_LEDGER, st == OBJ_OK, fleet_error(&a->f));
	if (n > 0)
		log_debug("- fleet ledger written node=%s outcomes=%lld", a->f.node, (long long)n);
}

/* fleet_agent_hb - write this process's heartbeat */
static void
fleet_agent_hb(struct fleet_agent *a, int exiting)
{
	struct fleet_hb	hb;
	enum objstore_status st;

	memset(&hb, 0, sizeof(hb));
	snprintf(hb.node, sizeof(hb.node), "%s", a->f.node);
	snprintf(hb.role, sizeof(hb.role), "%s", fleet_role_name(a->role));
	snprintf(hb.version, sizeof(hb.version), "%s", MXS_VERSION);
	snprintf(hb.host, sizeof(hb.host), "%s", a->host);
	hb.pid = getpid();
	hb.updated_ms = now_ms();
	hb.exiting = exiting;
	if (a->ix != NULL) {
		(void)index_fleet_figures(a->ix, &hb.backlog, &hb.oldest_ms, &hb.last_delivery_ms);
		(void)index_fleet_epoch(a->ix, &hb.epoch);
	}
	pthread_mutex_lock(&a->mu);
	snprintf(hb.replay, sizeof(hb.replay), "%s", a->role == FLEET_ROLE_INGEST ? "none" :
	    exiting ? "stopped" : a->blocked ? "blocked" : a->replay);
	pthread_mutex_unlock(&a->mu);
	st = fleet_hb_put(&a->f, &hb);
	fleet_agent_outcome(a, FLEET_D_HB, st == OBJ_OK, fleet_error(&a->f));
}

/* fleet_agent_pass - the duties that are due (all of them when force) */
static void
fleet_agent_pass(struct fleet_agent *a, int force, int exiting)
{
	int64_t	now = mono_ms();
	int	replay = a->role != FLEET_ROLE_INGEST && a->ix != NULL;
	int	blocked;

	if (replay && !exiting && (force || now >= a->next_claims)) {
		fleet_agent_claims(a);
		pthread_mutex_lock(&a->mu);
		blocked = a->blocked;
		pthread_mutex_unlock(&a->mu);
		/* while blocked, look again soon: the manifest may be written any moment */
		a->next_claims = now + (blocked ? a->f.conf.ledger_ms : a->f.conf.heartbeat_ms);
	}
	if (replay && a->f.conf.ledger && (force || now >= a->next_ledger)) {
		fleet_agent_ledger(a, 0);
		a->next_ledger = now + a->f.conf.ledger_ms;
	} else if (replay && a->f.conf.ledger && !a->failing[FLEET_D_LEDGER])
		fleet_agent_ledger(a, 1);	/* a full batch does not wait for the interval */
	if (force || now >= a->next_hb) {
		fleet_agent_hb(a, exiting);
		a->next_hb = now + a->f.conf.heartbeat_ms;
	}
}

/* fleet_agent_tick - the agent thread's tick: the duties due, all of them when poked */
static void
fleet_agent_tick(void *arg, int poked)
{
	fleet_agent_pass(arg, poked, 0);
}

/* fleet_agent_free - handles and memory */
static void
fleet_agent_free(struct fleet_agent *a)
{
	if (a->ix != NULL)
		index_close(a->ix);
	objstore_close(a->f.os);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

/* fleet_ledger_off - [fleet] off: a replay role stops the trigger recording */
static void
fleet_ledger_off(const struct config *cf)
{
	char		 path[1024], err[ERRSTR_MAX];
	struct index	*ix;

	config_index_path(cf, path, sizeof(path));
	if ((ix = index_open_existing(path, err, sizeof(err))) == NULL)
		return;
	if (index_fleet_ledger_enable(ix, 0) != INDEX_OK)
		log_warnx("- fleet ledger off reason=\"%s\"", index_error(ix));
	index_close(ix);
}

/* fleet_agent_start - see fleet.h */
struct fleet_agent *
fleet_agent_start(const struct config *cf, enum fleet_role role, char *err, size_t errlen)
{
	struct fleet_agent	*a;
	struct objstore		*os;
	struct fleet_conf	 c;
	char			 path[1024], why[ERRSTR_MAX];

	*err = '\0';
	fleet_conf_read(cf, &c);
	if (!c.enabled || (role != FLEET_ROLE_INGEST && !c.ledger)) {
		if (role != FLEET_ROLE_INGEST)
			fleet_ledger_off(cf);
		if (!c.enabled)
			return NULL;
	}
	if ((os = objstore_open(cf, err, errlen)) == NULL)
		return NULL;
	if ((a = calloc(1, sizeof(*a))) == NULL) {
		objstore_close(os);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&a->mu, NULL);
	if (fleet_init(&a->f, cf, os, err, errlen) == -1) {
		fleet_agent_free(a);
		return NULL;
	}
	a->role = role;
	a->kv_unset = 1;
	snprintf(a->replay, sizeof(a->replay), "%s", role == FLEET_ROLE_INGEST ? "none" :
	    "running");
	if (gethostname(a->host, sizeof(a->host)) == -1)
		snprintf(a->host, sizeof(a->host), "unknown");
	a->host[sizeof(a->host) - 1] = '\0';
	config_index_path(cf, path, sizeof(path));
	if ((a->ix = index_open_existing(path, why, sizeof(why))) == NULL)
		log_warnx("- fleet index node=%s reason=\"%s\" (heartbeats without figures)",
		    a->f.node, why);
	else if (role != FLEET_ROLE_INGEST && c.ledger &&
	    index_fleet_ledger_enable(a->ix, 1) != INDEX_OK)
		log_warnx("- fleet ledger on reason=\"%s\"", index_error(a->ix));
	fleet_agent_pass(a, 1, 0);	/* the first pass here: claims honoured before any lease */
	if (periodic_start(&a->per, FLEET_TICK_MS, FLEET_TICK_MS, fleet_agent_tick, a) == -1) {
		fleet_agent_free(a);
		snprintf(err, errlen, "fleet: cannot start its thread");
		return NULL;
	}
	return a;
}

/* fleet_agent_blocked - see fleet.h */
int
fleet_agent_blocked(struct fleet_agent *a, char *why, size_t whylen)
{
	int b;

	if (a == NULL)
		return 0;
	pthread_mutex_lock(&a->mu);
	b = a->blocked;
	if (why != NULL && whylen > 0)
		snprintf(why, whylen, "%s", a->why);
	pthread_mutex_unlock(&a->mu);
	return b;
}

/* fleet_agent_set_replay - see fleet.h */
void
fleet_agent_set_replay(struct fleet_agent *a, const char *state)
{
	int changed;

	if (a == NULL)
		return;
	pthread_mutex_lock(&a->mu);
	if ((changed = strcmp(a->replay, state) != 0))
		snprintf(a->replay, sizeof(a->replay), "%s", state);
	pthread_mutex_unlock(&a->mu);
	if (changed)
		periodic_wake(&a->per);	/* tell the fleet now, not in a minute */
}

/* fleet_agent_poke - see fleet.h */
void
fleet_agent_poke(struct fleet_agent *a)
{
	if (a != NULL)
		periodic_wake(&a->per);
}

/* fleet_agent_stop - see fleet.h */
void
fleet_agent_stop(struct fleet_agent *a)
{
	if (a == NULL)
		return;
	periodic_stop(&a->per);
	fleet_agent_pass(a, 1, 1);
	fleet_agent_free(a);
}

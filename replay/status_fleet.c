/*
 * status_fleet.c - the fleet as the heartbeats in the bucket show it, for
 * `status --fleet` (cli_fleet.c), the "fleet" object of /status, the Fleet
 * panel of the dashboard and the mxspool_fleet_* metrics (docs/status.md).
 *
 * Entry points: status_fleet_json() builds the object from fleet_nodes();
 * status_fleet_start() runs a thread that reads the bucket every [fleet]
 * heartbeat_interval with its own store handle (each call bounded by [fleet]
 * call_deadline) and keeps the last object; status_fleet_get() hands a
 * copy of it to the HTTP handlers, which never touch the bucket: a
 * request costs no store call, however often the dashboard asks.
 * A read that fails keeps the last good view and adds "error" and
 * "error_ms"; "checked_ms" says when the view was read.  The thread is a
 * periodic.c one (first read at once, the pause on CLOCK_MONOTONIC).
 * Stopping waits for a read in progress: a hung store fails its first call
 * within call_deadline.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "fleet.h"
#include "log.h"
#include "objstore.h"
#include "periodic.h"
#include "status.h"
#include "status_impl.h"

struct status_fleet {
	struct objstore	*os;
	struct fleet	 f;
	struct periodic	 per;
	pthread_mutex_t	 mu;		/* guards view */
	json_t		*view;		/* the last object built, NULL before the first read */
	char		 lasterr[ERRSTR_MAX];	/* the thread's: each failure logged once */
};

/* status_fleet_time - ms, or null for 0 (none) */
static json_t *
status_fleet_time(int64_t ms)
{
	return ms > 0 ? json_integer(ms) : json_null();
}

/* status_fleet_age - seconds from ms to now, or null for 0 (none) */
static json_t *
status_fleet_age(int64_t now, int64_t ms)
{
	return ms > 0 ? json_integer(now > ms ? (now - ms) / 1000 : 0) : json_null();
}

/* status_fleet_adopted - 1 when a claim on the node is newer than what it acknowledged */
static int
status_fleet_adopted(const struct fleet_node *n)
{
	return n->claim_epoch > 0 && n->claim_epoch > n->epoch;
}

/* status_fleet_node - one node's object */
static json_t *
status_fleet_node(const struct fleet_node *n, int64_t now)
{
	json_t		*o = json_object(), *claim = json_null(), *roles = json_array();
	const char	*p, *e;

	/* "ingest,serve" -> ["ingest", "serve"]; none of a stale node's is known to run */
	for (p = n->stale ? "" : n->roles; *p != '\0'; p = *e ? e + 1 : e) {
		e = p + strcspn(p, ",");
		if (e > p)
			json_array_append_new(roles, json_stringn(p, (size_t)(e - p)));
	}
	if (n->claim_epoch > 0)
		claim = json_pack("{s:I, s:s, s:b, s:b}", "epoch", (json_int_t)n->claim_epoch,
		    "adopter", n->claim_adopter, "manifest", n->claim_manifest,
		    "acknowledged", n->epoch >= n->claim_epoch);
	json_object_set_new(o, "node", status_jstr(n->node));
	json_object_set_new(o, "last_seen_ms", status_fleet_time(n->seen_ms));
	json_object_set_new(o, "last_seen_age_s", status_fleet_age(now, n->seen_ms));
	json_object_set_new(o, "stale", json_boolean(n->stale));
	json_object_set_new(o, "running", roles);
	json_object_set_new(o, "replay", status_jstr(n->replay));
	json_object_set_new(o, "backlog", json_integer(n->backlog));
	json_object_set_new(o, "oldest_ms", status_fleet_time(n->oldest_ms));
	json_object_set_new(o, "oldest_age_s", status_fleet_age(now, n->oldest_ms));
	json_object_set_new(o, "last_delivery_ms", status_fleet_time(n->last_delivery_ms));
	json_object_set_new(o, "epoch", json_integer(n->epoch));
	json_object_set_new(o, "claim", claim ? claim : json_null());
	json_object_set_new(o, "adopted", json_boolean(status_fleet_adopted(n)));
	json_object_set_new(o, "problem", json_boolean(n->problem));
	return o;
}

/* status_fleet_json - see status.h */
json_t *
status_fleet_json(const struct fleet_node *nodes, size_t n, int64_t now, int64_t stale_ms)
{
	json_t	*o = json_object(), *list = json_array();
	int64_t	 total = 0, oldest = 0;
	size_t	 i, problems = 0, stale = 0;

	for (i = 0; i < n; i++) {
		json_array_append_new(list, status_fleet_node(&nodes[i], now));
		stale += nodes[i].stale != 0;
		problems += nodes[i].problem != 0;
		/* an adopted node's last count is in its adopter's now: never twice */
		if (status_fleet_adopted(&nodes[i]))
			continue;
		total += nodes[i].backlog;
		if (nodes[i].oldest_ms > 0 && (oldest == 0 || nodes[i].oldest_ms < oldest))
			oldest = nodes[i].oldest_ms;
	}
	json_object_set_new(o, "checked_ms", json_integer(now));
	json_object_set_new(o, "stale_after_s", json_integer(stale_ms / 1000));
	json_object_set_new(o, "nodes_total", json_integer((json_int_t)n));
	json_object_set_new(o, "nodes_stale", json_integer((json_int_t)stale));
	json_object_set_new(o, "problems", json_integer((json_int_t)problems));
	json_object_set_new(o, "backlog", json_integer(total));
	json_object_set_new(o, "oldest_ms", status_fleet_time(oldest));
	json_object_set_new(o, "oldest_age_s", status_fleet_age(now, oldest));
	json_object_set_new(o, "nodes", list);
	return o;
}

/* status_fleet_read - the tick: one read of the bucket into sf->view (last good one kept) */
static void
status_fleet_read(void *arg, int woken)
{
	struct status_fleet	*sf = arg;
	struct fleet_node	*nodes = NULL;
	size_t			 n = 0;
	int64_t			 now = now_ms();
	json_t			*v;

	if (fleet_nodes(&sf->f, now, &nodes, &n) == OBJ_OK) {
		if (sf->lasterr[0] != '\0')
			log_info("- status fleet view=ok nodes=%zu", n);
		sf->lasterr[0] = '\0';
		v = status_fleet_json(nodes, n, now, sf->f.conf.stale_ms);
	} else {
		if (strcmp(sf->lasterr, fleet_error(&sf->f)) != 0)
			log_warnx("- status fleet view=failing reason=\"%s\"", fleet_error(&sf->f));
		snprintf(sf->lasterr, sizeof(sf->lasterr), "%s", fleet_error(&sf->f));
		pthread_mutex_lock(&sf->mu);
		v = sf->view ? json_deep_copy(sf->view) : json_object();
		pthread_mutex_unlock(&sf->mu);
		if (v != NULL) {
			json_object_set_new(v, "error", json_string(sf->lasterr));
			json_object_set_new(v, "error_ms", json_integer(now));
		}
	}
	free(nodes);
	if (v == NULL)
		return;
	pthread_mutex_lock(&sf->mu);
	json_decref(sf->view);
	sf->view = v;
	pthread_mutex_unlock(&sf->mu);
}

/* status_fleet_start - see status_impl.h */
struct status_fleet *
status_fleet_start(const struct config *cfg)
{
	struct status_fleet	*sf;
	char			 err[ERRSTR_MAX];
	int			 started = 0;

	if ((sf = calloc(1, sizeof(*sf))) == NULL)
		return NULL;
	pthread_mutex_init(&sf->mu, NULL);
	if ((sf->os = objstore_open(cfg, err, sizeof(err))) == NULL ||
	    fleet_init(&sf->f, cfg, sf->os, err, sizeof(err)) == -1)
		log_warnx("- status fleet view=off reason=\"%s\"", err);
	else if (sf->f.conf.enabled) {
		/* the first read at once, then one every heartbeat interval */
		started = periodic_start(&sf->per, 0, sf->f.conf.heartbeat_ms, status_fleet_read,
		    sf) == 0;
		if (!started)
			log_warnx("- status fleet view=off reason=\"cannot start the thread\"");
	}
	if (!started) {
		status_fleet_stop(sf);	/* no thread: it only frees */
		return NULL;
	}
	return sf;
}

/* status_fleet_get - see status_impl.h */
json_t *
status_fleet_get(struct status_fleet *sf)
{
	json_t *v;

	if (sf == NULL)
		return json_null();
	pthread_mutex_lock(&sf->mu);
	/* a copy: the handler adds it to its document while this thread may replace it */
	v = sf->view ? json_deep_copy(sf->view) : json_null();
	pthread_mutex_unlock(&sf->mu);
	return v;
}

/* status_fleet_stop - see status_impl.h */
void
status_fleet_stop(struct status_fleet *sf)
{
	if (sf == NULL)
		return;
	periodic_stop(&sf->per);
	pthread_mutex_destroy(&sf->mu);
	json_decref(sf->view);
	objstore_close(sf->os);
	free(sf);
}

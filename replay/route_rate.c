/*
 * route_rate.c - per-route rate caps shared by the workers (see route_rate.h).
 *
 * One mutex over a small table; a worker only holds it for the arithmetic of
 * rate.c and sleeps outside it.  Entries are fixed after load.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "deliver.h"
#include "msgid.h"
#include "rate.h"
#include "route_rate.h"

#define ROUTE_RATE_MAX		64	/* capped targets */
#define ROUTE_RATE_SLOTS	(1 << 20)	/* concurrency is the global cap's business */

struct route_rate_entry {
	char		target[300];
	struct rate	r;
};

struct route_rate {
	pthread_mutex_t		mu;
	struct route_rate_entry	e[ROUTE_RATE_MAX];
	int			n;
	double			ramp_s;
	char			*err;
	size_t			 errlen;
	const struct deliver_routes *routes;
};

/* route_rate_add - config_foreach callback: one [route_rates] key */
static void
route_rate_add(const char *key, const char *value, void *arg)
{
	struct route_rate	*t = arg;
	struct deliver_route	 rt;
	double			 cap;
	int			 i;

	if (t->err[0])
		return;
	if (rate_parse(value, &cap) == -1 || cap <= 0) {
		snprintf(t->err, t->errlen, "[route_rates] %s = %s: want messages/s > 0 (2, 0.5,"
		    " 120/m)", key, value);
		return;
	}
	if (deliver_route_lookup(t->routes, key, &rt) == -1) {
		snprintf(t->err, t->errlen, "[route_rates] %s: no [routes] entry for it", key);
		return;
	}
	for (i = 0; i < t->n && strcmp(t->e[i].target, rt.target) != 0; i++)
		;
	if (i == ROUTE_RATE_MAX) {
		snprintf(t->err, t->errlen, "[route_rates]: more than %d targets", ROUTE_RATE_MAX);
		return;
	}
	if (i == t->n) {
		snprintf(t->e[i].target, sizeof(t->e[i].target), "%s", rt.target);
		t->n++;
	}
	rate_init(&t->e[i].r, cap, ROUTE_RATE_SLOTS, t->ramp_s, now_ms());
}

struct route_rate *
route_rate_load(const struct config *cfg, const struct deliver_routes *routes, double ramp_s,
    char *err, size_t errlen)
{
	struct route_rate *t;

	err[0] = '\0';
	if ((t = calloc(1, sizeof(*t))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	t->ramp_s = ramp_s;
	t->err = err;
	t->errlen = errlen;
	t->routes = routes;
	config_foreach(cfg, "route_rates", route_rate_add, t);
	if (err[0] || t->n == 0) {
		free(t);
		return NULL;
	}
	pthread_mutex_init(&t->mu, NULL);
	return t;
}

void
route_rate_free(struct route_rate *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->mu);
	free(t);
}

/* route_rate_find - the entry of target or NULL (table fixed after load: no lock needed) */
static struct route_rate_entry *
route_rate_find(struct route_rate *t, const char *target)
{
	for (int i = 0; t && i < t->n; i++)
		if (strcmp(t->e[i].target, target) == 0)
			return &t->e[i];
	return NULL;
}

void
route_rate_wait(struct route_rate *t, const char *target)
{
	struct route_rate_entry	*e = route_rate_find(t, target);
	int64_t			 wait;
	int			 ok;

	while (e != NULL) {
		pthread_mutex_lock(&t->mu);
		ok = rate_acquire(&e->r, now_ms(), &wait);
		pthread_mutex_unlock(&t->mu);
		if (ok)
			return;
		usleep((useconds_t)(wait > 0 && wait < 1000 ? wait : 1000) * 1000);
	}
}

void
route_rate_done(struct route_rate *t, const char *target, int congested)
{
	struct route_rate_entry *e = route_rate_find(t, target);

	if (e == NULL)
		return;
	pthread_mutex_lock(&t->mu);
	rate_release(&e->r, now_ms(), congested ? RATE_CONGESTED : RATE_OK);
	pthread_mutex_unlock(&t->mu);
}

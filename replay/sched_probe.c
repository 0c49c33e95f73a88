/*
 * sched_probe.c - the scheduler's probe threads (serve): one connects to the
 * default route every probe_ms with the delivery client (deliver_connect:
 * greeting, EHLO, STARTTLS, AUTH as a delivery would) and keeps the
 * primary's health (smtpc_health, changing on each result; also for
 * autostart); the other asks the object store for a key, with its own handle
 * and short deadlines, and keeps the storage health.  They write their
 * findings to struct sched under s->mu; only the scheduler thread publishes
 * them (sched_control.c).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "store.h"
#include "config.h"
#include "deliver.h"
#include "log.h"
#include "objstore.h"
#include "sched_impl.h"
#include "smtpc_health.h"

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
void *
sched_probe(void *arg)
{
	struct sched		*s = arg;
	struct deliver_route	 rt;
	struct deliver_conn	*c;
	struct smtpc_health	 h;
	enum smtpc_health_state	 old;
	char			 err[ERRSTR_MAX];
	int			 code, up;

	if (deliver_route_lookup(s->conf->wc.routes, "*", &rt) == -1)
		return NULL;	/* no default route: health stays unknown */
	smtpc_health_init(&h, 1, 1);
	for (;;) {
		c = deliver_connect(&rt, &s->conf->wc.dopts, &code, err, sizeof(err));
		up = c != NULL;
		deliver_close(c);
		pthread_mutex_lock(&s->mu);
		old = smtpc_health_note(&h, up);
		if (h.state != old && up)
			log_info("- replay primary health=up target=%s", rt.target);
		else if (h.state != old)
			log_warnx("- replay primary health=down target=%s reason=\"%s\"", rt.target,
			    err);
		s->health = up;
		s->healthy_run = h.good;
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
void *
sched_sprobe(void *arg)
{
	struct sched	*s = arg;
	struct objstore	*os = NULL;
	const char	*prefix = store_conf_prefix(s->conf->wc.cfg);
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

/*
 * monitor.c - monitoring mode: probe the primary in the background.
 *
 * Entry points: monitor_start(), monitor_primary_healthy(), monitor_probes(),
 * monitor_stop().  One thread probes [ingest] monitor = smtp://host:port
 * every monitor_interval (connect, 220, EHLO, QUIT: smtpc_probe()) and
 * keeps a health state with hysteresis (smtpc_health.c): unknown at start,
 * healthy after monitor_healthy_after consecutive good probes, unhealthy after
 * monitor_unhealthy_after consecutive bad ones.  Unknown counts as not
 * healthy: the gateway then accepts mail, which is the safe side (a
 * message taken needlessly is replayed; a message deferred while the
 * primary is down is delayed).  Transitions are logged once each.  The
 * thread is a periodic.c one: the first probe at once, the pause on
 * CLOCK_MONOTONIC, ended at once by monitor_stop().
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "limits.h"
#include "log.h"
#include "periodic.h"
#include "rcpt_verify.h"
#include "route.h"
#include "smtpc.h"
#include "smtpc_health.h"

struct monitor {
	struct deliver_route	 target;
	char			 helo[256];
	long long		 interval_ms;
	int			 timeout_ms;
	struct periodic		 per;
	pthread_mutex_t		 mu;	/* guards health */
	struct smtpc_health	 health;
};

/* monitor_update - one probe result into the hysteresis; under m->mu */
static void
monitor_update(struct monitor *m, int ok, const char *why)
{
	enum smtpc_health_state old = smtpc_health_note(&m->health, ok);

	if (m->health.state != old)
		log_info("- monitor primary %s -> %s target=%s:%d%s%s%s", smtpc_health_name(old),
		    smtpc_health_name(m->health.state), m->target.host, m->target.port,
		    ok ? "" : " why=\"", ok ? "" : why, ok ? "" : "\"");
}

/* monitor_probe - the tick: one probe, its result into the health state */
static void
monitor_probe(void *arg, int woken)
{
	struct monitor	*m = arg;
	char		 why[ERRSTR_MAX] = "";
	int		 ok;

	ok = smtpc_probe(&m->target, m->helo, m->timeout_ms, why, sizeof(why)) == 0;
	pthread_mutex_lock(&m->mu);
	monitor_update(m, ok, why);
	pthread_mutex_unlock(&m->mu);
}

/* monitor_start - start probing when [ingest] monitor is set; NULL if off or bad */
struct monitor *
monitor_start(const struct config *cfg, char *err, size_t errlen)
{
	struct monitor		*m;
	const char		*url;
	long long		 iv, to, up, down;

	err[0] = '\0';
	if ((url = config_str(cfg, "ingest", "monitor", NULL)) == NULL || *url == '\0')
		return NULL;
	/* the file passed config_check(): these getters do not fail */
	iv = config_duration(cfg, "ingest", "monitor_interval", 30, 1, 86400);
	to = config_duration(cfg, "ingest", "monitor_timeout", 10, 1, 3600);
	up = config_num(cfg, "ingest", "monitor_healthy_after", 3, 1, 1000);
	down = config_num(cfg, "ingest", "monitor_unhealthy_after", 2, 1, 1000);
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		snprintf(err, errlen, "monitor: out of memory");
		return NULL;
	}
	if (route_parse_smtp(url, &m->target) == -1) {
		snprintf(err, errlen, "%s: [ingest] monitor = \"%s\": want smtp://host[:port] "
		    "(port 1-65535)", config_path(cfg), url);
		free(m);
		return NULL;
	}
	/* unset: "" and smtpc_hello says this host's name */
	snprintf(m->helo, sizeof(m->helo), "%s", config_str(cfg, "ingest", "hostname", ""));
	m->interval_ms = iv * 1000;
	m->timeout_ms = (int)to * 1000;
	smtpc_health_init(&m->health, (int)up, (int)down);
	pthread_mutex_init(&m->mu, NULL);
	if (periodic_start(&m->per, 0, m->interval_ms, monitor_probe, m) == -1) {
		snprintf(err, errlen, "monitor: thread: %s", strerror(errno));
		monitor_stop(m);	/* no thread: it only frees */
		return NULL;
	}
	log_info("- monitor start target=%s:%d interval=%llds healthy_after=%d "
	    "unhealthy_after=%d", m->target.host, m->target.port, iv, m->health.up_after,
	    m->health.down_after);
	return m;
}

long long
monitor_period_ms(const struct monitor *m)
{
	return m->interval_ms + m->timeout_ms;
}

/* monitor_snapshot - m's health as of now (a copy taken under m->mu) */
struct smtpc_health
monitor_snapshot(struct monitor *m)
{
	struct smtpc_health h;

	pthread_mutex_lock(&m->mu);
	h = m->health;
	pthread_mutex_unlock(&m->mu);
	return h;
}

/* monitor_primary_healthy - 1 healthy, 0 unhealthy or not known yet (or m NULL) */
int
monitor_primary_healthy(struct monitor *m)
{
	return m != NULL && monitor_snapshot(m).state == SMTPC_HEALTH_UP;
}

/* monitor_probes - probes completed so far */
long
monitor_probes(struct monitor *m)
{
	return m != NULL ? monitor_snapshot(m).probes : 0;
}

/* monitor_stop - stop the thread (waits for a probe in progress) and free m */
void
monitor_stop(struct monitor *m)
{
	if (m == NULL)
		return;
	periodic_stop(&m->per);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

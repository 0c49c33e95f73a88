/*
 * check_serve.c - serve's readiness refresh: `check` on a schedule, its
 * report kept in the index for the dashboard and /metrics.
 *
 * Entry points: check_serve_start() (a thread; NULL when [replay]
 * check_interval = 0), check_serve_stop(), check_serve_worst() for the
 * metrics (worst status per check and domain: Prometheus wants one series
 * per label set, and a check may have several results, one per gateway).
 * The report is the JSON of check_report_json() plus "checked_ms", written to
 * the control table under CHECK_KV_KEY; a run that cannot start (bad
 * [check]/[dns]) stores {"error": why, "checked_ms": ..} and logs once per
 * change.  The first run starts at once; each run opens its own index handle.
 * Off unless [replay] check_interval is set: a run talks to DNS, the gateway,
 * the store and the primary, which an operator enables knowingly (the example
 * config and `make run` set 1h).  The thread is a periodic.c one: the pause
 * between runs is on CLOCK_MONOTONIC (a wall-clock step neither skips nor
 * repeats a run) and ends at once when serve stops; a run in progress is told
 * to stop too (periodic_stop_flag() is check_run's stop flag: its DNS waits
 * end and no further area starts), so stopping waits at most for the one
 * connection step under way, bounded by [check] timeout.
 */
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "config.h"
#include "msgid.h"
#include "index.h"
#include "log.h"
#include "check.h"
#include "periodic.h"

#define CHECK_INTERVAL_DEFAULT	0	/* [replay] check_interval, seconds: off unless set */

struct check_serve {
	const struct config	*cfg;
	struct periodic		 per;
	char			 lasterr[ERRSTR_MAX];	/* the thread's: each failure logged once */
};

/* check_serve_once - the tick: one run, its report stored */
static void
check_serve_once(void *arg, int woken)
{
	struct check_serve	*cs = arg;
	struct check_report	 rep;
	struct index		*ix;
	char			 err[ERRSTR_MAX], path[CONFIG_PATH_MAX + 1];
	json_t			*j;
	char			*s;

	if (check_run(cs->cfg, NULL, periodic_stop_flag(&cs->per), &rep, err, sizeof(err)) != 0) {
		if (periodic_stopping(&cs->per))
			return;		/* serve is stopping: keep the last complete report */
		if (strcmp(err, cs->lasterr) != 0)
			log_warnx("- replay check failed reason=\"%s\"", err);
		snprintf(cs->lasterr, sizeof(cs->lasterr), "%s", err);
		j = json_pack("{s:s}", "error", err);
	} else {
		cs->lasterr[0] = '\0';
		j = check_report_json(&rep);
		log_info("- replay check status=%s results=%zu", check_status_name(
		    check_report_worst(&rep)), rep.n);
		check_report_free(&rep);
	}
	json_object_set_new(j, "checked_ms", json_integer(now_ms()));
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	config_index_path(cs->cfg, path, sizeof(path));
	if (s && (ix = index_open_existing(path, err, sizeof(err))) != NULL) {
		index_kv_set(ix, CHECK_KV_KEY, s);
		index_close(ix);
	}
	free(s);
}

void
check_serve_stop(struct check_serve *cs)
{
	if (cs == NULL)
		return;
	periodic_stop(&cs->per);
	free(cs);
}

struct check_serve *
check_serve_start(const struct config *cfg)
{
	struct check_serve	*cs;
	long long		 interval;

	interval = config_duration(cfg, "replay", "check_interval", CHECK_INTERVAL_DEFAULT, 0,
	    7 * 86400);
	if (interval == 0 || (cs = calloc(1, sizeof(*cs))) == NULL)
		return NULL;
	cs->cfg = cfg;
	/* the first run at once, then one every interval */
	if (periodic_start(&cs->per, 0, interval * 1000, check_serve_once, cs) == -1) {
		log_warnx("- replay check reason=\"cannot start the thread\"");
		check_serve_stop(cs);	/* no thread: it only frees */
		return NULL;
	}
	return cs;
}

int
check_serve_worst(json_t *report, void (*fn)(const char *check, const char *domain,
    int status, void *), void *arg)
{
	json_t		*a = json_object_get(report, "checks"), *r, *o;
	size_t		 i, k;
	static const char *const names[] = { "pass", "warn", "fail" };

	if (!json_is_array(a))
		return -1;
	json_array_foreach(a, i, r) {
		const char	*c = json_string_value(json_object_get(r, "check"));
		const char	*d = json_string_value(json_object_get(r, "domain"));
		int		 st = -1, dup = 0;

		for (int n = 0; n < 3; n++)
			if (json_is_string(json_object_get(r, "status")) && strcmp(names[n],
			    json_string_value(json_object_get(r, "status"))) == 0)
				st = n;
		if (c == NULL || d == NULL || st < 0)
			continue;
		/* the first result of a (check, domain) speaks for all: take their worst */
		json_array_foreach(a, k, o) {
			const char *c2 = json_string_value(json_object_get(o, "check"));
			const char *d2 = json_string_value(json_object_get(o, "domain"));
			const char *s2 = json_string_value(json_object_get(o, "status"));

			if (c2 == NULL || d2 == NULL || s2 == NULL || strcmp(c, c2) != 0 ||
			    strcmp(d, d2) != 0)
				continue;
			if (k < i) {
				dup = 1;
				break;
			}
			for (int n = 0; n < 3; n++)
				if (strcmp(s2, names[n]) == 0 && n > st)
					st = n;
		}
		if (!dup)
			fn(c, d, st, arg);
	}
	return 0;
}

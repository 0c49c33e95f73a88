/*
 * status_json.c - the GET /status document (jansson), see docs/status.md.
 *
 * Entry point: status_json_build().  It reads the index through
 * index_stats.h only (one read snapshot per figure group) and the control
 * table; nothing is written.  Ages are in seconds relative to now_ms, times
 * in milliseconds since the epoch; a figure that is unknown (no message, a
 * control key never written) is JSON null, never a made-up 0.
 * Strings from the index (domains, reply texts) may hold any bytes: they go
 * through status_jstr(), which never yields invalid UTF-8.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "check.h"
#include "index_drill.h"
#include "index_stats.h"
#include "queue_state.h"
#include "rate.h"
#include "status.h"
#include "status_impl.h"

/* status_jstr - a JSON string of s; bytes that are not UTF-8 become '?' */
json_t *
status_jstr(const char *s)
{
	json_t	*j;
	char	*c;
	size_t	 i;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	if ((c = strdup(s)) == NULL)
		return NULL;
	for (i = 0; c[i] != '\0'; i++)
		if ((unsigned char)c[i] >= 0x80)
			c[i] = '?';
	j = json_string(c);
	free(c);
	return j;
}

/* status_jset - obj[key] = v; a failed allocation surfaces as a missing key, not a crash */
static void
status_jset(json_t *obj, const char *key, json_t *v)
{
	json_object_set_new(obj, key, v);
}

/* status_jtime - a time in ms, or null for 0 (none) */
static json_t *
status_jtime(int64_t ms)
{
	return ms > 0 ? json_integer(ms) : json_null();
}

/* status_jage - seconds from t_ms to now_ms, or null when t_ms is 0 (none) */
static json_t *
status_jage(int64_t now_ms, int64_t t_ms)
{
	if (t_ms <= 0)
		return json_null();
	return json_integer(now_ms > t_ms ? (now_ms - t_ms) / 1000 : 0);
}

/* status_json_class - "2xx" "4xx" "5xx" or "none" (no reply) for a reply code */
const char *
status_json_class(int code)
{
	if (code >= 200 && code < 300)
		return "2xx";
	if (code >= 400 && code < 500)
		return "4xx";
	if (code >= 500 && code < 600)
		return "5xx";
	return code == 0 ? "none" : "other";
}

/* status_json_buckets - the age histogram, qshape's buckets, with labels for charts */
static json_t *
status_json_buckets(const int64_t *counts)
{
	json_t	*a = json_array(), *b;
	char	 label[32];
	int	 i, lo = 0;

	for (i = 0; i < INDEX_STATS_NBUCKETS; i++) {
		b = json_object();
		status_jset(b, "min_minutes", json_integer(lo));
		if (i < INDEX_STATS_NBUCKETS - 1) {
			status_jset(b, "max_minutes", json_integer(index_stats_bucket_max[i]));
			snprintf(label, sizeof(label), "%d-%dm", lo, index_stats_bucket_max[i]);
			lo = index_stats_bucket_max[i];
		} else {
			status_jset(b, "max_minutes", json_null());
			snprintf(label, sizeof(label), "%dm+", lo);
		}
		status_jset(b, "label", json_string(label));
		status_jset(b, "count", json_integer(counts[i]));
		json_array_append_new(a, b);
	}
	return a;
}

/* status_json_states - states[state] = {messages, bytes} */
static int
status_json_states(const char *state, int64_t messages, int64_t bytes, void *arg)
{
	json_t *o = json_object();

	status_jset(o, "messages", json_integer(messages));
	status_jset(o, "bytes", json_integer(bytes));
	json_object_set_new(arg, state ? state : "", o);
	return 0;
}

struct status_json_domains {
	json_t	*list;
	int64_t	 now_ms;
};

/* status_json_domains - one row of the per-domain table */
static int
status_json_domains(const struct index_stats_domain *d, void *arg)
{
	struct status_json_domains	*a = arg;
	json_t			*o = json_object(), *b = json_array();
	int			 i;

	status_jset(o, "domain", status_jstr(d->domain));
	status_jset(o, "recipients", json_integer(d->recipients));
	status_jset(o, "messages", json_integer(d->messages));
	status_jset(o, "oldest_received_ms", status_jtime(d->oldest_ms));
	status_jset(o, "oldest_age_s", status_jage(a->now_ms, d->oldest_ms));
	for (i = 0; i < INDEX_STATS_NBUCKETS; i++)
		json_array_append_new(b, json_integer(d->buckets[i]));
	status_jset(o, "buckets", b);
	json_array_append_new(a->list, o);
	return 0;
}

struct status_json_errs {
	json_t	*by_target;
	json_t	*by_code;	/* code (text) -> {count, last_ms, last_text} */
	int64_t	 total;
};

/* status_json_errors - one (target, code) group of failed attempts */
static int
status_json_error_row(const char *target, int code, int64_t count, int64_t last_ms,
    const char *text, void *arg)
{
	struct status_json_errs	*a = arg;
	json_t			*o = json_object(), *c;
	char			 key[16];

	status_jset(o, "target", status_jstr(target));
	status_jset(o, "code", json_integer(code));
	status_jset(o, "class", json_string(status_json_class(code)));
	status_jset(o, "count", json_integer(count));
	status_jset(o, "last_ms", status_jtime(last_ms));
	status_jset(o, "last_text", status_jstr(text));
	json_array_append_new(a->by_target, o);
	a->total += count;

	snprintf(key, sizeof(key), "%d", code);
	if ((c = json_object_get(a->by_code, key)) == NULL) {
		c = json_object();
		status_jset(c, "code", json_integer(code));
		status_jset(c, "class", json_string(status_json_class(code)));
		status_jset(c, "count", json_integer(0));
		status_jset(c, "last_ms", json_integer(0));
		json_object_set_new(a->by_code, key, c);
	}
	status_jset(c, "count", json_integer(json_integer_value(json_object_get(c, "count")) +
	    count));
	if (last_ms >= json_integer_value(json_object_get(c, "last_ms"))) {
		status_jset(c, "last_ms", json_integer(last_ms));
		status_jset(c, "last_text", status_jstr(text));
	}
	return 0;
}

/* status_json_errors - failed attempts of the window, by code (most first) and by target */
static json_t *
status_json_errors(struct status_server *srv, int64_t now_ms, int *failed)
{
	struct status_json_errs	 a = { json_array(), json_object(), 0 };
	json_t			*o = json_object(), *codes = json_array(), *v;
	const char		*k;
	size_t			 i, j;

	if (index_stats_errors(srv->idx, now_ms - srv->error_window_ms, status_json_error_row,
	    &a) !=
	    INDEX_OK)
		*failed = 1;
	json_object_foreach(a.by_code, k, v)
		json_array_append(codes, v);
	/* a handful of codes: insertion sort by count, descending */
	for (i = 1; i < json_array_size(codes); i++)
		for (j = i; j > 0 && json_integer_value(json_object_get(json_array_get(codes,
		    j), "count")) > json_integer_value(json_object_get(json_array_get(codes,
		    j - 1), "count")); j--) {
			v = json_incref(json_array_get(codes, j));
			json_array_set(codes, j, json_array_get(codes, j - 1));
			json_array_set_new(codes, j - 1, v);
		}
	json_decref(a.by_code);
	status_jset(o, "window_s", json_integer(srv->error_window_ms / 1000));
	status_jset(o, "total", json_integer(a.total));
	status_jset(o, "by_code", codes);
	status_jset(o, "by_target", a.by_target);
	return o;
}

struct status_json_ctrs {
	json_t	*list;
	json_t	*rejected;
	int64_t	 accepted, rejected_total, storage_errors;
};

/* status_json_counters - the raw list, plus the ingest and storage figures by name */
static int
status_json_counters(const char *name, const char *label, int64_t value, void *arg)
{
	struct status_json_ctrs	*a = arg;
	json_t			*o = json_object();

	name = name ? name : "";
	label = label ? label : "";
	status_jset(o, "name", status_jstr(name));
	status_jset(o, "label", status_jstr(label));
	status_jset(o, "value", json_integer(value));
	json_array_append_new(a->list, o);
	if (strcmp(name, "ingest_accepted") == 0)
		a->accepted += value;
	else if (strcmp(name, "ingest_rejected") == 0) {
		a->rejected_total += value;
		json_object_set_new(a->rejected, *label ? label : "unspecified",
		    json_integer(value));
	} else if (strcmp(name, "storage_errors") == 0)
		a->storage_errors += value;
	return 0;
}

/* status_json_control - control[key] = value */
static int
status_json_control(const char *key, const char *value, int64_t updated_ms, void *arg)
{
	/* the readiness report has its own member ("readiness"), parsed */
	if (key != NULL && strcmp(key, CHECK_KV_KEY) != 0)
		json_object_set_new(arg, key, status_jstr(value ? value : ""));
	return 0;
}

/* status_json_samples - one point of the backlog chart */
static int
status_json_samples(int64_t at_ms, int64_t messages, int64_t bytes, int64_t oldest_ms, void *arg)
{
	json_t *o = json_object();

	status_jset(o, "at_ms", json_integer(at_ms));
	status_jset(o, "messages", json_integer(messages));
	status_jset(o, "bytes", json_integer(bytes));
	status_jset(o, "oldest_received_ms", status_jtime(oldest_ms));
	json_array_append_new(arg, o);
	return 0;
}

/* status_jreal - a rate as a JSON number: an integer when it is one */
static json_t *
status_jreal(double d)
{
	return d == floor(d) && fabs(d) < 9e15 ? json_integer((json_int_t)d) : json_real(d);
}

/* status_jtext - a published text, null when never written */
static json_t *
status_jtext(const char *v)
{
	return *v != '\0' ? status_jstr(v) : json_null();
}

/*
 * status_json_replay - drain state from the control table: the operator's
 * limit (control "rate", else [replay] rate), and what serve last published:
 * its current target (slow start, backoff; 0 while paused), the rate it
 * achieved over RATE_WINDOW_S, and its probe of the primary.
 */
json_t *
status_json_replay(const struct index_stats_replay *rp, double config_rate)
{
	json_t	*o = json_object();
	double	 d;

	status_jset(o, "paused", json_boolean(rp->paused));
	/* "600/m" is as valid as "10": report what serve makes of it, in msgs/s */
	if (*rp->rate != '\0' && rate_parse(rp->rate, &d) == 0)
		status_jset(o, "rate_limit_source", json_string("control"));
	else {
		d = config_rate;
		status_jset(o, "rate_limit_source", json_string("config"));
	}
	status_jset(o, "rate_limit", d < 0 ? json_null() : status_jreal(d));
	status_jset(o, "target_rate", rp->has_target ? status_jreal(rp->target) : json_null());
	status_jset(o, "achieved_rate", rp->has_achieved ? status_jreal(rp->achieved) :
	    json_null());
	status_jset(o, "achieved_window_s", json_integer(RATE_WINDOW_S));
	status_jset(o, "rate_unit", json_string("messages/s"));
	status_jset(o, "primary_health", status_jtext(rp->primary));
	status_jset(o, "primary_checked_ms", status_jtime(rp->primary_checked_ms));
	status_jset(o, "primary_reason", status_jtext(rp->primary_reason));
	return o;
}

/* status_json_storage - the object store as serve's probe last found it */
json_t *
status_json_storage(const struct index_stats_replay *rp, int64_t errors)
{
	json_t *o = json_object();

	status_jset(o, "health", status_jtext(rp->storage));
	status_jset(o, "checked_ms", status_jtime(rp->storage_checked_ms));
	status_jset(o, "reason", status_jtext(rp->storage_reason));
	if (errors >= 0)
		status_jset(o, "errors", json_integer(errors));
	return o;
}

/*
 * status_json_readiness - serve's last `check` report ({status, checks[],
 * checked_ms} or {error, checked_ms}; null before the first run) and the drill
 * canaries still in the index (counted apart from mail).
 */
static json_t *
status_json_readiness(struct status_server *srv)
{
	json_t	*o = json_object(), *rep = NULL;
	char	*v = NULL;
	int64_t	 n = 0;

	if (index_kv_get(srv->idx, CHECK_KV_KEY, &v) == INDEX_OK && v != NULL)
		rep = json_loads(v, 0, NULL);
	free(v);
	status_jset(o, "report", rep ? rep : json_null());
	index_drill_count(srv->idx, &n);
	status_jset(o, "drill_canaries", json_integer(n));
	return o;
}

/* status_json_build - the /status document, or NULL when the index failed */
json_t *
status_json_build(struct status_server *srv, int64_t now_ms)
{
	struct index_stats_backlog	 b;
	struct index_stats_replay	 rp;
	struct status_json_domains		 da;
	struct status_json_ctrs		 ca = { json_array(), json_object(), 0, 0, 0 };
	json_t				*doc = json_object(), *o, *states = json_object();
	json_t				*ctl = json_object(), *samples = json_array();
	int64_t				 ndomains = 0;
	int				 failed = 0, i;

	da.list = json_array();
	da.now_ms = now_ms;
	memset(&rp, 0, sizeof(rp));
	if (index_stats_backlog(srv->idx, now_ms, &b) != INDEX_OK ||
	    index_stats_states(srv->idx, status_json_states, states) != INDEX_OK ||
	    index_stats_domains(srv->idx, now_ms, srv->max_domains, status_json_domains, &da,
	    &ndomains) != INDEX_OK ||
	    index_stats_counters(srv->idx, status_json_counters, &ca) != INDEX_OK ||
	    index_stats_control(srv->idx, status_json_control, ctl) != INDEX_OK ||
	    index_stats_replay(srv->idx, &rp) != INDEX_OK ||
	    index_stats_samples(srv->idx, now_ms - srv->history_ms, status_json_samples, samples) !=
	    INDEX_OK)
		failed = 1;
	status_jset(doc, "version", json_integer(1));
	status_jset(doc, "node", status_jstr(srv->node));
	status_jset(doc, "now_ms", json_integer(now_ms));

	o = json_object();
	status_jset(o, "messages", json_integer(b.messages));
	status_jset(o, "recipients", json_integer(b.recipients));
	status_jset(o, "bytes", json_integer(b.bytes));
	status_jset(o, "oldest_received_ms", status_jtime(b.oldest_ms));
	status_jset(o, "oldest_age_s", status_jage(now_ms, b.oldest_ms));
	status_jset(o, "age_buckets", status_json_buckets(b.buckets));
	status_jset(doc, "backlog", o);

	/* every state, zeros included */
	for (i = 0; i < QUEUE_NSTATES; i++)
		if (json_object_get(states, queue_state_name(i)) == NULL)
			status_json_states(queue_state_name(i), 0, 0, states);
	status_jset(doc, "states", states);

	o = json_object();
	status_jset(o, "total", json_integer(ndomains));
	status_jset(o, "shown", json_integer((json_int_t)json_array_size(da.list)));
	status_jset(o, "list", da.list);
	status_jset(doc, "domains", o);

	status_jset(doc, "replay", status_json_replay(&rp, srv->config_rate));
	status_jset(doc, "errors", status_json_errors(srv, now_ms, &failed));

	o = json_object();
	status_jset(o, "accepted", json_integer(ca.accepted));
	status_jset(o, "rejected", json_integer(ca.rejected_total));
	status_jset(o, "rejected_by_reason", ca.rejected);
	status_jset(doc, "ingest", o);

	o = json_object();
	status_jset(o, "messages", json_integer(b.spool_messages));
	status_jset(o, "bytes", json_integer(b.spool_bytes));
	status_jset(doc, "fallback_spool", o);

	status_jset(doc, "storage", status_json_storage(&rp, ca.storage_errors));

	o = json_object();
	status_jset(o, "messages", json_integer(b.quarantine));
	status_jset(o, "recipients", json_integer(b.quarantine_rcpts));
	status_jset(doc, "quarantine", o);

	o = json_object();
	status_jset(o, "window_s", json_integer(srv->history_ms / 1000));
	status_jset(o, "points", samples);
	status_jset(doc, "samples", o);

	status_jset(doc, "readiness", status_json_readiness(srv));
	status_jset(doc, "fleet", status_fleet_get(srv->fleet));
	status_jset(doc, "counters", ca.list);
	status_jset(doc, "control", ctl);
	status_jset(doc, "total_messages", json_integer(b.total_messages));
	if (failed) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

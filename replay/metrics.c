/*
 * metrics.c - GET /metrics: the /status figures in the Prometheus text
 * exposition format 0.0.4 (text/plain; version=0.0.4).
 *
 * Entry point: metrics_render().  Every family gets # HELP and # TYPE lines
 * and its samples right after them (the format requires a family's samples
 * to be contiguous).  Label values are escaped (\\ \" \n) and forced to
 * UTF-8; counters from the counters table become mxspool_<name>_total with
 * the row's label under a key from metrics_known (else "label").  Gauges
 * read the index at scrape time, the mxspool_fleet_* ones serve's last read of
 * the bucket (status_fleet.c); counters only grow (the attempts table and
 * the counters table are append/increment only, a purge shows as a reset).
 * Names follow the Prometheus conventions so that `promtool check metrics`
 * prints nothing (tests/e2e/status_http.sh checks that).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "index_drill.h"
#include "index_stats.h"
#include "rate.h"
#include "status_impl.h"

/* counters written by the daemons: the key of their label and a help text */
static const struct {
	const char	*name;
	const char	*label_key;
	const char	*help;
} metrics_known[] = {
	{ "ingest_accepted", "", "Messages accepted by the ingest (250 after end-of-data)." },
	{ "ingest_rejected", "reason", "Transactions or commands the ingest refused, by reason." },
	{ "storage_errors", "op", "Object storage operations that failed." },
	{ "tls_failures", "side", "TLS handshakes that failed." },
	{ "auth_spf", "result", "SPF verdicts at ingest (RFC 8601 words)." },
	{ "auth_dkim", "result", "DKIM verdicts at ingest: pass if any signature passed." },
	{ "auth_dmarc", "result", "DMARC verdicts at ingest for the From: domain." },
	{ "replay_cap_hits", "cap", "Things a replay scheduler limit dropped or postponed: worker"
	    " results (done_queue), dead lease owners past 16 per start (dead_owners)." },
};

/* metrics_utf8_len - length of the valid UTF-8 sequence at s, 0 if invalid */
static size_t
metrics_utf8_len(const unsigned char *s)
{
	size_t	n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* metrics_escape - a label value: \\ \" \n escaped, invalid UTF-8 as '?' */
static int
metrics_escape(struct buf *out, const char *v)
{
	const unsigned char	*s = (const unsigned char *)(v ? v : "");
	size_t			 n;
	int			 rc = 0;

	while (*s != '\0') {
		if (*s == '\\')
			rc |= buf_addstr(out, "\\\\");
		else if (*s == '"')
			rc |= buf_addstr(out, "\\\"");
		else if (*s == '\n')
			rc |= buf_addstr(out, "\\n");
		else if ((n = metrics_utf8_len(s)) == 0)
			rc |= buf_addstr(out, "?");
		else {
			rc |= buf_add(out, s, n);
			s += n;
			continue;
		}
		s++;
	}
	return rc;
}

/* metrics_family - the # HELP and # TYPE lines (help texts are ours: no escaping) */
static int
metrics_family(struct buf *out, const char *name, const char *type, const char *help)
{
	return buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * metrics_sample - one sample: name{k1="v1",k2="v2"} value.  labels is a
 * NULL-terminated list of key, value pairs (NULL for none).
 */
static int
metrics_sample(struct buf *out, const char *name, const char *const *labels, double v)
{
	int	rc = buf_addstr(out, name), first = 1;

	for (; labels != NULL && labels[0] != NULL; labels += 2) {
		rc |= buf_printf(out, "%s%s=\"", first ? "{" : ",", labels[0]);
		rc |= metrics_escape(out, labels[1]);
		rc |= buf_addstr(out, "\"");
		first = 0;
	}
	if (!first)
		rc |= buf_addstr(out, "}");
	if (v == floor(v) && fabs(v) < 9e15)
		rc |= buf_printf(out, " %lld\n", (long long)v);
	else
		rc |= buf_printf(out, " %.6g\n", v);
	return rc;
}

/* metrics_gauge - a family with one unlabelled sample */
static int
metrics_gauge(struct buf *out, const char *name, const char *help, double v)
{
	return metrics_family(out, name, "gauge", help) | metrics_sample(out, name, NULL, v);
}

struct metrics_ctx {
	struct buf	*out;
	int64_t		 now_ms;
	int		 rc;
	int		 pass;		/* states: which family the walk emits */
	char		 last[128];	/* counters: the family being written */
	struct buf	 dom[3];	/* domains: one walk, three families */
};

/* metrics_states - mxspool_messages{state} / mxspool_message_bytes{state} */
static int
metrics_states(const char *state, int64_t messages, int64_t bytes, void *arg)
{
	struct metrics_ctx	*m = arg;
	const char		*l[] = { "state", state, NULL };

	if (m->pass == 0)
		m->rc |= metrics_sample(m->out, "mxspool_messages", l, (double)messages);
	else
		m->rc |= metrics_sample(m->out, "mxspool_message_bytes", l, (double)bytes);
	return 0;
}

/* metrics_domains - a domain's samples of the three per-domain families */
static int
metrics_domains(const struct index_stats_domain *d, void *arg)
{
	struct metrics_ctx	*m = arg;
	const char		*l[] = { "domain", d->domain, NULL };

	m->rc |= metrics_sample(&m->dom[0], "mxspool_domain_backlog_recipients", l,
	    (double)d->recipients);
	m->rc |= metrics_sample(&m->dom[1], "mxspool_domain_backlog_messages", l,
	    (double)d->messages);
	m->rc |= metrics_sample(&m->dom[2], "mxspool_domain_oldest_age_seconds", l,
	    d->oldest_ms > 0 && m->now_ms > d->oldest_ms ?
	    (double)((m->now_ms - d->oldest_ms) / 1000) : 0);
	return 0;
}

/* metrics_code_sample - a sample of family labelled {target, class, code} */
static void
metrics_code_sample(struct metrics_ctx *m, const char *family, const char *target, int code,
    int64_t count)
{
	char		 c[16];
	const char	*l[] = { "target", target, "class", status_json_class(code), "code", c,
			    NULL };

	snprintf(c, sizeof(c), "%d", code);
	m->rc |= metrics_sample(m->out, family, l, (double)count);
}

/* metrics_attempts - mxspool_delivery_attempts_total{target,class,code} */
static int
metrics_attempts(const char *target, int code, int64_t count, void *arg)
{
	metrics_code_sample(arg, "mxspool_delivery_attempts_total", target, code, count);
	return 0;
}

/* metrics_errors - mxspool_delivery_errors_recent{target,class,code} */
static int
metrics_errors(const char *target, int code, int64_t count, int64_t last_ms, const char *text,
    void *arg)
{
	metrics_code_sample(arg, "mxspool_delivery_errors_recent", target, code, count);
	return 0;
}

/* metrics_counters - a counters row as mxspool_<name>_total{key="label"} */
static int
metrics_counters(const char *name, const char *label, int64_t value, void *arg)
{
	struct metrics_ctx	*m = arg;
	char			 fam[128], help[192];
	const char		*key = "label", *l[] = { NULL, label, NULL };
	size_t			 i, n;

	/* [a-z0-9_], never a leading digit, "_total" once */
	n = (size_t)snprintf(fam, sizeof(fam), "mxspool_");
	for (i = 0; name[i] != '\0' && n < sizeof(fam) - 8; i++)
		fam[n++] = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' &&
		    name[i] <= '9') ? name[i] : name[i] >= 'A' && name[i] <= 'Z' ?
		    name[i] - 'A' + 'a' : '_';
	fam[n] = '\0';
	if (n < 6 || strcmp(fam + n - 6, "_total") != 0)
		snprintf(fam + n, sizeof(fam) - n, "_total");
	/* the generic help names the family (already [a-z0-9_]): nothing to escape */
	snprintf(help, sizeof(help), "Counter %s of the counters table.", fam);
	for (i = 0; i < sizeof(metrics_known) / sizeof(metrics_known[0]); i++)
		if (strcmp(metrics_known[i].name, name) == 0) {
			key = metrics_known[i].label_key;
			snprintf(help, sizeof(help), "%s", metrics_known[i].help);
		}
	if (strcmp(fam, m->last) != 0) {
		m->rc |= metrics_family(m->out, fam, "counter", help);
		snprintf(m->last, sizeof(m->last), "%s", fam);
	}
	l[0] = key;
	m->rc |= metrics_sample(m->out, fam, *label != '\0' && *key != '\0' ? l : NULL,
	    (double)value);
	return 0;
}

/* metrics_control - paused, rates and health from the control table */
static int
metrics_control(const char *key, const char *value, int64_t updated_ms, void *arg)
{
	double	*v = arg;	/* paused, target, rate, achieved, primary, storage, checked x2 */
	char	*end;
	double	 d;

	if (strcmp(key, "primary_health") == 0 || strcmp(key, "storage_health") == 0) {
		d = strcmp(value, "up") == 0 || strcmp(value, "ok") == 0 ||
		    strcmp(value, "1") == 0 ? 1 : strcmp(value, "unknown") == 0 ? NAN : 0;
		v[key[0] == 'p' ? 4 : 5] = d;
		return 0;
	}
	if (strcmp(key, "rate") == 0) {
		if (rate_parse(value, &d) == 0)		/* "600/m" too, as serve reads it */
			v[2] = d;
		return 0;
	}
	d = strtod(value, &end);
	if (*value == '\0' || *end != '\0' || !isfinite(d))
		return 0;
	if (strcmp(key, "paused") == 0)
		v[0] = d != 0;
	else if (strcmp(key, "target_rate") == 0)
		v[1] = d;
	else if (strcmp(key, "achieved_rate") == 0)
		v[3] = d;
	else if (strcmp(key, "primary_checked_ms") == 0 && d > 0)
		v[6] = floor(d / 1000);	/* whole seconds: printed exactly */
	else if (strcmp(key, "storage_checked_ms") == 0 && d > 0)
		v[7] = floor(d / 1000);
	return 0;
}

/* metrics_backlog - the backlog, states and age families */
static int
metrics_backlog(struct metrics_ctx *m, struct status_server *srv,
    const struct index_stats_backlog *b)
{
	struct buf	*out = m->out;
	char		 age[32];
	const char	*l[] = { "age", age, NULL };
	int		 i, lo = 0, rc = 0;

	rc |= metrics_gauge(out, "mxspool_backlog_messages", "Messages not yet delivered"
	    " (queued, active, hold, quarantine).", (double)b->messages);
	rc |= metrics_gauge(out, "mxspool_backlog_recipients", "Pending recipients of"
	    " backlog messages.", (double)b->recipients);
	rc |= metrics_gauge(out, "mxspool_backlog_bytes", "Stored size of the backlog.",
	    (double)b->bytes);
	rc |= metrics_gauge(out, "mxspool_backlog_oldest_age_seconds", "Age of the oldest"
	    " backlog message (0 when the backlog is empty).", b->oldest_ms > 0 &&
	    m->now_ms > b->oldest_ms ? (double)((m->now_ms - b->oldest_ms) / 1000) : 0);
	rc |= metrics_family(out, "mxspool_backlog_age_messages", "gauge", "Backlog messages"
	    " by age since arrival, in qshape's buckets (minutes).");
	for (i = 0; i < INDEX_STATS_NBUCKETS; i++) {
		if (i < INDEX_STATS_NBUCKETS - 1) {
			snprintf(age, sizeof(age), "%d-%dm", lo, index_stats_bucket_max[i]);
			lo = index_stats_bucket_max[i];
		} else
			snprintf(age, sizeof(age), "%dm+", lo);
		rc |= metrics_sample(out, "mxspool_backlog_age_messages", l,
		    (double)b->buckets[i]);
	}
	rc |= metrics_gauge(out, "mxspool_quarantine_messages", "Messages in quarantine"
	    " (5xx from the primary, waiting for the operator).", (double)b->quarantine);
	rc |= metrics_gauge(out, "mxspool_quarantine_recipients", "Recipients in quarantine.",
	    (double)b->quarantine_rcpts);
	rc |= metrics_gauge(out, "mxspool_fallback_spool_messages", "Messages in the local"
	    " fallback spool, not yet uploaded to the object store.", (double)b->spool_messages);
	rc |= metrics_gauge(out, "mxspool_fallback_spool_bytes", "Bytes in the local fallback"
	    " spool.", (double)b->spool_bytes);
	return rc;
}

/* metrics_render - the /metrics text into out; -1 on index failure */
/* metrics_check_cb - one mxspool_check_status sample */
static void
metrics_check_cb(const char *check, const char *domain, int status, void *arg)
{
	struct metrics_ctx	*m = arg;
	const char		*labels[] = { "check", check, "domain", domain, NULL };

	m->rc |= metrics_sample(m->out, "mxspool_check_status", labels, status);
}

/* metrics_readiness - serve's last `check` report as gauges (none before the first run) */
static void
metrics_readiness(struct status_server *srv, struct metrics_ctx *m)
{
	char	*v = NULL;
	json_t	*rep = NULL;
	int64_t	 n = 0;

	if (index_drill_count(srv->idx, &n) == INDEX_OK)
		m->rc |= metrics_gauge(m->out, "mxspool_drill_canaries", "Drill canary messages"
		    " still in the index (mxspool-replay drill; not mail).", (double)n);
	if (index_kv_get(srv->idx, CHECK_KV_KEY, &v) == INDEX_OK && v != NULL)
		rep = json_loads(v, 0, NULL);
	free(v);
	if (rep == NULL)
		return;
	if (json_is_array(json_object_get(rep, "checks"))) {
		m->rc |= metrics_family(m->out, "mxspool_check_status", "gauge", "Failover"
		    " readiness per check and domain: 0 pass, 1 warn, 2 fail (serve runs"
		    " mxspool-replay check every [replay] check_interval).");
		check_serve_worst(rep, metrics_check_cb, m);
	}
	m->rc |= metrics_gauge(m->out, "mxspool_check_timestamp_seconds", "When serve last ran"
	    " the readiness check (Unix time).", (double)json_integer_value(json_object_get(rep,
	    "checked_ms")) / 1000.0);
	json_decref(rep);
}

/* metrics_fleet_family - one mxspool_fleet_node_* family: a sample per node of the view */
static void
metrics_fleet_family(struct metrics_ctx *m, json_t *nodes, const char *name, const char *key,
    const char *help)
{
	json_t		*n;
	size_t		 i;
	const char	*labels[] = { "node", NULL, NULL };
	double		 v;

	m->rc |= metrics_family(m->out, name, "gauge", help);
	json_array_foreach(nodes, i, n) {
		json_t *x = json_object_get(n, key);

		if ((labels[1] = json_string_value(json_object_get(n, "node"))) == NULL)
			continue;
		if (strcmp(key, "last_seen_ms") == 0)	/* an age: grows while nobody writes */
			v = json_integer_value(x) > 0 && m->now_ms > json_integer_value(x) ?
			    (double)((m->now_ms - json_integer_value(x)) / 1000) : 0;
		else if (json_is_boolean(x))
			v = json_is_true(x);
		else if (json_is_integer(x))
			v = (double)json_integer_value(x);
		else
			v = 0;		/* null: no message, no delivery */
		m->rc |= metrics_sample(m->out, name, labels, v);
	}
}

/*
 * metrics_fleet - the fleet as serve last read it from the bucket
 * (status_fleet.c: on its own schedule, never per request); none before the
 * first read or with [fleet] enabled = no
 */
static void
metrics_fleet(struct status_server *srv, struct metrics_ctx *m)
{
	json_t *v = status_fleet_get(srv->fleet), *nodes = json_object_get(v, "nodes");

	if (!json_is_object(v)) {	/* not read yet, or [fleet] enabled = no */
		json_decref(v);
		return;
	}
	m->rc |= metrics_gauge(m->out, "mxspool_fleet_read_ok", "1 when serve's last read of"
	    " the fleet's heartbeats worked.", json_object_get(v, "error") == NULL);
	if (!json_is_array(nodes)) {	/* no read has worked yet */
		json_decref(v);
		return;
	}
	m->rc |= metrics_gauge(m->out, "mxspool_fleet_checked_timestamp_seconds", "When serve"
	    " last read the fleet's heartbeats from the bucket (Unix time).",
	    (double)(json_integer_value(json_object_get(v, "checked_ms")) / 1000));
	m->rc |= metrics_gauge(m->out, "mxspool_fleet_nodes", "Nodes with a heartbeat or a"
	    " claim in the bucket.", (double)json_array_size(nodes));
	m->rc |= metrics_gauge(m->out, "mxspool_fleet_backlog_messages", "The fleet's backlog:"
	    " the sum of the nodes' last counts (adopted nodes left out).",
	    (double)json_integer_value(json_object_get(v, "backlog")));
	metrics_fleet_family(m, nodes, "mxspool_fleet_node_backlog", "backlog", "Backlog"
	    " messages of a node, from its freshest heartbeat.");
	metrics_fleet_family(m, nodes, "mxspool_fleet_node_oldest_age_seconds", "oldest_age_s",
	    "Age of a node's oldest backlog message when the view was read (0: none).");
	metrics_fleet_family(m, nodes, "mxspool_fleet_node_last_seen_seconds", "last_seen_ms",
	    "Seconds since a node's freshest heartbeat.");
	metrics_fleet_family(m, nodes, "mxspool_fleet_node_stale", "stale", "1 when a node's"
	    " freshest heartbeat is older than [fleet] stale_after.");
	metrics_fleet_family(m, nodes, "mxspool_fleet_node_problem", "problem", "1 when a"
	    " node is stale, holds backlog and nobody adopted it: run mxspool-replay adopt.");
	metrics_fleet_family(m, nodes, "mxspool_fleet_node_adopted", "adopted", "1 when a"
	    " claim on the node is newer than the epoch it acknowledged.");
	json_decref(v);
}

int
metrics_render(struct status_server *srv, int64_t now_ms, struct buf *out)
{
	struct index_stats_backlog	 b;
	struct metrics_ctx		 m = { .out = out, .now_ms = now_ms };
	double				 ctl[8] = { 0, NAN, NAN, NAN, NAN, NAN, NAN, NAN };
	static const char *const	 dom[3][2] = {
		{ "mxspool_domain_backlog_recipients", "Pending recipients per domain"
		    " (largest domains, [http] max_domains)." },
		{ "mxspool_domain_backlog_messages", "Backlog messages per recipient domain." },
		{ "mxspool_domain_oldest_age_seconds", "Age of the oldest backlog message per"
		    " recipient domain." },
	};
	int				 i;

	if (index_stats_backlog(srv->idx, now_ms, &b) != INDEX_OK ||
	    index_stats_control(srv->idx, metrics_control, ctl) != INDEX_OK)
		return -1;
	m.rc |= metrics_backlog(&m, srv, &b);
	for (m.pass = 0; m.pass < 2; m.pass++) {
		m.rc |= metrics_family(out, m.pass ? "mxspool_message_bytes" : "mxspool_messages",
		    "gauge", m.pass ? "Stored bytes of the messages in the index, by state." :
		    "Messages in the index, by state.");
		if (index_stats_states(srv->idx, metrics_states, &m) != INDEX_OK)
			return -1;
	}
	for (i = 0; i < 3; i++)
		buf_init(&m.dom[i], out->max);
	if (index_stats_domains(srv->idx, now_ms, srv->max_domains, metrics_domains, &m,
	    NULL) != INDEX_OK)
		m.rc = -1;
	for (i = 0; i < 3; i++) {
		m.rc |= metrics_family(out, dom[i][0], "gauge", dom[i][1]);
		if (m.dom[i].len > 0)
			m.rc |= buf_add(out, m.dom[i].data, m.dom[i].len);
		buf_free(&m.dom[i]);
	}
	if (m.rc != 0)
		return -1;
	m.rc |= metrics_gauge(out, "mxspool_replay_paused", "1 while the replay is paused.",
	    ctl[0]);
	m.rc |= metrics_gauge(out, "mxspool_replay_rate_limit", "Replay rate limit in messages"
	    " per second (control rate, else [replay] rate; 0: unlimited).", !isnan(ctl[2]) ?
	    ctl[2] : srv->config_rate >= 0 ? srv->config_rate : 0);
	if (!isnan(ctl[1]))
		m.rc |= metrics_gauge(out, "mxspool_replay_target_rate", "Rate serve aims at now"
		    " in messages per second (slow start, backoff; 0 while paused).", ctl[1]);
	if (!isnan(ctl[3]))
		m.rc |= metrics_gauge(out, "mxspool_replay_achieved_rate", "Achieved replay rate"
		    " in messages per second.", ctl[3]);
	for (i = 4; i < 6; i++)
		if (!isnan(ctl[i]))
			m.rc |= metrics_gauge(out, i == 4 ? "mxspool_primary_up" :
			    "mxspool_storage_healthy", i == 4 ? "1 when the primary answers"
			    " (control key primary_health)." : "1 when the object store takes"
			    " writes (control key storage_health).", ctl[i]);
	/* a probe time that stops moving means serve (or its probe) is gone: alert on age */
	for (i = 6; i < 8; i++)
		if (!isnan(ctl[i]))
			m.rc |= metrics_gauge(out, i == 6 ? "mxspool_primary_checked_timestamp_seconds" :
			    "mxspool_storage_checked_timestamp_seconds", i == 6 ? "When serve last"
			    " probed the primary (Unix time)." : "When serve last probed the object"
			    " store (Unix time).", ctl[i]);
	m.rc |= metrics_family(out, "mxspool_delivery_attempts_total", "counter", "Delivery"
	    " attempts per recipient, by target, reply class and code (code 0: no reply).");
	if (index_stats_attempts(srv->idx, metrics_attempts, &m) != INDEX_OK)
		return -1;
	m.rc |= metrics_family(out, "mxspool_delivery_errors_recent", "gauge", "Failed"
	    " delivery attempts in the last [http] error_window, by target and code.");
	if (index_stats_errors(srv->idx, now_ms - srv->error_window_ms, metrics_errors, &m) !=
	    INDEX_OK)
		return -1;
	if (index_stats_counters(srv->idx, metrics_counters, &m) != INDEX_OK)
		return -1;
	metrics_readiness(srv, &m);
	metrics_fleet(srv, &m);
	return m.rc != 0 ? -1 : 0;
}

/*
 * cli_stats.c - status (backlog, states, control) and qshape (backlog age by
 * recipient domain, Postfix qshape's buckets: 0 5 10 20 ... 1280 1280+ minutes,
 * rows sorted by total, TOTAL first).  Only printing: the figures, their order
 * and the TOTAL row come from index_stats (the same aggregation as /status).
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_fmt.h"
#include "config.h"
#include "index_stats.h"
#include "msgid.h"
#include "rate.h"
#include "status.h"

/* what cli_qshape prints as index_stats_shape hands it the rows */
struct cli_qshape {
	struct index_stats_domain	 total;		/* filled before the first row */
	json_t				*arr;		/* --json: the rows; NULL: text */
	int64_t				 now;
	int				 w;		/* column width */
	int				 started;	/* header and TOTAL printed */
};

/* cli_qrow_print - one qshape line (or JSON row): a domain's messages by age */
static void
cli_qrow_print(const struct index_stats_domain *d, json_t *arr, int w)
{
	json_t *b;

	if (arr) {
		b = json_array();
		for (int i = 0; i < INDEX_STATS_NBUCKETS; i++)
			json_array_append_new(b, json_integer(d->mbuckets[i]));
		json_array_append_new(arr, json_pack("{s:s, s:I, s:o}", "domain", d->domain,
		    "total", (json_int_t)d->messages, "buckets", b));
		return;
	}
	printf("%32s %*lld", d->domain, w + 1, (long long)d->messages);
	for (int i = 0; i < INDEX_STATS_NBUCKETS; i++)
		printf(" %*lld", w, (long long)d->mbuckets[i]);
	printf("\n");
}

/* cli_qshape_head - the heading and the TOTAL row, once, before the first domain */
static void
cli_qshape_head(struct cli_qshape *q)
{
	char	t[32], age[CLI_FMT_MAX];

	if (q->started++)
		return;
	if (q->arr == NULL) {
		cli_time(q->total.oldest_ms, t, sizeof(t));
		if (q->total.oldest_ms)
			printf("Messages by recipient domain and age in minutes; oldest %s UTC"
			    " (%s ago)\n", t, cli_fmt_age(q->now - q->total.oldest_ms, age,
			    sizeof(age)));
		/* columns as wide as the largest count (TOTAL's), at least qshape's 5 */
		q->w = snprintf(NULL, 0, "%lld", (long long)q->total.messages);
		q->w = q->w < 5 ? 5 : q->w;
		printf("%32s %*s", "", q->w + 1, "T");
		for (int i = 0; i < INDEX_STATS_NBUCKETS - 1; i++)
			printf(" %*d", q->w, index_stats_bucket_max[i]);
		printf(" %*d+\n", q->w - 1, index_stats_bucket_max[INDEX_STATS_NBUCKETS - 2]);
	}
	cli_qrow_print(&q->total, q->arr, q->w);
}

/* cli_qshape_row - index_stats_shape callback: print one domain */
static int
cli_qshape_row(const struct index_stats_domain *d, void *arg)
{
	struct cli_qshape *q = arg;

	cli_qshape_head(q);
	cli_qrow_print(d, q->arr, q->w);
	return 0;
}

/* cli_qshape - Postfix qshape's table, aggregated by index_stats_shape */
int
cli_qshape(struct cli *c)
{
	struct cli_qshape	 q;
	enum index_status	 st;
	json_t			*hdr;
	int			 rc;

	if ((rc = cli_index(c)) != 0)
		return rc;
	memset(&q, 0, sizeof(q));
	q.now = now_ms();
	q.arr = c->json ? json_array() : NULL;
	st = index_stats_shape(c->ix, &c->f, q.now, c->f.limit > 0 ? (size_t)c->f.limit : 0,
	    cli_qshape_row, &q, &q.total);
	if (st != INDEX_OK) {
		json_decref(q.arr);
		return cli_index_exit(c, st, "qshape");
	}
	cli_qshape_head(&q);
	if (q.arr != NULL) {
		hdr = json_array();
		for (int i = 0; i < INDEX_STATS_NBUCKETS - 1; i++)
			json_array_append_new(hdr, json_integer(index_stats_bucket_max[i]));
		hdr = json_pack("{s:o, s:o, s:s}", "bucket_max_minutes", hdr, "rows", q.arr,
		    "unit", "messages by pending recipient domain and age");
		json_dumpf(hdr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(hdr);
	}
	return CLI_OK;
}

/* cli_state_cb - index_stats_states callback */
static int
cli_state_cb(const char *state, int64_t messages, int64_t bytes, void *arg)
{
	char size[CLI_FMT_MAX];

	if (arg)
		json_object_set_new(arg, state, json_pack("{s:I, s:I}", "messages",
		    (json_int_t)messages, "bytes", (json_int_t)bytes));
	else
		printf("  %-12s %8lld messages %10s\n", state, (long long)messages,
		    cli_fmt_size(bytes, size, sizeof(size)));
	return 0;
}

/* cli_ctl_cb - index_stats_control callback */
static int
cli_ctl_cb(const char *key, const char *value, int64_t updated_ms, void *arg)
{
	char t[32];

	if (arg) {
		json_object_set_new(arg, key, json_string(value));
		return 0;
	}
	cli_time(updated_ms, t, sizeof(t));
	printf("  %-16s %-12s (set %s UTC)\n", key, value, t);
	return 0;
}

/* cli_rate_text - "unlimited" for 0, else "12.5/s" */
static const char *
cli_rate_text(double r, char *out, size_t outlen)
{
	if (r == 0)
		snprintf(out, outlen, "unlimited");
	else
		snprintf(out, outlen, "%.4g/s", r);
	return out;
}

/* cli_checked - " (checked 2026-11-23 06:57:09 UTC, 12 s ago)" or " (never checked)" */
static const char *
cli_checked(int64_t ms, int64_t now, char *out, size_t outlen)
{
	char t[32];

	if (ms <= 0)
		return " (never checked)";
	cli_time(ms, t, sizeof(t));
	snprintf(out, outlen, " (checked %s UTC, %lld s ago)", t,
	    (long long)(now > ms ? (now - ms) / 1000 : 0));
	return out;
}

/*
 * cli_status_replay - the drain state serve published (index_stats_replay):
 * a paragraph, or the objects /status has under "replay" and "storage".
 */
static void
cli_status_replay(struct cli *c, int64_t now, json_t *o)
{
	struct index_stats_replay	 rp;
	double				 cfg, lim;
	const char			*src = "control";
	char				 a[32], b[32], d[32], t[96];

	if (rate_parse(config_str(c->cfg, "replay", "rate", "10"), &cfg) != 0)
		cfg = -1;
	if (index_stats_replay(c->ix, &rp) != INDEX_OK)
		return;
	if (o != NULL) {
		json_object_set_new(o, "replay", status_json_replay(&rp, cfg));
		json_object_set_new(o, "storage", status_json_storage(&rp, -1));
		return;
	}
	if (*rp.rate == '\0' || rate_parse(rp.rate, &lim) != 0) {
		lim = cfg;
		src = "config";
	}
	printf("Replay: %s, rate limit %s (%s)", rp.paused ? "PAUSED" : "running",
	    lim < 0 ? "invalid" : cli_rate_text(lim, a, sizeof(a)), src);
	if (rp.has_target && rp.has_achieved)
		printf("; serve target %s, achieved %s (last %d s)\n",
		    rp.target == 0 && rp.paused ? "0/s" : cli_rate_text(rp.target, b, sizeof(b)),
		    rp.achieved == 0 ? "0/s" : cli_rate_text(rp.achieved, d, sizeof(d)),
		    RATE_WINDOW_S);
	else
		printf("; serve has not published a rate (not running on this index?)\n");
	printf("Primary: %s%s%s%s\n", *rp.primary ? rp.primary : "unknown",
	    cli_checked(rp.primary_checked_ms, now, t, sizeof(t)), *rp.primary_reason ? ": " : "",
	    rp.primary_reason);
	printf("Storage: %s%s%s%s\n", *rp.storage ? rp.storage : "unknown",
	    cli_checked(rp.storage_checked_ms, now, t, sizeof(t)),
	    strcmp(rp.storage, "ok") != 0 && *rp.storage_reason ? ": " : "",
	    strcmp(rp.storage, "ok") != 0 ? rp.storage_reason : "");
}

int
cli_status(struct cli *c)
{
	struct index_stats_backlog	 b;
	enum index_status		 st;
	json_t				*o, *states, *ctl;
	char				 t[32], size[CLI_FMT_MAX], age[CLI_FMT_MAX];
	int				 rc;
	int64_t				 now = now_ms();

	if (c->fleet)
		return cli_status_fleet(c);
	if ((rc = cli_index(c)) != 0)
		return rc;
	if ((st = index_stats_backlog(c->ix, now, &b)) != INDEX_OK)
		return cli_index_exit(c, st, "status");
	if (c->json) {
		states = json_object();
		ctl = json_object();
		index_stats_states(c->ix, cli_state_cb, states);
		index_stats_control(c->ix, cli_ctl_cb, ctl);
		o = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o, s:o}",
		    "backlog_messages", (json_int_t)b.messages, "backlog_recipients",
		    (json_int_t)b.recipients, "backlog_bytes", (json_int_t)b.bytes,
		    "oldest_ms", (json_int_t)b.oldest_ms, "quarantine", (json_int_t)b.quarantine,
		    "spool_messages", (json_int_t)b.spool_messages, "total_messages",
		    (json_int_t)b.total_messages, "states", states, "control", ctl);
		cli_status_replay(c, now, o);
		json_dumpf(o, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(o);
		return CLI_OK;
	}
	cli_time(b.oldest_ms, t, sizeof(t));
	printf("Backlog: %lld messages, %lld recipients, %s", (long long)b.messages,
	    (long long)b.recipients, cli_fmt_size(b.bytes, size, sizeof(size)));
	if (b.oldest_ms)
		printf("; oldest %s UTC (%s ago)", t, cli_fmt_age(now - b.oldest_ms, age,
		    sizeof(age)));
	printf("\nQuarantine: %lld messages (%lld recipients)\n", (long long)b.quarantine,
	    (long long)b.quarantine_rcpts);
	if (b.spool_messages)
		printf("Fallback spool: %lld messages, %s not yet in the object store\n",
		    (long long)b.spool_messages, cli_fmt_size(b.spool_bytes, size, sizeof(size)));
	cli_status_replay(c, now, NULL);
	printf("States:\n");
	index_stats_states(c->ix, cli_state_cb, NULL);
	printf("Control:\n");
	index_stats_control(c->ix, cli_ctl_cb, NULL);
	return CLI_OK;
}

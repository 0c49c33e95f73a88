/*
 * cli_stats.c - status (backlog, states, control) and qshape (backlog age by
 * recipient domain, Postfix qshape's buckets: 0 5 10 20 ... 1280 1280+ minutes,
 * rows sorted by total, TOTAL first).
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

struct cli_qrow {
	char	*domain;
	int64_t	 total;
	int64_t	 b[INDEX_STATS_NBUCKETS];
};

struct cli_qshape {
	struct cli_qrow	*rows;
	size_t		 n, cap;
	struct cli_qrow	 all;
	int64_t		 oldest_ms;	/* received_ms of the oldest message shown, 0: none */
	int		 nomem;
};

/* cli_qshape_add - index_stats_shape callback: one domain's messages by age */
static int
cli_qshape_add(const struct index_stats_domain *d, void *arg)
{
	struct cli_qshape	*q = arg;
	struct cli_qrow		*r, *nr;

	if (q->n == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 32;
		if ((nr = reallocarray(q->rows, q->cap, sizeof(*nr))) == NULL)
			goto nomem;
		q->rows = nr;
	}
	r = &q->rows[q->n];
	if ((r->domain = strdup(d->domain)) == NULL)
		goto nomem;
	q->n++;
	r->total = d->messages;
	if (q->oldest_ms == 0 || d->oldest_ms < q->oldest_ms)
		q->oldest_ms = d->oldest_ms;
	q->all.total += d->messages;
	for (int i = 0; i < INDEX_STATS_NBUCKETS; i++) {
		r->b[i] = d->mbuckets[i];
		q->all.b[i] += d->mbuckets[i];
	}
	return 0;
nomem:
	q->nomem = 1;
	return 1;
}

/* cli_qrow_cmp - larger totals first, then by name */
static int
cli_qrow_cmp(const void *a, const void *b)
{
	const struct cli_qrow *x = a, *y = b;

	if (x->total != y->total)
		return x->total > y->total ? -1 : 1;
	return strcmp(x->domain, y->domain);
}

/* cli_qrow_print - one qshape line */
static void
cli_qrow_print(const struct cli_qrow *r, json_t *arr, int w)
{
	json_t *b;

	if (arr) {
		b = json_array();
		for (int i = 0; i < INDEX_STATS_NBUCKETS; i++)
			json_array_append_new(b, json_integer(r->b[i]));
		json_array_append_new(arr, json_pack("{s:s, s:I, s:o}", "domain", r->domain,
		    "total", (json_int_t)r->total, "buckets", b));
		return;
	}
	printf("%32s %*lld", r->domain, w + 1, (long long)r->total);
	for (int i = 0; i < INDEX_STATS_NBUCKETS; i++)
		printf(" %*lld", w, (long long)r->b[i]);
	printf("\n");
}

int
cli_qshape(struct cli *c)
{
	struct cli_qshape	 q;
	enum index_status	 st;
	json_t			*arr = NULL, *hdr;
	char			 t[32], age[CLI_FMT_MAX];
	int64_t			 now = now_ms();
	int			 rc, w;

	if ((rc = cli_index(c)) != 0)
		return rc;
	memset(&q, 0, sizeof(q));
	q.all.domain = "TOTAL";
	if ((st = index_stats_shape(c->ix, &c->f, now, cli_qshape_add, &q)) != INDEX_OK)
		rc = cli_index_exit(c, st, "qshape");
	else if (q.nomem)
		rc = cli_err(c, CLI_TEMPFAIL, "qshape: out of memory");
	qsort(q.rows, q.n, sizeof(*q.rows), cli_qrow_cmp);
	if (rc == 0 && c->json) {
		arr = json_array();
		hdr = json_array();
		for (int i = 0; i < INDEX_STATS_NBUCKETS - 1; i++)
			json_array_append_new(hdr, json_integer(index_stats_bucket_max[i]));
		cli_qrow_print(&q.all, arr, 0);
		for (size_t i = 0; i < q.n && (c->f.limit == 0 || (int64_t)i < c->f.limit); i++)
			cli_qrow_print(&q.rows[i], arr, 0);
		hdr = json_pack("{s:o, s:o, s:s}", "bucket_max_minutes", hdr, "rows", arr,
		    "unit", "messages by pending recipient domain and age");
		json_dumpf(hdr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(hdr);
	} else if (rc == 0) {
		cli_time(q.oldest_ms, t, sizeof(t));
		if (q.oldest_ms)
			printf("Messages by recipient domain and age in minutes; oldest %s UTC"
			    " (%s ago)\n", t, cli_fmt_age(now - q.oldest_ms, age, sizeof(age)));
		/* columns as wide as the largest count (TOTAL's), at least qshape's 5 */
		w = snprintf(NULL, 0, "%lld", (long long)q.all.total);
		w = w < 5 ? 5 : w;
		printf("%32s %*s", "", w + 1, "T");
		for (int i = 0; i < INDEX_STATS_NBUCKETS - 1; i++)
			printf(" %*d", w, index_stats_bucket_max[i]);
		printf(" %*d+\n", w - 1, index_stats_bucket_max[INDEX_STATS_NBUCKETS - 2]);
		cli_qrow_print(&q.all, NULL, w);
		for (size_t i = 0; i < q.n && (c->f.limit == 0 || (int64_t)i < c->f.limit); i++)
			cli_qrow_print(&q.rows[i], NULL, w);
	}
	for (size_t i = 0; i < q.n; i++)
		free(q.rows[i].domain);
	free(q.rows);
	return rc;
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

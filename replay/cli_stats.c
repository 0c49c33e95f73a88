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
};

/* cli_qshape_add - index_replay_qshape callback */
static void
cli_qshape_add(const char *domain, int64_t age_ms, void *arg)
{
	struct cli_qshape	*q = arg;
	struct cli_qrow		*r = NULL, *nr;
	int			 b = index_stats_bucket(age_ms);
	size_t			 i;

	for (i = 0; i < q->n; i++)
		if (strcmp(q->rows[i].domain, domain) == 0) {
			r = &q->rows[i];
			break;
		}
	if (r == NULL) {
		if (q->n == q->cap) {
			q->cap = q->cap ? q->cap * 2 : 32;
			if ((nr = reallocarray(q->rows, q->cap, sizeof(*nr))) == NULL)
				return;
			q->rows = nr;
		}
		r = &q->rows[q->n++];
		memset(r, 0, sizeof(*r));
		if ((r->domain = strdup(domain)) == NULL) {
			q->n--;
			return;
		}
	}
	r->total++;
	r->b[b]++;
	q->all.total++;
	q->all.b[b]++;
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
cli_qrow_print(const struct cli_qrow *r, json_t *arr)
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
	printf("%32s %6lld", r->domain, (long long)r->total);
	for (int i = 0; i < INDEX_STATS_NBUCKETS; i++)
		printf(" %5lld", (long long)r->b[i]);
	printf("\n");
}

int
cli_qshape(struct cli *c)
{
	struct cli_qshape	 q;
	enum index_status	 st;
	json_t			*arr = NULL, *hdr;
	int			 rc;

	if ((rc = cli_index(c)) != 0)
		return rc;
	memset(&q, 0, sizeof(q));
	q.all.domain = "TOTAL";
	if ((st = index_replay_qshape(c->ix, &c->f, now_ms(), cli_qshape_add, &q)) != INDEX_OK)
		rc = cli_index_exit(c, st, "qshape");
	qsort(q.rows, q.n, sizeof(*q.rows), cli_qrow_cmp);
	if (rc == 0 && c->json) {
		arr = json_array();
		hdr = json_array();
		for (int i = 0; i < INDEX_STATS_NBUCKETS - 1; i++)
			json_array_append_new(hdr, json_integer(index_stats_bucket_max[i]));
		cli_qrow_print(&q.all, arr);
		for (size_t i = 0; i < q.n && (c->f.limit == 0 || (int64_t)i < c->f.limit); i++)
			cli_qrow_print(&q.rows[i], arr);
		hdr = json_pack("{s:o, s:o, s:s}", "bucket_max_minutes", hdr, "rows", arr,
		    "unit", "messages by pending recipient domain and age");
		json_dumpf(hdr, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
		json_decref(hdr);
	} else if (rc == 0) {
		printf("%32s %6s", "", "T");
		for (int i = 0; i < INDEX_STATS_NBUCKETS - 1; i++)
			printf(" %5d", index_stats_bucket_max[i]);
		printf(" %4d+\n", index_stats_bucket_max[INDEX_STATS_NBUCKETS - 2]);
		cli_qrow_print(&q.all, NULL);
		for (size_t i = 0; i < q.n && (c->f.limit == 0 || (int64_t)i < c->f.limit); i++)
			cli_qrow_print(&q.rows[i], NULL);
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
	if (arg)
		json_object_set_new(arg, state, json_pack("{s:I, s:I}", "messages",
		    (json_int_t)messages, "bytes", (json_int_t)bytes));
	else
		printf("  %-12s %8lld messages %12lld bytes\n", state, (long long)messages,
		    (long long)bytes);
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
	char				 t[32];
	int				 rc;
	int64_t				 now = now_ms();

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
	printf("Backlog: %lld messages, %lld recipients, %lld bytes", (long long)b.messages,
	    (long long)b.recipients, (long long)b.bytes);
	if (b.oldest_ms)
		printf("; oldest %s UTC (%lld min ago)", t, (long long)(now - b.oldest_ms) / 60000);
	printf("\nQuarantine: %lld messages (%lld recipients)\n", (long long)b.quarantine,
	    (long long)b.quarantine_rcpts);
	if (b.spool_messages)
		printf("Fallback spool: %lld messages, %lld bytes not yet in the object store\n",
		    (long long)b.spool_messages, (long long)b.spool_bytes);
	cli_status_replay(c, now, NULL);
	printf("States:\n");
	index_stats_states(c->ix, cli_state_cb, NULL);
	printf("Control:\n");
	index_stats_control(c->ix, cli_ctl_cb, NULL);
	return CLI_OK;
}

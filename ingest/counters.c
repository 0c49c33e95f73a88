/*
 * counters.c - ingest event counters, kept in memory and flushed to the index.
 *
 * counters_inc() is a lock-free atomic add, safe from any session thread.
 * counters_flush() (the housekeeping thread, every [ingest] counters_interval)
 * moves the deltas into the index counters table in one transaction; on
 * failure the deltas are added back, so nothing is lost or counted twice.
 * Names as the status endpoint reads them (docs/status.md): ingest_accepted
 * (label "") and ingest_rejected (label = reason); auth_spf, auth_dkim and
 * auth_dmarc (label = the RFC 8601 result) for every verified message.
 */
#include <stddef.h>
#include <string.h>

#include "index_ingest.h"
#include "ingest.h"

static long long counters_val[COUNTERS_N];

/* verdicts by method and RFC 8601 result word (ingest/auth.c) */
static const char *const counters_method[] = { "auth_spf", "auth_dkim", "auth_dmarc" };
static const char *const counters_result[] = { "none", "pass", "fail", "softfail", "neutral",
    "temperror", "permerror", "policy" };
#define COUNTERS_NMETHOD	(sizeof(counters_method) / sizeof(counters_method[0]))
#define COUNTERS_NRESULT	(sizeof(counters_result) / sizeof(counters_result[0]))
static long long counters_auth_val[COUNTERS_NMETHOD][COUNTERS_NRESULT];

static const char *counters_label[COUNTERS_N] = {
	[COUNTERS_ACCEPTED] = "accepted",
	[COUNTERS_REJ_RELAY] = "relay",
	[COUNTERS_REJ_UNKNOWN_USER] = "unknown_user",
	[COUNTERS_REJ_VERIFY_TEMPFAIL] = "verify_tempfail",
	[COUNTERS_REJ_SIZE] = "size",
	[COUNTERS_REJ_RCPT_LIMIT] = "recipient_limit",
	[COUNTERS_REJ_SYNTAX] = "protocol",
	[COUNTERS_REJ_PIPELINING] = "pipelining",
	[COUNTERS_REJ_PREGREET] = "pregreet",
	[COUNTERS_REJ_BARE_NEWLINE] = "bare_newline",
	[COUNTERS_REJ_NUL] = "nul",
	[COUNTERS_REJ_LONG_LINE] = "line_length",
	[COUNTERS_REJ_STORE_TEMPFAIL] = "store_tempfail",
	[COUNTERS_REJ_STORE_NOSPACE] = "store_nospace",
	[COUNTERS_REJ_DISK] = "low_disk",
	[COUNTERS_REJ_RATE] = "rate",
	[COUNTERS_REJ_CONCURRENCY] = "concurrency",
	[COUNTERS_REJ_MONITOR] = "primary_up",
	[COUNTERS_REJ_TLS_REQUIRED] = "tls_required",
	[COUNTERS_REJ_HTTP] = "http",
	[COUNTERS_REJ_ERRORS] = "error_limit",
	[COUNTERS_REJ_TIMEOUT] = "timeout",
	[COUNTERS_REJ_BINARY] = "binary",
	[COUNTERS_REJ_JUNK] = "junk_commands",
	[COUNTERS_REJ_DNSBL] = "dnsbl",
	[COUNTERS_REJ_DMARC] = "dmarc_reject",
};

/* counters_inc - one event */
void
counters_inc(enum counters_id id)
{
	if ((unsigned int)id < COUNTERS_N)
		__atomic_add_fetch(&counters_val[id], 1, __ATOMIC_RELAXED);
}

/* counters_auth - one verdict: method 0 spf, 1 dkim, 2 dmarc; result an RFC 8601 word */
void
counters_auth(int method, const char *result)
{
	size_t i;

	for (i = 0; i < COUNTERS_NRESULT; i++)
		if (strcmp(result, counters_result[i]) == 0 && method >= 0 &&
		    (size_t)method < COUNTERS_NMETHOD)
			__atomic_add_fetch(&counters_auth_val[method][i], 1, __ATOMIC_RELAXED);
}

/* counters_flush - deltas to the index; 0 ok, -1 kept for the next flush */
int
counters_flush(struct index *idx)
{
	struct index_ingest_counter	c[COUNTERS_N + COUNTERS_NMETHOD * COUNTERS_NRESULT];
	long long			*v;
	size_t				i, n = COUNTERS_N;

	for (i = 0; i < COUNTERS_N; i++) {
		c[i].name = i == COUNTERS_ACCEPTED ? "ingest_accepted" : "ingest_rejected";
		c[i].label = i == COUNTERS_ACCEPTED ? "" : counters_label[i];
		c[i].delta = __atomic_exchange_n(&counters_val[i], 0, __ATOMIC_RELAXED);
	}
	for (i = 0; i < COUNTERS_NMETHOD * COUNTERS_NRESULT; i++, n++) {
		c[n].name = counters_method[i / COUNTERS_NRESULT];
		c[n].label = counters_result[i % COUNTERS_NRESULT];
		v = &counters_auth_val[i / COUNTERS_NRESULT][i % COUNTERS_NRESULT];
		c[n].delta = __atomic_exchange_n(v, 0, __ATOMIC_RELAXED);
	}
	if (index_ingest_counters(idx, c, n) == INDEX_OK)
		return 0;
	for (i = 0; i < COUNTERS_N; i++)
		__atomic_add_fetch(&counters_val[i], c[i].delta, __ATOMIC_RELAXED);
	for (i = 0; i < COUNTERS_NMETHOD * COUNTERS_NRESULT; i++)
		__atomic_add_fetch(&counters_auth_val[i / COUNTERS_NRESULT][i % COUNTERS_NRESULT],
		    c[COUNTERS_N + i].delta, __ATOMIC_RELAXED);
	return -1;
}

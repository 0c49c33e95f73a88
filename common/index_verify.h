/*
 * index_verify.h - the recipient verification cache (table verify_cache) and
 * the ingest counters (table counters) in the SQLite index.
 *
 * The cache holds the answers of callouts to the primary, keyed by the
 * normalised address "local@domain".  Rows are never used by SQL to decide
 * anything: the caller (ingest/rcpt_verify.c) reads a row and applies its own
 * policy (fresh positive/negative, stale positive while the primary is down).
 * Times are milliseconds since the epoch.
 *
 * Like every index module: the handle belongs to one thread at a time.
 * Failures return INDEX_TEMPFAIL/INDEX_PERMFAIL with the reason in
 * index_error(), as every index module; nothing is logged here.
 */
#ifndef MXS_INDEX_VERIFY_H
#define MXS_INDEX_VERIFY_H
#include <stddef.h>
#include <stdint.h>

#include "index.h"

#define INDEX_VERIFY_TEXT_MAX	256

struct index_verify_entry {
	int	 result;		/* 1 exists, 0 does not */
	int	 code;			/* SMTP reply code of the callout (0: none) */
	char	 text[INDEX_VERIFY_TEXT_MAX];	/* reply text (truncated) */
	int64_t	 checked_ms;
	int64_t	 expires_ms;
};

/* index_verify_get - the row of addr; INDEX_NOTFOUND if none */
enum index_status index_verify_get(struct index *, const char *addr,
		    struct index_verify_entry *);
/* index_verify_put - insert or replace the row of addr */
enum index_status index_verify_put(struct index *, const char *addr,
		    const struct index_verify_entry *);
/* index_verify_delete - forget addr (operator: "verify flush ADDR") */
enum index_status index_verify_delete(struct index *, const char *addr);
/*
 * index_verify_flush - forget addr (a key as mailaddr_key makes it) if not
 * NULL, else every address in domain (lookup form) if not NULL, else every
 * row (operator: mxspool-replay verify flush); *deleted = rows, if not NULL
 */
enum index_status index_verify_flush(struct index *, const char *addr, const char *domain,
		    long long *deleted);
/* index_verify_list - fn per row (of domain, if not NULL) by address; non-zero stops */
enum index_status index_verify_list(struct index *, const char *domain,
		    int (*fn)(const char *addr, const struct index_verify_entry *, void *),
		    void *arg);
/*
 * index_verify_purge - delete negatives expired before now_ms and positives
 * checked before stale_before_ms (positives outlive their TTL: they answer
 * while the primary is down); *deleted gets the row count if not NULL.
 */
enum index_status index_verify_purge(struct index *, int64_t now_ms, int64_t stale_before_ms,
		    long long *deleted);

/* index_counter_add - counters(name, label) += delta (created at 0) */
enum index_status index_counter_add(struct index *, const char *name, const char *label,
		    long long delta);
/* index_counter_get - current value (0 when absent) */
enum index_status index_counter_get(struct index *, const char *name, const char *label,
		    long long *value);

#endif

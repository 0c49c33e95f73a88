/*
 * index_stats.h - read-only backlog figures for the status endpoint, the
 * Prometheus metrics, the dashboard and `qshape`-style tables.
 *
 * The backlog is every message not yet delivered nor finished, as the CLI
 * counts it (index_replay.h): states queued, active, hold and quarantine.
 * Quarantined messages (waiting for the operator) are also counted apart.
 * Per-domain figures count the pending recipients of backlog messages.
 * Ages are measured from received_ms (qshape measures from arrival too) in
 * qshape's buckets, minutes: [0,5) [5,10) [10,20) ... [640,1280) [1280,inf).
 * "Errors" are attempts whose reply was not 2xx (code 0: no reply).
 *
 * Each function runs its queries in one read transaction, so the figures of
 * one call agree with each other.  Lists are returned through callbacks
 * (a non-zero return stops the walk, not an error).  Functions return
 * enum index_status; a failure is logged here (index_error() is not set).
 */
#ifndef MXS_INDEX_STATS_H
#define MXS_INDEX_STATS_H
#include <stddef.h>
#include <stdint.h>

#include "index.h"

/* qshape's buckets: upper bounds in minutes; the last bucket is open */
#define INDEX_STATS_NBUCKETS	10
extern const int index_stats_bucket_max[INDEX_STATS_NBUCKETS - 1];	/* 5 .. 1280 */

/* index_stats_bucket - bucket number of an age in milliseconds */
int	index_stats_bucket(int64_t age_ms);

struct index_stats_backlog {
	int64_t	messages;		/* backlog messages (queued active hold quarantine) */
	int64_t	recipients;		/* their pending recipients */
	int64_t	bytes;			/* their stored size */
	int64_t	oldest_ms;		/* received_ms of the oldest, 0 if none */
	int64_t	buckets[INDEX_STATS_NBUCKETS];	/* messages by age */
	int64_t	quarantine;		/* messages in state quarantine */
	int64_t	quarantine_rcpts;	/* recipients in state quarantine */
	int64_t	spool_messages;		/* location = spool (not yet uploaded) */
	int64_t	spool_bytes;
	int64_t	total_messages;		/* every row, any state */
};

/* index_stats_backlog - the headline figures, ages relative to now_ms */
enum index_status index_stats_backlog(struct index *, int64_t now_ms,
		    struct index_stats_backlog *);

/* index_stats_states - messages and bytes per state (only states present) */
enum index_status index_stats_states(struct index *,
		    int (*fn)(const char *state, int64_t messages, int64_t bytes, void *),
		    void *arg);

/* one recipient domain of the backlog (pending recipients of backlog messages) */
struct index_stats_domain {
	const char	*domain;
	int64_t		 recipients;
	int64_t		 messages;
	int64_t		 oldest_ms;			/* received_ms of the oldest */
	int64_t		 buckets[INDEX_STATS_NBUCKETS];	/* recipients by age */
	int64_t		 mbuckets[INDEX_STATS_NBUCKETS];	/* messages by age, as qshape */
};

/*
 * index_stats_domains - per-domain backlog, largest first (then oldest);
 * at most limit domains (0: all).  *ndomains (may be NULL) gets the number
 * of domains in the backlog whatever the limit.
 */
enum index_status index_stats_domains(struct index *, int64_t now_ms, size_t limit,
		    int (*fn)(const struct index_stats_domain *, void *), void *arg,
		    int64_t *ndomains);

/*
 * index_stats_shape - qshape: the same per-domain figures for the messages
 * matching f (index_replay.h; NULL or state NULL: the backlog), a message
 * counted once per domain where it has a pending recipient (mbuckets), in
 * qshape's order: most messages first, then by name; at most limit rows
 * (0: all) to fn.  *total (NULL: not wanted) gets the TOTAL row, every
 * figure summed over all the domains (whatever the limit), filled before the
 * first row is passed.  The same single join as index_stats_domains.
 */
struct index_filter;
enum index_status index_stats_shape(struct index *, const struct index_filter *,
		    int64_t now_ms, size_t limit,
		    int (*fn)(const struct index_stats_domain *, void *), void *arg,
		    struct index_stats_domain *total);

/* index_stats_errors - failed attempts (code not 2xx; 0 = no reply) since since_ms,
 * per target and code, most frequent first; last_text is the latest reply text */
enum index_status index_stats_errors(struct index *, int64_t since_ms,
		    int (*fn)(const char *target, int code, int64_t count, int64_t last_ms,
		    const char *last_text, void *), void *arg);

/* index_stats_attempts - every attempt ever recorded, per target and code (metrics) */
enum index_status index_stats_attempts(struct index *,
		    int (*fn)(const char *target, int code, int64_t count, void *), void *arg);

/* index_stats_counters - the counters table, by name and label */
enum index_status index_stats_counters(struct index *,
		    int (*fn)(const char *name, const char *label, int64_t value, void *),
		    void *arg);

/* index_stats_control - the control table (paused, rate, achieved_rate, ...) */
enum index_status index_stats_control(struct index *,
		    int (*fn)(const char *key, const char *value, int64_t updated_ms, void *),
		    void *arg);

/*
 * What serve publishes in the control table (index_replay.h CTL_*), read in
 * one go for `status`, /status and the dashboard.  A key never written reads
 * as "" / 0 / has_* = 0: serve never ran, or never probed.
 */
struct index_stats_replay {
	int	paused;			/* control paused = "1" */
	char	rate[32];		/* control rate as the operator wrote it; "" unset */
	int	has_target, has_achieved;
	double	target;			/* msgs/s serve aims at now (0 while paused) */
	double	achieved;		/* msgs/s completed over serve's window */
	int64_t	achieved_ms;		/* when achieved_rate last changed */
	char	primary[16];		/* "up" "down" "unknown"; "" never written */
	int64_t	primary_checked_ms;	/* last probe of the primary; 0 never */
	char	primary_reason[256];	/* why it is down */
	char	storage[16];		/* "ok" "failing"; "" never written */
	int64_t	storage_checked_ms;	/* last probe of the object store; 0 never */
	char	storage_reason[256];
};

/* index_stats_replay - the published replay state (one read of the control table) */
enum index_status index_stats_replay(struct index *, struct index_stats_replay *);

/* index_stats_samples - backlog_samples since since_ms, oldest first; oldest_ms 0 = none */
enum index_status index_stats_samples(struct index *, int64_t since_ms,
		    int (*fn)(int64_t at_ms, int64_t messages, int64_t bytes, int64_t oldest_ms,
		    void *), void *arg);

#endif

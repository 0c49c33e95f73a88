/*
 * index_replay.h - the delivery queue in the index: leases, per-recipient
 * outcomes, attempts, operator queue operations (hold, release, requeue,
 * quarantine, delete), listings; the filters for qshape (index_stats.h).
 *
 * Every change of a message's state goes through one function
 * (index_queue_move, common/index_queue.h) that names the states it may leave
 * and refuses others; each change is logged at debug level as
 * "<id> queue state old -> new".
 *
 * Leases: a worker owns a message while messages.state is 'active' with
 * lease_owner = it and lease_until_ms in the future.  index_replay_lease()
 * picks and marks due messages inside one BEGIN IMMEDIATE transaction, so
 * two workers on the same index never lease the same message.  A lease that
 * expired (crashed worker) is due again.  Outcomes are written per message
 * right after its transaction (index_replay_finish), so a re-run only sends
 * recipients still 'pending'.
 *
 * Control keys (index_kv_get/set in index.h; values are decimal text):
 *   paused "1"|"0", rate msgs/s ("0" = unlimited), and written by serve:
 *   achieved_rate, target_rate, primary_health "up"|"down"|"unknown",
 *   primary_checked_ms (last probe), primary_reason; storage_health
 *   "ok"|"failing", storage_checked_ms, storage_reason.
 */
#ifndef MXS_INDEX_REPLAY_H
#define MXS_INDEX_REPLAY_H
#include <stddef.h>
#include <stdint.h>

#include "index.h"
#include "limits.h"
#include "queue_state.h"

#define CTL_PAUSED		"paused"
#define CTL_RATE		"rate"
#define CTL_ACHIEVED_RATE	"achieved_rate"
#define CTL_TARGET_RATE		"target_rate"
#define CTL_PRIMARY_HEALTH	"primary_health"
#define CTL_PRIMARY_CHECKED	"primary_checked_ms"
#define CTL_PRIMARY_REASON	"primary_reason"
#define CTL_STORAGE_HEALTH	"storage_health"
#define CTL_STORAGE_CHECKED	"storage_checked_ms"
#define CTL_STORAGE_REASON	"storage_reason"

/* message and recipient states: enum queue_state, enum rcpt_state (queue_state.h) */

/*
 * Selection used by list, drain, hold --all ...  Zero/NULL fields do not
 * filter.  state: one state name (queue_state_name), QS_F_BACKLOG (queued
 * active hold quarantine; the default when NULL) or QS_F_ALL.
 */
struct index_filter {
	const char	*state;
	const char	*domain;	/* a recipient in this domain (exact, case-insensitive) */
	const char	*rcpt;		/* a recipient with this address */
	const char	*sender;	/* mail_from ("" matches <>) */
	const char	*id;		/* one message */
	int64_t		 since_ms;	/* received at or after */
	int64_t		 until_ms;	/* received before */
	int64_t		 limit;		/* at most this many rows; 0 = all */
};

struct index_msg_row {
	char		 id[MSGID_MAX];
	enum queue_state state;
	const char	*mail_from;
	const char	*note;		/* "" if none */
	const char	*lease_owner;	/* "" if none */
	int64_t		 received_ms;
	int64_t		 size;
	int64_t		 next_attempt_ms;
	int64_t		 state_ms;
	int64_t		 lease_until_ms;
	int64_t		 expires_ms;	/* 0: received_ms + max_lifetime */
	int64_t		 last_attempt_ms;	/* 0: never */
	int		 attempts;
	int		 nrcpts;	/* all recipients */
	int		 npending;	/* recipients still pending */
	int64_t		 purged_ms;	/* object deleted (retention, delete); 0: still stored */
};

struct index_rcpt_row {
	const char	*rcpt;
	const char	*domain;
	const char	*params;
	enum rcpt_state	 state;
	int		 last_code;	/* 0 if none */
	const char	*last_text;	/* "" if none */
	int64_t		 updated_ms;
	int64_t		 dsn_ms;
};

struct index_attempt_row {
	int64_t		 at_ms;
	const char	*rcpt;
	const char	*target;
	int		 code;
	const char	*enhanced;
	const char	*text;
	const char	*worker;
};

/* one recipient's outcome of a delivery attempt */
struct index_outcome {
	const char	*rcpt;
	const char	*target;
	enum rcpt_state	 state;		/* RCPT_PENDING (retry), _DELIVERED, _QUARANTINE */
	int		 code;		/* 0: no reply */
	const char	*enhanced;
	const char	*text;
};

/*
 * index_replay_lease - lease up to max due messages, oldest first: state
 * 'queued' and (next_attempt_ms <= now, or deadline passed: expires_ms, else
 * received_ms + lifetime_ms), or 'active' with an expired lease.  With
 * flush_before > 0 (drain) a queued message is also due if it was not
 * attempted since flush_before.  ids receive MSGID_MAX-sized strings.
 */
enum index_status index_replay_lease(struct index *, const char *owner, int64_t now,
		    int64_t lease_ms, int64_t lifetime_ms, int64_t flush_before,
		    const struct index_filter *, char (*ids)[MSGID_MAX], int max, int *n);
/* index_replay_renew - extend our lease; INDEX_NOTFOUND if we lost it */
enum index_status index_replay_renew(struct index *, const char *id, const char *owner,
		    int64_t until_ms);
/* index_replay_unlease - give back our lease untouched (due again now) */
enum index_status index_replay_unlease(struct index *, const char *id, const char *owner);
/* index_replay_unlease_owner - give back every lease of owner (crash recovery, shutdown) */
enum index_status index_replay_unlease_owner(struct index *, const char *owner, int *n);
/* index_replay_lease_owners - distinct owners of active leases */
enum index_status index_replay_lease_owners(struct index *,
		    void (*fn)(const char *owner, void *), void *arg);

/*
 * index_replay_finish - record one attempt: attempts rows, recipient states,
 * then the message state in one transaction: no recipient pending ->
 * 'delivered' (or 'quarantine' if any is quarantined); else 'queued' at
 * next_ms.  A message the operator put on hold meanwhile stays on hold.
 * *to (may be NULL): the state it went to, QUEUE_UNKNOWN if we had lost the lease.
 */
enum index_status index_replay_finish(struct index *, const char *id, const char *owner,
		    const struct index_outcome *, size_t n, const char *worker, int64_t now,
		    int64_t next_ms, enum queue_state *to);
/* index_replay_defer - no attempt was possible (storage, no route): due at next_ms */
enum index_status index_replay_defer(struct index *, const char *id, const char *owner,
		    int64_t now, int64_t next_ms, const char *note);
/* index_replay_expire - lifetime over: pending recipients 'expired' (dsn_ms = now if
 * dsn_sent), message 'expired'; *to (may be NULL) as for index_replay_finish */
enum index_status index_replay_expire(struct index *, const char *id, const char *owner,
		    int64_t now, int dsn_sent, const char *note, enum queue_state *to);
/* index_replay_hold_note - put our leased message on hold with a note for the operator */
enum index_status index_replay_hold_note(struct index *, const char *id, const char *owner,
		    int64_t now, const char *note);

/* one message as a worker delivers it (index_replay_job) */
struct index_job {
	struct index_msg_row	 row;
	struct envelope		 env;		/* envelope_free() after use */
	enum index_location	 loc;
	char			 object_key[OBJKEY_MAX];
	char			 spool_path[SPOOL_PATH_MAX];
};

/*
 * index_replay_job - load message id for delivery in one call and two
 * statements (the message, its recipients): its row (strings as for
 * index_replay_get; nrcpts/npending counted from the recipients read), its
 * envelope without the recipient list, its location (for store_fetch_at), and
 * fn for each recipient still pending (fn != 0 stops; the counts stop there
 * too).  Whether the caller still holds the lease is its own check on
 * job->row.  job->env is initialised even on failure.
 */
enum index_status index_replay_job(struct index *, const char *id, struct index_job *job,
		    int (*fn)(const struct index_rcpt_row *, void *), void *arg);

/* index_replay_get - one message row; strings valid until the next call on the handle */
enum index_status index_replay_get(struct index *, const char *id, struct index_msg_row *);
/* index_replay_list - messages matching f, oldest first */
enum index_status index_replay_list(struct index *, const struct index_filter *,
		    int (*fn)(const struct index_msg_row *, void *), void *arg);
/* index_replay_id_width - the longest id among the messages matching f (0: none), to align */
enum index_status index_replay_id_width(struct index *, const struct index_filter *, int *width);
enum index_status index_replay_rcpts(struct index *, const char *id,
		    int (*fn)(const struct index_rcpt_row *, void *), void *arg);
enum index_status index_replay_attempts(struct index *, const char *id,
		    int (*fn)(const struct index_attempt_row *, void *), void *arg);

/*
 * Operator operations on one message.  *changed is 1 if the message was in a
 * state the operation applies to (0: left as it was); INDEX_NOTFOUND if no
 * such message.
 *   hold        queued/active/quarantine -> hold (a worker's lease is dropped)
 *   release     hold -> queued, due now, note cleared; a passed deadline is
 *               moved to now + lifetime_ms
 *   requeue     queued/active -> due now (attempt counter kept)
 *   qrelease    quarantined recipients -> pending, message -> queued due now
 *   delete      -> 'deleted', its pending/quarantined recipients 'deleted'
 */
enum index_status index_replay_hold(struct index *, const char *id, int64_t now, int *changed);
enum index_status index_replay_release(struct index *, const char *id, int64_t now,
		    int64_t lifetime_ms, int *changed);
enum index_status index_replay_requeue(struct index *, const char *id, int64_t now,
		    int *changed);
enum index_status index_replay_qrelease(struct index *, const char *id, int64_t now,
		    int *changed);
enum index_status index_replay_delete(struct index *, const char *id, int64_t now,
		    int *changed);

/*
 * index_replay_purgeable - delivered before cutoff and not purged yet, at most
 * limit: fn(id, object key ("" if none), arg), non-zero stops
 */
enum index_status index_replay_purgeable(struct index *, int64_t cutoff, int limit,
		    int (*fn)(const char *id, const char *key, void *), void *arg);
enum index_status index_replay_mark_purged(struct index *, const char *id, int64_t now);
/* index_replay_mark_missing - no object for id: 'missing' (*changed 0: deleted or missing) */
enum index_status index_replay_mark_missing(struct index *, const char *id, int64_t now,
		    int *changed);
/*
 * index_replay_forget - drop the history of up to limit messages purged
 * before cutoff (their rows, recipients and attempts: the object is gone
 * already) and the backlog samples older than cutoff; *n = messages dropped.
 * Counters (/metrics) are kept elsewhere and do not move.
 */
enum index_status index_replay_forget(struct index *, int64_t cutoff, int limit, int *n);

/*
 * index_replay_prepare_filter - for the other index modules (index_stats.c):
 * head (a SELECT over "messages m" ending in a WHERE clause), the fragments
 * of f as list uses them, then tail; prepared from the handle's cache (give
 * it back with index_unprepare) with f bound.  NULL with *st set (reason:
 * index_error()).
 */
struct sqlite3_stmt *index_replay_prepare_filter(struct index *, const char *head,
		    const struct index_filter *, const char *tail, enum index_status *st);
/* index_replay_count - messages, bytes, oldest received_ms (0 if none) matching f */
enum index_status index_replay_count(struct index *, const struct index_filter *,
		    int64_t *count, int64_t *bytes, int64_t *oldest_ms);
/* index_replay_sample - append a backlog_samples row for now */
enum index_status index_replay_sample(struct index *, int64_t now);

#endif

/*
 * queue_state.h - the states of a message and of a recipient in the
 * delivery queue: one enum each, one name table each (queue_state.c).
 *
 * The index stores the names as text (schema/001_init.sql); the QS_* and
 * RS_* literals below are those texts, for the SQL of the index modules
 * (a literal, not a bound parameter, so SQLite plans along its indexes).
 * Everything else uses the enums and the name/parse functions.
 *
 * Message states:
 *   queued      waiting for its next attempt (next_attempt_ms)
 *   active      leased by a worker (lease_owner, lease_until_ms)
 *   hold        stopped by the operator or the worker (note says why)
 *   quarantine  no recipient pending, one or more quarantined
 *   delivered   every recipient delivered          (final)
 *   expired     lifetime over, pending recipients expired (final)
 *   deleted     deleted by the operator
 *   missing     reindex found no object for it (kept for audit)
 *   adopted     another node adopted it (docs/storage.md "The fleet"): that
 *               node delivers it; never leased here again      (final)
 * The backlog is queued, active, hold and quarantine.
 */
#ifndef MXS_QUEUE_STATE_H
#define MXS_QUEUE_STATE_H

#define QS_QUEUED	"queued"
#define QS_ACTIVE	"active"
#define QS_HOLD		"hold"
#define QS_QUARANTINE	"quarantine"
#define QS_DELIVERED	"delivered"
#define QS_EXPIRED	"expired"
#define QS_DELETED	"deleted"
#define QS_MISSING	"missing"
#define QS_ADOPTED	"adopted"

/* an SQL string literal of a state name: QS_SQL(QS_HOLD) is 'hold' */
#define QS_SQL(name)	"'" name "'"
/* the backlog states as an SQL list, for "state IN " QS_BACKLOG_SQL */
#define QS_BACKLOG_SQL	"(" QS_SQL(QS_QUEUED) ", " QS_SQL(QS_ACTIVE) ", " QS_SQL(QS_HOLD) \
	", " QS_SQL(QS_QUARANTINE) ")"

/* filter pseudo-states (struct index_filter.state): the backlog, or every state */
#define QS_F_BACKLOG	"backlog"
#define QS_F_ALL	"all"

enum queue_state {
	QUEUE_UNKNOWN = -1,	/* a text in the index this program does not know */
	QUEUE_QUEUED = 0,
	QUEUE_ACTIVE,
	QUEUE_HOLD,
	QUEUE_QUARANTINE,
	QUEUE_DELIVERED,
	QUEUE_EXPIRED,
	QUEUE_DELETED,
	QUEUE_MISSING,
	QUEUE_ADOPTED,
	QUEUE_NSTATES,
};

/* a set of message states, for the allowed from-states of a transition */
#define QUEUE_BIT(s)		(1u << (s))
#define QUEUE_BACKLOG_SET	(QUEUE_BIT(QUEUE_QUEUED) | QUEUE_BIT(QUEUE_ACTIVE) |	\
				 QUEUE_BIT(QUEUE_HOLD) | QUEUE_BIT(QUEUE_QUARANTINE))
#define QUEUE_ALL_SET		((1u << QUEUE_NSTATES) - 1)
#define QUEUE_FINAL_SET		(QUEUE_BIT(QUEUE_DELIVERED) | QUEUE_BIT(QUEUE_QUARANTINE) | \
				 QUEUE_BIT(QUEUE_EXPIRED))

#define RS_PENDING	"pending"
#define RS_DELIVERED	"delivered"
#define RS_QUARANTINE	"quarantine"
#define RS_EXPIRED	"expired"
#define RS_DELETED	"deleted"
#define RS_ADOPTED	"adopted"	/* its message was adopted by another node */

enum rcpt_state {
	RCPT_UNKNOWN = -1,
	RCPT_PENDING = 0,
	RCPT_DELIVERED,
	RCPT_QUARANTINE,
	RCPT_EXPIRED,
	RCPT_DELETED,
	RCPT_ADOPTED,
	RCPT_NSTATES,
};

#define RCPT_BIT(s)		(1u << (s))

/* queue_state_name - the stored text of s ("unknown" outside the enum) */
const char	*queue_state_name(enum queue_state s);
/* queue_state_parse - the state named text; QUEUE_UNKNOWN if none */
enum queue_state queue_state_parse(const char *text);
/* queue_state_in - 1 if s is in the set (QUEUE_BIT ...) */
int		 queue_state_in(enum queue_state s, unsigned set);
/* queue_filter_valid - 1 if text names a state, QS_F_BACKLOG or QS_F_ALL */
int		 queue_filter_valid(const char *text);
/* rcpt_state_name/parse - the same for recipients */
const char	*rcpt_state_name(enum rcpt_state s);
enum rcpt_state	 rcpt_state_parse(const char *text);

#endif

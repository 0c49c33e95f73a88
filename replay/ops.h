/*
 * ops.h - the operator's operations on the queue and on a running serve,
 * written once for both front ends: the CLI (cli_ops.c) and the HTTP
 * control API (status_control.c).
 *
 * Entry points: ops_pause, ops_rate, ops_ids, ops_apply.  They only touch
 * the index (control table, queue); what a front end prints, logs or answers
 * stays with it.  Errors: enum index_status, reason in index_error().
 */
#ifndef MXS_OPS_H
#define MXS_OPS_H
#include <stddef.h>
#include <stdint.h>

#include "index_replay.h"

/* the operations on one message (see index_replay.h for what each changes) */
enum ops_op {
	OPS_HOLD,
	OPS_RELEASE,		/* hold -> queued */
	OPS_REQUEUE,
	OPS_QRELEASE,		/* quarantined recipients -> pending */
	OPS_DELETE,		/* the row only: deleting the object is the caller's */
};

/* ops_pause - ask serve to pause (1) or resume (0) */
enum index_status ops_pause(struct index *, int paused);
/* ops_rate - store rate (messages/s, 0 = unlimited, as rate_parse gives it) for serve */
enum index_status ops_rate(struct index *, double rate);
/* ops_ids - the ids of the messages matching f, oldest first; *ids malloc'd (free it) */
enum index_status ops_ids(struct index *, const struct index_filter *,
		    char (**ids)[MSGID_MAX], size_t *n);
/* ops_apply - op on message id at now; *changed 0 if it was not in a state for op */
enum index_status ops_apply(struct index *, enum ops_op, const char *id, int64_t now,
		    int64_t lifetime_ms, int *changed);

#endif

/*
 * ops.c - the operator's operations, once for the CLI and the HTTP control
 * API (see ops.h).  Control values are stored as text the way serve reads
 * them back (rate_parse): paused "1"/"0", rate "%.6g".
 */
#include <stdio.h>
#include <stdlib.h>

#include "ops.h"

/* ops_pause - see ops.h */
enum index_status
ops_pause(struct index *ix, int paused)
{
	return index_kv_set(ix, CTL_PAUSED, paused ? "1" : "0");
}

/* ops_rate - see ops.h */
enum index_status
ops_rate(struct index *ix, double rate)
{
	char val[64];

	snprintf(val, sizeof(val), "%.6g", rate);
	return index_kv_set(ix, CTL_RATE, val);
}

struct ops_list {
	char	(*ids)[MSGID_MAX];
	size_t	  n, cap;
};

/* ops_collect - index_replay_list callback: remember ids (changed only after the walk) */
static int
ops_collect(const struct index_msg_row *m, void *arg)
{
	struct ops_list	*l = arg;
	void		*p;

	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		if ((p = reallocarray(l->ids, l->cap, MSGID_MAX)) == NULL)
			return 1;	/* out of memory: the ids so far */
		l->ids = p;
	}
	snprintf(l->ids[l->n++], MSGID_MAX, "%s", m->id);
	return 0;
}

/* ops_ids - see ops.h */
enum index_status
ops_ids(struct index *ix, const struct index_filter *f, char (**ids)[MSGID_MAX], size_t *n)
{
	struct ops_list		l = { NULL, 0, 0 };
	enum index_status	st;

	st = index_replay_list(ix, f, ops_collect, &l);
	*ids = l.ids;
	*n = l.n;
	return st;
}

/* ops_apply - see ops.h */
enum index_status
ops_apply(struct index *ix, enum ops_op op, const char *id, int64_t now, int64_t lifetime_ms,
    int *changed)
{
	switch (op) {
	case OPS_HOLD:
		return index_replay_hold(ix, id, now, changed);
	case OPS_RELEASE:
		return index_replay_release(ix, id, now, lifetime_ms, changed);
	case OPS_REQUEUE:
		return index_replay_requeue(ix, id, now, changed);
	case OPS_QRELEASE:
		return index_replay_qrelease(ix, id, now, changed);
	case OPS_DELETE:
		return index_replay_delete(ix, id, now, changed);
	}
	*changed = 0;
	return INDEX_PERMFAIL;
}

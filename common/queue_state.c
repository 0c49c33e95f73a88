/*
 * queue_state.c - the one name table of message and recipient states
 * (see queue_state.h).  No I/O, no errors: an unknown text maps to
 * QUEUE_UNKNOWN / RCPT_UNKNOWN and the caller decides.
 */
#include <string.h>

#include "queue_state.h"

static const char *const queue_names[QUEUE_NSTATES] = {
	[QUEUE_QUEUED] = QS_QUEUED,
	[QUEUE_ACTIVE] = QS_ACTIVE,
	[QUEUE_HOLD] = QS_HOLD,
	[QUEUE_QUARANTINE] = QS_QUARANTINE,
	[QUEUE_DELIVERED] = QS_DELIVERED,
	[QUEUE_EXPIRED] = QS_EXPIRED,
	[QUEUE_DELETED] = QS_DELETED,
	[QUEUE_MISSING] = QS_MISSING,
	[QUEUE_ADOPTED] = QS_ADOPTED,
};

static const char *const rcpt_names[RCPT_NSTATES] = {
	[RCPT_PENDING] = RS_PENDING,
	[RCPT_DELIVERED] = RS_DELIVERED,
	[RCPT_QUARANTINE] = RS_QUARANTINE,
	[RCPT_EXPIRED] = RS_EXPIRED,
	[RCPT_DELETED] = RS_DELETED,
	[RCPT_ADOPTED] = RS_ADOPTED,
};

/* qs_lookup - index of text in names[0..n), -1 if absent */
static int
qs_lookup(const char *const *names, int n, const char *text)
{
	for (int i = 0; text != NULL && i < n; i++)
		if (strcmp(names[i], text) == 0)
			return i;
	return -1;
}

/* qs_name - names[s], "unknown" outside 0..n-1 */
static const char *
qs_name(const char *const *names, int n, int s)
{
	return s >= 0 && s < n ? names[s] : "unknown";
}

/* queue_state_name - see queue_state.h */
const char *
queue_state_name(enum queue_state s)
{
	return qs_name(queue_names, QUEUE_NSTATES, s);
}

/* queue_state_parse - see queue_state.h */
enum queue_state
queue_state_parse(const char *text)
{
	return (enum queue_state)qs_lookup(queue_names, QUEUE_NSTATES, text);
}

/* queue_state_in - see queue_state.h */
int
queue_state_in(enum queue_state s, unsigned set)
{
	return s >= 0 && s < QUEUE_NSTATES && (set & QUEUE_BIT(s)) != 0;
}

/* queue_filter_valid - see queue_state.h */
int
queue_filter_valid(const char *text)
{
	return strcmp(text, QS_F_BACKLOG) == 0 || strcmp(text, QS_F_ALL) == 0 ||
	    queue_state_parse(text) != QUEUE_UNKNOWN;
}

/* rcpt_state_name - see queue_state.h */
const char *
rcpt_state_name(enum rcpt_state s)
{
	return qs_name(rcpt_names, RCPT_NSTATES, s);
}

/* rcpt_state_parse - see queue_state.h */
enum rcpt_state
rcpt_state_parse(const char *text)
{
	return (enum rcpt_state)qs_lookup(rcpt_names, RCPT_NSTATES, text);
}

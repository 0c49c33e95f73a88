/*
 * index_queue.c - the one setter of queue states (see index_queue.h): a
 * message's (index_queue_move) and its recipients' (index_queue_rcpt_move).
 *
 * A move is one UPDATE ... WHERE state = old (or IN the from set for
 * recipients), so a row another process moved meanwhile is refused, never
 * overwritten.  A message move whose from set has several states reads the
 * row's state first (index_get_state) to name the old state in the UPDATE and
 * the log line.  Statements come from the handle's cache; errors go to
 * index_error() (index_fail), nothing but the debug trace is logged here.
 */
#include <sqlite3.h>
#include <stdio.h>

#include "index_queue.h"
#include "log.h"

/* iq_bind - bind what the statement asks for of a */
static void
iq_bind(sqlite3_stmt *s, const struct index_move *a)
{
	index_bind_text(s, ":o", a->owner ? a->owner : "");
	if (a->note)
		index_bind_text(s, ":note", a->note);
	if (a->rcpt)
		index_bind_text(s, ":r", a->rcpt);
	index_bind_text(s, ":x", a->text ? a->text : "");
	index_bind_int(s, ":now", a->now);
	index_bind_int(s, ":next", a->next);
	index_bind_int(s, ":u", a->until);
	index_bind_int(s, ":life", a->life);
	index_bind_int(s, ":c", a->code);
	index_bind_int(s, ":sent", a->sent);
}

/* iq_one_state - the state of a set with exactly one member, else QUEUE_UNKNOWN */
static enum queue_state
iq_one_state(unsigned from)
{
	for (int i = 0; i < QUEUE_NSTATES; i++)
		if (from == QUEUE_BIT(i))
			return (enum queue_state)i;
	return QUEUE_UNKNOWN;
}

/* iq_refused - the debug line of a refused move */
static void
iq_refused(const char *id, enum queue_state old, enum queue_state to)
{
	log_debug("%s queue state %s -> %s refused", id, queue_state_name(old),
	    queue_state_name(to));
}

/* index_queue_move - see index_queue.h */
enum index_status
index_queue_move(struct index *ix, const char *id, unsigned from, enum queue_state to,
    const char *set, const char *cond, const struct index_move *a, int *moved)
{
	enum queue_state old = iq_one_state(from);
	sqlite3_stmt	*s;
	enum index_status st;
	char		 sql[1024];
	int		 len, rc;

	*moved = 0;
	if (old == QUEUE_UNKNOWN) {
		if (id == NULL)
			return INDEX_PERMFAIL;
		if ((st = index_get_state(ix, id, &old, NULL)) != INDEX_OK)
			return st;
		if (!queue_state_in(old, from)) {
			iq_refused(id, old, to);
			return INDEX_OK;
		}
	}
	len = snprintf(sql, sizeof(sql), "UPDATE messages SET state = :to%s%s WHERE %s"
	    " AND state = :old%s RETURNING id", set[0] ? ", " : "", set,
	    id ? "id = :id" : "1", cond);
	if (len < 0 || (size_t)len >= sizeof(sql)) {
		index_seterr(ix, "index: query too long");
		return INDEX_PERMFAIL;
	}
	if ((s = index_prep(ix, sql, &st)) == NULL)
		return st;
	if (id)
		index_bind_text(s, ":id", id);
	index_bind_text(s, ":to", queue_state_name(to));
	index_bind_text(s, ":old", queue_state_name(old));
	iq_bind(s, a);
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		(*moved)++;
		log_debug("%s queue state %s -> %s", index_text(s, 0), queue_state_name(old),
		    queue_state_name(to));
	}
	if (*moved == 0 && id && rc == SQLITE_DONE)
		iq_refused(id, old, to);
	return index_rows_end(ix, s, rc, "state");
}

/* index_queue_rcpt_move - see index_queue.h */
enum index_status
index_queue_rcpt_move(struct index *ix, const char *id, unsigned from, enum rcpt_state to,
    const char *set, const char *cond, const struct index_move *a, int *moved)
{
	sqlite3_stmt	*s;
	enum index_status st;
	char		 sql[1024], in[128];
	size_t		 n = 0;
	int		 len;

	*moved = 0;
	in[0] = '\0';
	for (int i = 0; i < RCPT_NSTATES; i++)
		if (from & RCPT_BIT(i))
			n += (size_t)snprintf(in + n, n < sizeof(in) ? sizeof(in) - n : 0, "%s'%s'",
			    n ? ", " : "", rcpt_state_name(i));
	len = snprintf(sql, sizeof(sql), "UPDATE recipients SET state = :to, updated_ms = :now"
	    "%s%s WHERE message_id = :id AND state IN (%s)%s%s", set[0] ? ", " : "", set, in,
	    a->rcpt ? " AND rcpt = :r" : "", cond);
	if (n >= sizeof(in) || len < 0 || (size_t)len >= sizeof(sql)) {
		index_seterr(ix, "index: query too long");
		return INDEX_PERMFAIL;
	}
	if ((s = index_prep(ix, sql, &st)) == NULL)
		return st;
	index_bind_text(s, ":id", id);
	index_bind_text(s, ":to", rcpt_state_name(to));
	iq_bind(s, a);
	if ((st = index_step_done(ix, s, "recipient state")) == INDEX_OK &&
	    (*moved = sqlite3_changes(index_db(ix))) > 0)
		log_debug("%s queue rcpt state (%s) -> %s n=%d%s%s", id, in, rcpt_state_name(to),
		    *moved, a->rcpt ? " to=" : "", a->rcpt ? a->rcpt : "");
	return st;
}

/*
 * index_queue.h - the one place a message or a recipient of the delivery
 * queue changes state (for the index modules: replay/index_replay*.c, adopt,
 * fleet, drill, reindex's "missing").
 *
 * Every change names the states it may leave (a QUEUE_BIT / RCPT_BIT set,
 * queue_state.h); a row in any other state is refused: left as it was,
 * *moved = 0, as OpenSMTPD's single state setter does.  A change is logged
 * at debug level, one line: "<id> queue state old -> new" (a refusal:
 * "... refused"), "<id> queue rcpt state (from) -> to n=N" for recipients.
 * Only the ingest's insert names a first state without this setter (the
 * QS_* literal of its INSERT: a row that did not exist has no state to
 * leave).
 * Errors: enum index_status with index_error(), as every index module;
 * nothing else is logged here.
 */
#ifndef MXS_INDEX_QUEUE_H
#define MXS_INDEX_QUEUE_H
#include <stdint.h>

#include "index.h"
#include "queue_state.h"

/* the lease columns cleared, and the condition that the lease is still ours (:o) */
#define INDEX_QUEUE_UNLEASE	"lease_owner = NULL, lease_until_ms = NULL"
#define INDEX_QUEUE_OURS	" AND lease_owner = :o"

/* the named parameters a move's set and cond may use */
struct index_move {
	const char	*owner;		/* :o */
	const char	*note;		/* :note (bound only when set) */
	const char	*rcpt;		/* :r  (recipient moves: one recipient; NULL: all) */
	const char	*text;		/* :x */
	int64_t		 now;		/* :now */
	int64_t		 next;		/* :next */
	int64_t		 until;		/* :u */
	int64_t		 life;		/* :life */
	int		 code;		/* :c */
	int		 sent;		/* :sent */
};

/*
 * index_queue_move - move message id (NULL: every message cond selects; from
 * must then be one state) from one of the states in from to state to.  set:
 * more "column = expr" assignments ("" for none); cond: more " AND ..."
 * conditions ("" for none); both use the parameters of struct index_move.
 * *moved = messages moved (0: refused).  INDEX_NOTFOUND if id does not exist
 * (checked only when from has more than one state: one state is one UPDATE).
 */
enum index_status index_queue_move(struct index *, const char *id, unsigned from,
		    enum queue_state to, const char *set, const char *cond,
		    const struct index_move *a, int *moved);
/*
 * index_queue_rcpt_move - move the recipients of message id (a->rcpt: that
 * one only) that are in one of the states in from to state to, setting
 * updated_ms = :now and set ("" for none); cond: more " AND ..." conditions.
 * *moved = recipients moved.
 */
enum index_status index_queue_rcpt_move(struct index *, const char *id, unsigned from,
		    enum rcpt_state to, const char *set, const char *cond,
		    const struct index_move *a, int *moved);

#endif

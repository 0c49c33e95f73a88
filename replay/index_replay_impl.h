/*
 * index_replay_impl.h - the statement helpers and the state setter
 * index_replay.c lends to index_replay_read.c and index_replay_ops.c
 * (nothing else includes this).  Errors go to the
 * handle's index_error() (index_fail), as in every index module.
 */
#ifndef MXS_INDEX_REPLAY_IMPL_H
#define MXS_INDEX_REPLAY_IMPL_H
#include <sqlite3.h>
#include <stdint.h>

#include "index_replay.h"
#include "queue_state.h"

/* ir_fail - the handle's last SQLite failure as index_error() and a status */
enum index_status ir_fail(struct index *, const char *what);
/* ir_prep - sql from the handle's cache; NULL after ir_fail; give back: index_unprepare */
sqlite3_stmt	*ir_prep(struct index *, const char *sql, enum index_status *st);
/* ir_bind_text - bind a named parameter if the statement has it */
void		 ir_bind_text(sqlite3_stmt *, const char *name, const char *v);
/* ir_text - column text or "" */
const char	*ir_text(sqlite3_stmt *, int col);
/* ir_prep_filter - head, the WHERE fragments of f, tail, prepared with f bound */
sqlite3_stmt	*ir_prep_filter(struct index *, const char *head, const struct index_filter *f,
		    int with_state, int pending, const char *tail, enum index_status *st);
/* ir_rows_end - give back s after a row loop whose last step returned rc */
enum index_status ir_rows_end(struct index *, sqlite3_stmt *, int rc, const char *what);

/* ir_bind_int - bind a named integer parameter if the statement has it */
void		 ir_bind_int(sqlite3_stmt *, const char *name, int64_t v);
/* ir_step_done - step a statement that returns no rows, then give it back */
enum index_status ir_step_done(struct index *, sqlite3_stmt *, const char *what);
/* ir_end - roll back when st failed, else commit (the reason kept); the outcome */
enum index_status ir_end(struct index *, enum index_status st);

/* the lease columns cleared, and the condition that the lease is still ours */
#define IR_UNLEASE	"lease_owner = NULL, lease_until_ms = NULL"
#define IR_OURS		" AND lease_owner = :o"

struct ir_args {
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

/* ir_state_of - the stored state of message id; INDEX_NOTFOUND if none */
enum index_status ir_state_of(struct index *, const char *id, enum queue_state *state);

/*
 * ir_move - the one setter of a message's state: move message id (NULL:
 * every message cond selects) from one of the states in from to state to,
 * with more assignments set and conditions cond (struct ir_args parameters);
 * *moved = messages moved (0: refused, logged at debug level).
 */
enum index_status ir_move(struct index *, const char *id, unsigned from, enum queue_state to,
		    const char *set, const char *cond, const struct ir_args *a, int *moved);
/* ir_rcpt_move - the same for the recipients of message id (a->rcpt: one only) */
enum index_status ir_rcpt_move(struct index *, const char *id, unsigned from,
		    enum rcpt_state to, const char *set, const char *cond,
		    const struct ir_args *a, int *moved);
/* ir_op - an UPDATE on existing message id binding :id :now :life (index_replay_ops.c) */
enum index_status ir_op(struct index *, const char *sql, const char *id, int64_t now,
		    int64_t life, int *changed);

#endif

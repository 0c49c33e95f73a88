/*
 * index_replay_impl.h - the statement helpers index_replay.c lends to
 * index_replay_read.c (nothing else includes this).  Errors go to the
 * handle's index_error() (index_fail), as in every index module.
 */
#ifndef MXS_INDEX_REPLAY_IMPL_H
#define MXS_INDEX_REPLAY_IMPL_H
#include <sqlite3.h>
#include <stdint.h>

#include "index_replay.h"

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

#endif

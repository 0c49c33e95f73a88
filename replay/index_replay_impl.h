/*
 * index_replay_impl.h - what index_replay.c lends to index_replay_read.c and
 * index_replay_ops.c (nothing else includes this): the filtered statements.
 * The statement helpers are index.h's, the state setter is index_queue.h's.
 * Errors go to the handle's index_error() (index_fail), as in every index
 * module.
 */
#ifndef MXS_INDEX_REPLAY_IMPL_H
#define MXS_INDEX_REPLAY_IMPL_H
#include <sqlite3.h>
#include <stdint.h>

#include "index_queue.h"
#include "index_replay.h"
#include "queue_state.h"

/* ir_prep_filter - head, the WHERE fragments of f, tail, prepared with f bound */
sqlite3_stmt	*ir_prep_filter(struct index *, const char *head, const struct index_filter *f,
		    int with_state, int pending, const char *tail, enum index_status *st);

#endif

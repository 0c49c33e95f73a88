/*
 * index_drill.h - the index side of `mxspool-replay drill`: canary rows.
 *
 * A canary is a message the drill sent through a gateway; its row is marked
 * (messages.drill = 1, schema 007) and held so serve never replays it as mail,
 * counted apart (index_drill_count) and removed for good when the drill ends
 * (index_drill_forget: the row, its recipients and attempts; only drill rows).
 * Errors: enum index_status; the cause logged once here.
 */
#ifndef MXS_INDEX_DRILL_H
#define MXS_INDEX_DRILL_H
#include <stdint.h>

#include "index.h"

/* index_drill_mark - mark id a canary and hold it (state 'hold'); INDEX_NOTFOUND if no row */
enum index_status index_drill_mark(struct index *, const char *id, int64_t now_ms);
/* index_drill_count - canary rows still in the index */
enum index_status index_drill_count(struct index *, int64_t *n);
/* index_drill_forget - delete the canary row id (and its recipients, attempts) */
enum index_status index_drill_forget(struct index *, const char *id);

#endif
